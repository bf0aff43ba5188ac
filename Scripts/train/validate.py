"""Held-out evaluation of RAFT-small checkpoints against zero flow, OpenCV DIS (medium) and Farneback.

Default set (issue 15, "validation that tells the truth"): 640×480 pairs made by ``scenes.py`` from
photographs that training never sees (``photos.VALIDATION_PHOTOS``: three Debian lomiri-wallpapers photos,
matplotlib's grace_hopper, PyWavelets' ascent; training uses ``photos.TRAIN_PHOTOS``) with their own seeds:

* ``--nonrigid`` pairs (seed 615001): one photograph over the whole frame, moved by a homography plus a
  smooth deformation field (non-rigid, perspective);
* ``--layered`` pairs (seed 615002): a photographic background and 2–5 photographic foreground shapes,
  each with its own homography + deformation, occlusions;
* the translation magnitude of pair i is drawn from range i mod 4 of (0–8, 8–22, 22–45, 45–100 px) so
  that every motion bin is populated; every 4th pair (i mod 4 = 1) is grayscale, so grayscale pairs move
  8–22 px and make up most of the 10–25 px bin (the grayscale/colour table shows both);
* 64 + 64 pairs by default (about 32 per bin; the eleventh stage on). Pairs come from sequential generators,
  so ``--nonrigid 16 --layered 16 --identical 4`` gives exactly the 32-pair set of the earlier stages;
* ``--identical`` pairs: frame 1 of the first non-rigid / layered pairs given as both frames (ground
  truth zero): mean |flow| is reported (a still camera must give still flow).

Frames get mild camera effects (shared colour jitter, noise ≤ 1 %, no per-frame changes, no blur or
compression) and are quantised to 8 bits before any method sees them. Results are EPE (px) averaged over
pairs, grouped by the pair's mean ground-truth magnitude: 0–10, 10–25, 25–50, > 50 px, plus all pairs,
non-rigid / layered, 1px and Fl-all (share of pixels with EPE > 3 px and > 5 % of |gt|) over all pairs.
RAFT models run once with 24 iterations; the 12th and 24th predictions are scored. Sizes that are not
multiples of 8 are replicate-padded (RAFT's InputPadder) and cropped back.

A second table says where the error is: EPE over the pixels of all pairs, split into four disjoint classes
(``regions``): pixels whose ground-truth target leaves the frame; pixels within 4 px of a motion boundary
(neighbours' ground truth differs by > 1 px); weakly textured pixels (frame-1 gradient, Gaussian-averaged
with σ = 3 px, below 1 grey level per px: sky, walls, shading); the rest, textured.

A third table splits each bin into its grayscale and its colour pairs (the two are not independent of the
motion: see ``colour_table``). With two or more models, a fourth table compares every other model (24 iterations) and DIS with the last
model given, pair by pair: mean EPE difference ± standard error and pairs won, per bin and overall (pass
the bundled model last; ``finalize`` passes the new model first and the previous one after it).

``--legacy`` gives the first model's set instead (256×320, synthetic.py, seeds 424242 / 525252, the
scikit-image photographs that training also used).

The generated set is cached in ``--cache`` (default ~/.cache/raftkit-validation, about 0.6 GB for the
default set), keyed by a hash of the code and versions that make it; ``--no-cache`` regenerates it.

Usage: validate.py [MODEL ...] [--names NAME ...] [--markdown FILE] [--threads 1]
       (MODEL: train.py checkpoint, compact checkpoint or official-key safetensors)
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

VAL_SEED, PHOTO_SEED = 424242, 525252          # legacy set
NONRIGID_SEED, LAYERED_SEED = 615001, 615002   # photographic 640x480 set
MAG_RANGES = [(0.0, 8.0), (8.0, 22.0), (22.0, 45.0), (45.0, 100.0)]
BINS = [(0, 10), (10, 25), (25, 50), (50, float("inf"))]
BIN_NAMES = ["0–10 px", "10–25 px", "25–50 px", "> 50 px"]
DIS_NAME = "OpenCV DIS (medium)"  # the baseline issue 15 measures against
REGION_NAMES = ["textured", "weakly textured", "near motion boundaries", "leaves the frame"]


def make_photo_set(n_nonrigid, n_layered, n_identical, height=480, width=640):
    """[(name, u1, u2, gt)] of the photographic held-out set (see the module docstring)."""
    from photos import VALIDATION_PHOTOS, load_photos
    from scenes import SceneConfig, SceneFlow
    from photos import read_photo
    missing = [n for n in VALIDATION_PHOTOS if read_photo(n) is None]
    if missing:  # a different set would give numbers that cannot be compared
        raise SystemExit(f"validation photographs missing: {missing} (pip install scikit-image matplotlib "
                         f"PyWavelets; apt-get install lomiri-wallpapers-16.04)")
    bank = load_photos(VALIDATION_PHOTOS, 720, 960)
    out = []
    for kind, n, seed in (("nonrigid", n_nonrigid, NONRIGID_SEED), ("layered", n_layered, LAYERED_SEED)):
        cfg = SceneConfig(height=height, width=width, scene_height=height, scene_width=width,
                          photo_probability=1.0, bg_photo_probability=1.0, static_scene=0.0, subpixel_scene=0.0,
                          static_background=0.0, deform_probability=1.0 if kind == "nonrigid" else 0.6,
                          frame_change=0.0, blur_probability=0.0, jpeg_probability=0.0, noise_max=0.01)
        gen = SceneFlow(cfg, seed=seed, photos=bank, refresh=1.0)
        for i in range(n):
            kw = dict(max_layers=0, min_layers=0) if kind == "nonrigid" else dict(max_layers=5, min_layers=2)
            with torch.no_grad():
                i1, i2, fl, _ = gen.sample(1, mag_range=MAG_RANGES[i % 4], photo_only=True,
                                           gray=torch.tensor([i % 4 == 1]), **kw)
            u1 = (i1[0] * 255).round().byte().permute(1, 2, 0).numpy()
            u2 = (i2[0] * 255).round().byte().permute(1, 2, 0).numpy()
            out.append((f"{kind}{'-gray' if i % 4 == 1 else ''}", u1, u2, fl[0].permute(1, 2, 0).numpy()))
    firsts = [o for o in out if o[0].startswith("nonrigid")][:(n_identical + 1) // 2] + \
             [o for o in out if o[0].startswith("layered")][:n_identical // 2]
    for name, u1, _, gt in firsts[:n_identical]:
        out.append(("identical", u1, u1.copy(), np.zeros_like(gt)))
    return out


def cached_photo_set(n_nonrigid, n_layered, n_identical, cache_dir):
    """make_photo_set through an .npz cache (generating 136 pairs takes about 3 minutes).

    The key hashes everything the pairs depend on: the sources of scenes.py, synthetic.py, photos.py and
    make_photo_set, the seeds and ranges, the counts, and the torch / NumPy / OpenCV versions; the
    photographs themselves are read on a miss only, so a changed package under the same versions would
    go unnoticed (delete the cache after upgrading lomiri-wallpapers or the wheels).
    """
    if cache_dir is None:
        return _generate_photo_set(n_nonrigid, n_layered, n_identical)
    import hashlib
    import inspect
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for name in ("scenes.py", "synthetic.py", "photos.py"):
        with open(os.path.join(here, name), "rb") as fh:
            h.update(fh.read())
    h.update(inspect.getsource(make_photo_set).encode())
    h.update(repr((NONRIGID_SEED, LAYERED_SEED, MAG_RANGES, n_nonrigid, n_layered, n_identical,
                   torch.__version__, np.__version__, cv2.__version__)).encode())
    path = os.path.join(cache_dir, f"photo-set-{h.hexdigest()[:16]}.npz")
    if os.path.exists(path):
        with np.load(path) as z:
            return [(str(k), u1, u2, gt) for k, u1, u2, gt in zip(z["kinds"], z["u1"], z["u2"], z["gt"])]
    data = _generate_photo_set(n_nonrigid, n_layered, n_identical)
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, kinds=np.array([d[0] for d in data]), u1=np.stack([d[1] for d in data]),
             u2=np.stack([d[2] for d in data]), gt=np.stack([d[3] for d in data]))
    os.replace(tmp, path)
    return data


def _generate_photo_set(n_nonrigid, n_layered, n_identical):
    """make_photo_set at 2 torch threads, whatever --threads says: torch's rounding depends on its thread count
    (1 vs 2 threads: ~100 of 125 M samples differ by one 8-bit level), and every published table used 2."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        return make_photo_set(n_nonrigid, n_layered, n_identical)
    finally:
        torch.set_num_threads(threads)


