"""Held-out evaluation of a RAFT-small checkpoint against zero flow, OpenCV DIS (medium) and Farneback.

The held-out set is made by synthetic.py with seeds never used for training (training uses 1234 by
default): ``--pairs`` mixed pairs (seed 424242, procedural + photographic textures) and ``--photo-pairs``
pairs whose every layer is a scikit-image photograph (seed 525252), at ``--height`` × ``--width``.
Frames are quantised to 8 bits (as they would be read from PNG) before every method sees them.
Sizes that are not multiples of 8 are replicate-padded (RAFT's InputPadder, 'sintel' mode) and cropped back.

Metrics over all pixels (every pixel has exact ground truth): EPE (mean end-point error, px), 1px (share of
pixels with EPE < 1), Fl-all (share with EPE > 3 px and > 5 % of |gt|, KITTI's outlier rate).

Usage: validate.py CHECKPOINT_OR_SAFETENSORS [--markdown FILE] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic import SyntheticConfig, SyntheticFlow  # noqa: E402

VAL_SEED, PHOTO_SEED = 424242, 525252


def make_set(n, seed, height, width, photo_probability, batch=5):
    cfg = SyntheticConfig(height=height, width=width, photo_probability=photo_probability)
    gen = SyntheticFlow(cfg, seed=seed, refresh=1.0)
    out = []
    for i in range(0, n, batch):
        b = min(batch, n - i)
        with torch.no_grad():
            i1, i2, fl, _ = gen.sample(b)
        for k in range(b):
            u1 = (i1[k] * 255).round().byte().permute(1, 2, 0).numpy()
            u2 = (i2[k] * 255).round().byte().permute(1, 2, 0).numpy()
            out.append((u1, u2, fl[k].permute(1, 2, 0).numpy()))
    return out


def metrics(pred, gt):
    epe = np.linalg.norm(pred - gt, axis=-1)
    mag = np.linalg.norm(gt, axis=-1)
    return {"epe": epe.mean(), "1px": (epe < 1).mean(), "fl": ((epe > 3) & (epe > 0.05 * mag)).mean()}


def load_model(path):
    from torchvision.models.optical_flow import raft_small
    m = raft_small(weights=None)
    if path.endswith(".safetensors"):
        from safetensors import safe_open
        from safetensors.torch import load_file
        from export import from_official
        m.load_state_dict(from_official(load_file(path)))
        with safe_open(path, "pt") as fh:
            steps = (fh.metadata() or {}).get("total_steps", "?")
    else:
        from export import load_checkpoint
        ck = load_checkpoint(path)
        m.load_state_dict({k: v.float() for k, v in ck["model"].items()})
        steps = ck.get("total_steps", ck.get("step"))
    return m.eval(), steps


def raft_flow(model, u1, u2, iters=(12, 24)):
    """Returns {iters: flow [H, W, 2]} for uint8 HxWx3 frames; one forward pass of max(iters)."""
    H, W = u1.shape[:2]
    x1 = torch.from_numpy(u1).permute(2, 0, 1)[None].float() / 255 * 2 - 1
    x2 = torch.from_numpy(u2).permute(2, 0, 1)[None].float() / 255 * 2 - 1
    ph, pw = (-H) % 8, (-W) % 8
    pad = [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]
    x1, x2 = F.pad(x1, pad, mode="replicate"), F.pad(x2, pad, mode="replicate")
    with torch.no_grad():
        preds = model(x1, x2, num_flow_updates=max(iters))
    return {n: preds[n - 1][0, :, pad[2]:pad[2] + H, pad[0]:pad[0] + W].permute(1, 2, 0).numpy() for n in iters}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", default=None, help="train.py checkpoint or official-key safetensors")
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--photo-pairs", type=int, default=10)
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--markdown", default=None, help="also write the table to this file")
    p.add_argument("--no-baselines", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cv2.setNumThreads(a.threads)

    t0 = time.time()
    sets = {"synthetic": make_set(a.pairs, VAL_SEED, a.height, a.width, 0.3),
            "photographic": make_set(a.photo_pairs, PHOTO_SEED, a.height, a.width, 1.0)}
    print(f"held-out set: {a.pairs} + {a.photo_pairs} pairs at {a.height}x{a.width} ({time.time() - t0:.1f} s)",
          flush=True)

    methods = {}
    if not a.no_baselines:
        methods["zero flow"] = lambda u1, u2: np.zeros(u1.shape[:2] + (2,), np.float32)
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        gray = lambda u: cv2.cvtColor(u, cv2.COLOR_RGB2GRAY)
        methods["OpenCV DIS (medium)"] = lambda u1, u2: dis.calc(gray(u1), gray(u2), None)
        methods["OpenCV Farneback"] = lambda u1, u2: cv2.calcOpticalFlowFarneback(
            gray(u1), gray(u2), None, 0.5, 5, 15, 3, 5, 1.2, 0)
    model, steps = (load_model(a.model) if a.model else (None, None))

    rows = {}  # (method, set) -> metrics, seconds per pair
    for sname, data in sets.items():
        for mname, fn in methods.items():
            t = time.time()
            ms = [metrics(fn(u1, u2), gt) for u1, u2, gt in data]
            rows[(mname, sname)] = ({k: np.mean([m[k] for m in ms]) for k in ms[0]}, (time.time() - t) / len(data))
        if model is not None:
            t = time.time()
            res = {12: [], 24: []}
            for u1, u2, gt in data:
                fl = raft_flow(model, u1, u2)
                for n in res:
                    res[n].append(metrics(fl[n], gt))
            dt = (time.time() - t) / len(data)
            for n in res:
                rows[(f"RAFT-small ({steps} steps), {n} iters", sname)] = (
                    {k: np.mean([m[k] for m in res[n]]) for k in res[n][0]}, dt if n == 24 else None)
        print(f"{sname} done", flush=True)

    names = list(dict.fromkeys(m for m, _ in rows))
    lines = [f"Held-out synthetic pairs at {a.height}×{a.width} (seeds {VAL_SEED} / {PHOTO_SEED}; training uses 1234), "
             f"8-bit frames, all pixels valid. EPE in px (lower is better), 1px and Fl-all in % of pixels.",
             "",
             f"| method | EPE (synthetic, {a.pairs}) | 1px | Fl-all | EPE (photographic, {a.photo_pairs}) | 1px | Fl-all | s/pair (1 thread) |",
             "|---|---|---|---|---|---|---|---|"]
    for n in names:
        s, ts = rows[(n, "synthetic")]
        ph, _ = rows[(n, "photographic")]
        tstr = f"{ts:.2f}" if ts is not None else "(same pass)"
        lines.append(f"| {n} | {s['epe']:.2f} | {100 * s['1px']:.1f} | {100 * s['fl']:.1f} | "
                     f"{ph['epe']:.2f} | {100 * ph['1px']:.1f} | {100 * ph['fl']:.1f} | {tstr} |")
    table = "\n".join(lines)
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write(table + "\n")


if __name__ == "__main__":
    main()
