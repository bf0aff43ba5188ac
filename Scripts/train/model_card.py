"""Writes Models/README.md (the model card) from a training checkpoint and validate.py's markdown table.

Usage: model_card.py CHECKPOINT --validation Models/validation.md [--out Models/README.md]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import history_markdown, load_checkpoint  # noqa: E402
from synthetic import PHOTO_LICENCES, PHOTO_NAMES  # noqa: E402

CARD = """# Default model: RAFT-small trained on synthetic data

`raft-small-default.safetensors` is the model `raftflow` uses when no weights are given. It was trained from
scratch for RAFTKit by `Scripts/train/` (no official or torchvision pretrained weights were used, and no code
from the official RAFT repository), so it can be redistributed with the package.

| | |
|---|---|
| architecture | RAFT-small (Teed & Deng, ECCV 2020): SmallEncoder fnet (128-d, instance norm) and cnet (160-d = 96 hidden + 64 context, no norm), 4-level all-pairs correlation pyramid, radius 3, ConvGRU 3×3 (hidden 96), no mask head (bilinear ×8 upsampling); trained as torchvision's `raft_small(weights=None)`, which is arithmetically the official RAFT-small (raft-spec §13) |
| parameters | 990,162 (106 tensors) |
| file | float32 safetensors, official RAFT key names (`fnet.*`, `cnet.*`, `update_block.encoder.*`, `update_block.gru.conv{{z,r,q}}`, `update_block.flow_head.*`; no `module.` prefix), {size} bytes, SHA-256 `{sha}` |
| input | two RGB frames, normalised `2·(x/255) − 1`, padded to a multiple of 8 |
| training data | synthetic layered scenes generated on the fly (`Scripts/train/synthetic.py`, seed {seed}): textured background + 2–6 foreground polygons/ellipses/blobs, independent affine motions (translation ≤ ±40 px per axis at 496 px width, scaled to the crop; rotation ±10°; scale ±12 %), occlusions, colour/photometric augmentation, sensor noise; exact ground truth |
| training | {steps} optimizer steps, batch {batch}, {h}×{w} crops, {iters} unrolled iterations, AdamW lr {lr} OneCycle (linear, pct_start 0.05) over {num_steps} steps, weight decay 1e-4, grad clip 1.0, sequence loss γ = 0.8; {wall:.2f} h wall time on {device} |
| resumable checkpoint | `raft-small-train.pt` (AdamW moments bfloat16, scheduler, step, RNG states, history; the model weights are read from `raft-small-default.safetensors` next to it): `train.py --resume` or `--init` (see `Scripts/train/README.md`) |

**What to expect.** This is a small model trained briefly ({steps} steps on a shared 2-core CPU) on simple
synthetic scenes; the published RAFT-small checkpoints were trained for about 100k–200k steps on FlyingChairs /
FlyingThings3D on GPUs. Judge it by the validation table below (against zero flow and OpenCV's DIS and
Farneback on the same held-out pairs); it is far from the published accuracy on Sintel/KITTI, and motions
much larger than those it was trained on (about {tmax:.0f} px at its {h}×{w} training size) are outside what it
saw. Train it longer (on a GPU) with the commands in `Scripts/train/README.md`; nothing in the loading path
changes.

## Validation

{validation}

## Training command

```
{command}
```

Export / validation / this card:

```
Scripts/train/finalize <run-dir>/checkpoint.pt
```

## Training history

{history}

## Licences of the training textures

Procedural textures (multi-octave noise, stripes, checkerboards, thresholded noise) are generated. The
photographic textures are scikit-image's sample images that ship inside its wheel (`skimage/data/`,
nothing is downloaded); their licences as stated in scikit-image's own documentation (the docstrings of
`skimage.data.<name>`, scikit-image 0.26):

| image | licence |
|---|---|
{licences}

Two images (`coins`, `immunohistochemistry`) are documented only as having "no known copyright
restrictions"; they were used as training and validation textures, but no pixels of theirs are
redistributed (the sample frames in `Samples/` use only the explicitly public-domain / CC0 images).
The trained weights are a product of this project and are distributed under the project's licence.
"""


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("checkpoint")
    p.add_argument("--validation", default="Models/validation.md")
    p.add_argument("--weights", default="Models/raft-small-default.safetensors")
    p.add_argument("--out", default="Models/README.md")
    a = p.parse_args()
    ck = load_checkpoint(a.checkpoint)
    hist = ck.get("history", [])
    args = ck["args"]
    last = hist[-1] if hist else {}
    blob = open(a.weights, "rb").read()
    validation = open(a.validation).read().strip() if os.path.exists(a.validation) else "(not run yet)"
    command = (f"Scripts/train/train.py --out <run-dir> --num-steps {args['num_steps']} --batch {args['batch']} "
               f"--height {args['height']} --width {args['width']} --iters {args['iters']} --lr {args['lr']} "
               f"--seed {args['seed']} --threads {args.get('threads', 1)} --deadline <HH:MM>")
    lic = "\n".join(f"| `{n}` | {PHOTO_LICENCES[n]} |" for n in PHOTO_NAMES)
    devices = sorted({f"{h['device_name']} ({h['threads']} thread{'s' if h['threads'] > 1 else ''})" for h in hist})
    text = CARD.format(size=len(blob), sha=hashlib.sha256(blob).hexdigest(), seed=args["seed"],
                       steps=ck.get("total_steps", ck["step"]), batch=args["batch"], h=args["height"],
                       w=args["width"], iters=args["iters"], lr=args["lr"], num_steps=args["num_steps"],
                       wall=sum(h["wall_s"] for h in hist) / 3600, device=", ".join(devices) or "?",
                       tmax=40 * args["width"] / 496 * 1.4, validation=validation, command=command,
                       history=history_markdown(hist), licences=lic)
    with open(a.out, "w") as fh:
        fh.write(text)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