def regions(u1, gt):
    """Class index [H, W] (0..3, REGION_NAMES) of every pixel of a pair; later classes take precedence."""
    H, W = gt.shape[:2]
    ys, xs = np.mgrid[0:H, 0:W]
    tx, ty = xs + gt[..., 0], ys + gt[..., 1]
    leaves = (tx < 0) | (tx > W - 1) | (ty < 0) | (ty > H - 1)
    jump = np.zeros((H, W), bool)
    jump[:, :-1] |= np.linalg.norm(gt[:, 1:] - gt[:, :-1], axis=-1) > 1
    jump[:-1] |= np.linalg.norm(gt[1:] - gt[:-1], axis=-1) > 1
    boundary = cv2.dilate(jump.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    gy, gx = np.gradient(cv2.cvtColor(u1, cv2.COLOR_RGB2GRAY).astype(np.float32))
    weak = cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 3) < 1.0
    cls = np.zeros((H, W), np.int64)
    cls[weak], cls[boundary], cls[leaves] = 1, 2, 3
    return cls


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


def baselines():
    gray = lambda u: cv2.cvtColor(u, cv2.COLOR_RGB2GRAY)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return {"zero flow": lambda u1, u2: np.zeros(u1.shape[:2] + (2,), np.float32),
            DIS_NAME: lambda u1, u2: dis.calc(gray(u1), gray(u2), None),
            "OpenCV Farneback": lambda u1, u2: cv2.calcOpticalFlowFarneback(
                gray(u1), gray(u2), None, 0.5, 5, 15, 3, 5, 1.2, 0)}


