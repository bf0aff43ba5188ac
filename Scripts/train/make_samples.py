"""Writes the sample frame pairs in Samples/ (PNG frames + Middlebury .flo ground truth + flow PNG).

Made by synthetic.py with seeds never used in training (training: 1234; validation: 424242, 525252).
Each pair: ``<name>/frame1.png``, ``<name>/frame2.png``, ``<name>/flow.flo`` (exact ground truth of frame 1
-> frame 2), ``<name>/flow.png`` (Middlebury colour coding, max radius = max |gt|, for looking at).
Photographic textures come only from the scikit-image images that are explicitly public domain or CC0
(``PHOTO_NAMES_STRICT``), since the frames redistribute their pixels. Re-running gives byte-identical .flo files on the same torch version (seeded, CPU).

Usage: make_samples.py [--out Samples]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic import PHOTO_NAMES_STRICT, SyntheticConfig, SyntheticFlow, read_flo, write_flo  # noqa: E402

# name, height, width, seed, photo_probability, what
PAIRS = [
    ("layers-256x320", 256, 320, 910001, 0.3, "procedural textures, mixed shapes"),
    ("layers-250x330", 250, 330, 910002, 0.3, "size not a multiple of 8 (needs padding)"),
    ("photo-300x400", 300, 400, 910003, 1.0, "every layer a scikit-image photograph"),
    ("layers-384x512", 384, 512, 910004, 0.3, "larger frame, larger motions"),
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="Samples")
    a = p.parse_args()
    torch.set_num_threads(1)
    from torchvision.utils import flow_to_image
    summary = []
    for name, h, w, seed, photo, what in PAIRS:
        cfg = SyntheticConfig(height=h, width=w, photo_probability=photo,
                              gray_probability=1.0 if name.startswith("gray") else 0.15)
        gen = SyntheticFlow(cfg, seed=seed, refresh=1.0, photo_names=PHOTO_NAMES_STRICT)
        with torch.no_grad():
            i1, i2, fl, _ = gen.sample(1)
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        for k, img in ((1, i1), (2, i2)):
            u8 = (img[0] * 255).round().byte().permute(1, 2, 0).numpy()
            cv2.imwrite(os.path.join(d, f"frame{k}.png"), u8[..., ::-1].copy())
        f = fl[0].permute(1, 2, 0).numpy().astype(np.float32)
        write_flo(os.path.join(d, "flow.flo"), f)
        assert np.array_equal(read_flo(os.path.join(d, "flow.flo")), f)
        vis = flow_to_image(fl[0]).permute(1, 2, 0).numpy()
        cv2.imwrite(os.path.join(d, "flow.png"), vis[..., ::-1].copy())
        mag = np.linalg.norm(f, axis=-1)
        info = {"name": name, "height": h, "width": w, "seed": seed, "photo_probability": photo, "what": what,
                "flow_u_range": [float(f[..., 0].min()), float(f[..., 0].max())],
                "flow_v_range": [float(f[..., 1].min()), float(f[..., 1].max())],
                "flow_mag_mean": float(mag.mean()), "flow_mag_max": float(mag.max())}
        summary.append(info)
        print(json.dumps(info))
    with open(os.path.join(a.out, "samples.json"), "w") as fh:
        json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