def photo_main(a, models):
    t0 = time.time()
    data = cached_photo_set(a.nonrigid, a.layered, a.identical, None if a.no_cache else a.cache)
    pairs = [d for d in data if d[0] != "identical"]
    mags = [float(np.linalg.norm(gt, axis=-1).mean()) for _, _, _, gt in pairs]
    bin_of = [next(k for k, (lo, hi) in enumerate(BINS) if lo <= m < hi) for m in mags]
    counts = [bin_of.count(k) for k in range(len(BINS))]
    print(f"held-out photographic set: {len(pairs)} pairs + {len(data) - len(pairs)} identical at 640x480 "
          f"({time.time() - t0:.1f} s); pairs per bin {counts}; mean |gt| per pair "
          f"{' '.join(f'{m:.1f}' for m in mags)}", flush=True)

    classes = [regions(u1, gt) for _, u1, _, gt in pairs]
    class_px = np.bincount(np.concatenate([c.ravel() for c in classes]), minlength=len(REGION_NAMES))

    # method -> {"pairs": [metrics], "identical": [mean |flow|], "s": seconds per pair, "regions": EPE sums}
    results = {}
    def score(name, outputs, seconds):
        r = results.setdefault(name, {"pairs": [], "identical": [], "s": seconds,
                                      "regions": np.zeros(len(REGION_NAMES))})
        k = 0
        for (kind, _, _, gt), f in zip(data, outputs):
            if kind == "identical":
                r["identical"].append(float(np.linalg.norm(f, axis=-1).mean()))
            else:
                r["pairs"].append(metrics(f, gt))
                r["regions"] += np.bincount(classes[k].ravel(), weights=np.linalg.norm(f - gt, axis=-1).ravel(),
                                            minlength=len(REGION_NAMES))
                k += 1

    if not a.no_baselines:
        for name, fn in baselines().items():
            t = time.time()
            outs = [fn(u1, u2) for _, u1, u2, _ in data]
            score(name, outs, (time.time() - t) / len(data))
            print(f"{name} done", flush=True)
    for label, (model, steps) in models:
        t = time.time()
        outs = {12: [], 24: []}
        for _, u1, u2, _ in data:
            fl = raft_flow(model, u1, u2)
            for n in outs:
                outs[n].append(fl[n])
        sec = (time.time() - t) / len(data)
        for n in outs:
            score(f"{label}, {n} iters", outs[n], sec if n == 24 else None)
        print(f"{label} done ({sec:.1f} s/pair)", flush=True)

    kinds = [d[0] for d in pairs]
    lines = [f"Held-out photographic pairs at 640×480 (`Scripts/train/validate.py`): {len(pairs)} pairs "
             f"({a.nonrigid} smooth non-rigid: homography + deformation of one photograph; {a.layered} layered: "
             f"2–5 photographic shapes over a photographic background, each with its own homography + "
             f"deformation), {sum('gray' in k for k in kinds)} of them grayscale, made from photographs that "
             f"training never sees (seeds {NONRIGID_SEED} / {LAYERED_SEED}), 8-bit frames, all pixels valid. "
             f"EPE in px averaged over the pairs of each bin of mean ground-truth motion (pairs per bin in "
             f"brackets); 1px and Fl-all in % of pixels over all pairs; identical: mean |flow| on "
             f"{len(data) - len(pairs)} pairs of identical frames (ground truth 0).",
             "",
             "| method | " + " | ".join(f"{b} ({c})" for b, c in zip(BIN_NAMES, counts)) +
             f" | all ({len(pairs)}) | non-rigid | layered | 1px | Fl-all | identical: mean \\|flow\\| | s/pair (1 thread) |",
             "|---" * (len(BINS) + 8) + "|"]
    for name, r in results.items():
        ps = r["pairs"]
        cells = []
        for k in range(len(BINS)):
            v = [m["epe"] for m, b in zip(ps, bin_of) if b == k]
            cells.append(f"{np.mean(v):.2f}" if v else "–")
        allv = np.mean([m["epe"] for m in ps])
        nr = np.mean([m["epe"] for m, kd in zip(ps, kinds) if kd.startswith("nonrigid")])
        ly = np.mean([m["epe"] for m, kd in zip(ps, kinds) if kd.startswith("layered")])
        ident = f"{np.mean(r['identical']):.3f}" if r["identical"] else "–"
        tstr = f"{r['s']:.2f}" if r["s"] is not None else "(same pass)"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {allv:.2f} | {nr:.2f} | {ly:.2f} | "
                     f"{100 * np.mean([m['1px'] for m in ps]):.1f} | {100 * np.mean([m['fl'] for m in ps]):.1f} | "
                     f"{ident} | {tstr} |")
    share = 100 * class_px / class_px.sum()
    lines += ["", f"Where the error is: EPE (px) over all pixels of the {len(pairs)} pairs in each class (share of the pixels in "
              "brackets); classes as in `validate.py`'s docstring.", "",
              "| method | " + " | ".join(f"{n} ({v:.0f} %)" for n, v in zip(REGION_NAMES, share)) + " |",
              "|---" * (len(REGION_NAMES) + 1) + "|"]
    for name, r in results.items():
        if name != "zero flow":
            lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in r["regions"] / class_px) + " |")
    lines += colour_table(results, ["gray" in k for k in kinds], bin_of)
    if len(models) >= 2:
        for ref in dict.fromkeys([models[-1][0]] + (a.paired or [])):  # in order, each once
            lines += paired_table(results, f"{ref}, 24 iters", bin_of, counts)
    return "\n".join(lines)


def colour_table(results, gray, bin_of):
    """Markdown lines: EPE of the grayscale and the colour pairs of each bin, for DIS and the RAFT rows.

    Every 4th pair is grayscale and draws its translation from the 8–22 px range, so the 10–25 px bin is
    mostly grayscale pairs and the other bins mostly colour: this table keeps a colour effect from being
    read as a motion effect. DIS and Farneback always run on grayscale; RAFT sees three equal channels.
    """
    gray, bins = np.array(gray), np.array(bin_of)
    columns = [(f"{b} {'gray' if g else 'colour'}", (bins == k) & (gray == g))
               for k, b in enumerate(BIN_NAMES) for g in (True, False)] + [("all gray", gray), ("all colour", ~gray)]
    sels = [sel for _, sel in columns]
    heads = [f"{label} ({int(sel.sum())})" for label, sel in columns]
    lines = ["", "Grayscale and colour pairs: EPE (px) averaged over the pairs of each bin that are grayscale or colour "
             "(pairs in brackets).", "", "| method | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for name, r in results.items():
        if name == "zero flow" or name.endswith(", 12 iters"):
            continue
        epe = np.array([m["epe"] for m in r["pairs"]])
        lines.append(f"| {name} | " + " | ".join(f"{epe[s].mean():.2f}" if s.any() else "–" for s in sels) + " |")
    return lines


def paired_table(results, reference, bin_of, counts):
    """Markdown lines: each other RAFT model at 24 iterations and DIS, pair by pair against ``reference``.

    When a bin has few pairs, one or two decide its mean; the paired view says whether a difference is
    carried by most pairs or by one: mean of (row EPE − reference EPE) over the pairs, its standard error
    (sample s.d. / √n), and on how many pairs the row is lower.
    """
    ref = np.array([m["epe"] for m in results[reference]["pairs"]])
    rows = [n for n in results if n.endswith(", 24 iters") and n != reference] + \
        ([DIS_NAME] if DIS_NAME in results else [])
    lines = ["", f"Pair by pair against {reference}: mean EPE difference (row − reference, px; negative: the row "
             "is better) ± its standard error, and the pairs where the row's EPE is lower.", "",
             "| method | " + " | ".join(f"{b} ({c})" for b, c in zip(BIN_NAMES, counts)) + f" | all ({len(ref)}) |",
             "|---" * (len(BINS) + 2) + "|"]
    bins = np.array(bin_of)
    for name in rows:
        d = np.array([m["epe"] for m in results[name]["pairs"]]) - ref
        cells = []
        for sel in [bins == k for k in range(len(BINS))] + [np.ones(len(d), bool)]:
            v = d[sel]
            se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
            cells.append(f"{v.mean():+.2f} ± {se:.2f} ({int((v < 0).sum())}/{len(v)})" if len(v) else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def legacy_main(a, models):
    t0 = time.time()
    sets = {"synthetic": make_set(a.pairs, VAL_SEED, a.height, a.width, 0.3),
            "photographic": make_set(a.photo_pairs, PHOTO_SEED, a.height, a.width, 1.0)}
    print(f"held-out set: {a.pairs} + {a.photo_pairs} pairs at {a.height}x{a.width} ({time.time() - t0:.1f} s)",
          flush=True)
    methods = {} if a.no_baselines else baselines()
    rows = {}  # (method, set) -> metrics, seconds per pair
    for sname, data in sets.items():
        for mname, fn in methods.items():
            t = time.time()
            ms = [metrics(fn(u1, u2), gt) for u1, u2, gt in data]
            rows[(mname, sname)] = ({k: np.mean([m[k] for m in ms]) for k in ms[0]}, (time.time() - t) / len(data))
        for label, (model, steps) in models:
            t = time.time()
            res = {12: [], 24: []}
            for u1, u2, gt in data:
                fl = raft_flow(model, u1, u2)
                for n in res:
                    res[n].append(metrics(fl[n], gt))
            dt = (time.time() - t) / len(data)
            for n in res:
                rows[(f"{label}, {n} iters", sname)] = (
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
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", help="train.py checkpoints or official-key safetensors")
    p.add_argument("--names", nargs="*", default=None, help="row labels of the models (default: RAFT-small (N steps))")
    p.add_argument("--nonrigid", type=int, default=64, help="the first 16 are the 32-pair set of the tenth stage and before")
    p.add_argument("--layered", type=int, default=64, help="the first 16 are the 32-pair set of the tenth stage and before")
    p.add_argument("--identical", type=int, default=8)
    p.add_argument("--legacy", action="store_true", help="the first model's 256x320 synthetic set instead")
    p.add_argument("--pairs", type=int, default=50, help="legacy set")
    p.add_argument("--photo-pairs", type=int, default=10, help="legacy set")
    p.add_argument("--height", type=int, default=256, help="legacy set")
    p.add_argument("--width", type=int, default=320, help="legacy set")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/raftkit-validation"),
                   help="folder for the generated held-out set (keyed by a hash of its sources)")
    p.add_argument("--no-cache", action="store_true", help="always generate the held-out set")
    p.add_argument("--markdown", default=None, help="also write the table to this file")
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--paired", nargs="*", default=None, metavar="NAME",
                   help="also pair every model against each of these models (their --names); the last model always")
    a = p.parse_intermixed_args()  # models may also follow options (finalize CKPT [MODEL …] --names …)
    torch.set_num_threads(a.threads)
    cv2.setNumThreads(a.threads)
    models = []
    if a.paired and not set(a.paired) <= set(a.names or []):
        p.error(f"--paired names no model of --names: {sorted(set(a.paired) - set(a.names or []))}")
    for i, path in enumerate(a.models):
        model, steps = load_model(path)
        label = a.names[i] if a.names and i < len(a.names) else f"RAFT-small ({steps} steps)"
        models.append((label, (model, steps)))
    table = legacy_main(a, models) if a.legacy else photo_main(a, models)
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write(table + "\n")


if __name__ == "__main__":
    main()
