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
from photos import LICENCES, TRAIN_PHOTOS, VALIDATION_PHOTOS  # noqa: E402

DATA_LAYERS = ("synthetic layered scenes generated on the fly (`Scripts/train/synthetic.py`): textured background + "
               "2–6 foreground polygons/ellipses/blobs, independent affine motions (translation ≤ ±40 px per axis at "
               "496 px width, scaled to the crop; rotation ±10°; scale ±12 %), occlusions, colour/photometric "
               "augmentation, sensor noise; exact ground truth")
DATA_SCENES = ("scenes generated on the fly (`Scripts/train/scenes.py`), motions drawn for a 368×496 scene and "
               "cropped: photographic or procedural background + 0–5 foreground shapes, each moved by a "
               "homography plus a smooth deformation field (exact ground truth by fixed-point inversion), "
               "heavy-tailed translations (tail exponent 3.5, from the ninth stage 2.5: about half of the pixels "
               "under 20 px, a fifth to a quarter over 50 px, 4 % over 100 px), the background moving as much as "
               "the foreground, static, sub-pixel and (one arm of the latest stage) small-motion scenes whose "
               "every motion is scaled to a few px, exact-copy (identical) pairs and over- or under-exposed pairs "
               "with large clipped flat areas (later stages); grayscale pairs in every batch, "
               "brightness/contrast/gamma changes between frames, blur, noise, JPEG-like compression, 8-bit "
               "frames")

CARD = """# Default model: RAFT-small trained on synthetic data

`raft-small-default.safetensors` is the model `raftflow` uses when no weights are given. It was trained from
scratch for RAFTKit by `Scripts/train/` (no official or torchvision pretrained weights were used, and no code
from the official RAFT repository), so it can be redistributed with the package.

| | |
|---|---|
| architecture | RAFT-small (Teed & Deng, ECCV 2020): SmallEncoder fnet (128-d, instance norm) and cnet (160-d = 96 hidden + 64 context, no norm), 4-level all-pairs correlation pyramid, radius 3, ConvGRU 3×3 (hidden 96), no mask head (bilinear ×8 upsampling); trained as torchvision's `raft_small(weights=None)`, which is arithmetically the official RAFT-small (torchvision/models/optical_flow/raft.py against core/raft.py) |
| parameters | 990,162 (106 tensors) |
| file | float32 safetensors, official RAFT key names (`fnet.*`, `cnet.*`, `update_block.encoder.*`, `update_block.gru.conv{{z,r,q}}`, `update_block.flow_head.*`; no `module.` prefix), {size} bytes, SHA-256 `{sha}` |
| input | two RGB frames, normalised `2·(x/255) − 1`, padded to a multiple of 8 |
| training data | {data} |
| training | {steps} optimizer steps, batch {batch}, {h}×{w} crops, {iters} unrolled iterations, AdamW lr {lr} OneCycle (linear, pct_start 0.05) over {num_steps} steps, weight decay 1e-4, grad clip 1.0, sequence loss γ = 0.8; {wall:.2f} h wall time on {device}{soup} |
| resumable checkpoint | `raft-small-train.pt` (AdamW moments bfloat16, scheduler, step, RNG states, history; the model weights are read from `raft-small-default.safetensors` next to it): `train.py --resume` or `--init` (see `Scripts/train/README.md`) |

**What to expect.** This is a small model trained briefly ({steps} steps on a shared 2-core CPU) on
synthetic scenes; the published RAFT-small checkpoints were trained for about 100k–200k steps on FlyingChairs /
FlyingThings3D on GPUs. Judge it by the validation table below (against zero flow and OpenCV's DIS and
Farneback on the same held-out pairs); it is far from the published accuracy on Sintel/KITTI, and motions
much larger than those it was trained on ({tmax}) are outside what it saw. Train it longer (on a GPU) with the commands in `Scripts/train/README.md`; nothing in the loading path
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
photographs ship inside packages (nothing is downloaded): scikit-image's sample images (`skimage/data/`,
licences as stated in the docstrings of `skimage.data.<name>`, scikit-image 0.26) and, for the stages
trained with `scenes.py`, the CC-BY-4.0 / CC0 photographs of Debian's `lomiri-wallpapers-16.04`
(`/usr/share/backgrounds/`, licences from the package's DEP-5 copyright file; its CC-BY-SA photographs are
not used). `Scripts/train/photos.py` holds the list.

| image | licence | used for |
|---|---|---|
{licences}

Two images (`coins`, `immunohistochemistry`) are documented only as having "no known copyright
restrictions"; they were used as training textures, but no pixels of theirs are redistributed (the sample
frames in `Samples/` use only the explicitly public-domain / CC0 images). Attribution for the CC-BY-4.0
photographs: Aitzol Berasategi, Trevor "Freespace", Jakub Mede (via Debian's lomiri-wallpapers-16.04).
The validation photographs are never used for training.

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
               f"--seed {args['seed']} --threads {args.get('threads', 1)} --data {args.get('data', 'layers')} "
               f"--deadline <HH:MM>" + (" --init <previous checkpoint>" if args.get("init") else ""))
    for flag, key in (("--init-optimizer", "init_optimizer"), ("--static-scene", "static_scene"),
                      ("--subpixel-scene", "subpixel_scene"), ("--identical-scene", "identical_scene"),
                      ("--saturate", "saturate"), ("--smooth-texture", "smooth_texture"),
                      ("--tail-power", "tail_power"), ("--iters-max", "iters_max")):
        value = args.get(key)
        if value is True:
            command += f" {flag}"
        elif value not in (None, False):
            command += f" {flag} {value}"
    # soup.py: the last stage is the mean of the weights of arms trained side by side from the same start
    soup_note, lr = "", args["lr"]
    if last.get("soup"):
        arms = [h for h in hist if h.get("run") in last.get("arms", [])]
        def distinct(key):
            values = sorted({h[key] for h in arms})
            return " and ".join(map(str, values)), len(values)
        (seeds, n_seeds), (lrs, n_lrs) = distinct("seed"), distinct("lr")
        lr = lrs + (" (one per arm)" if n_lrs > 1 else "")  # the arms' peak rates, not only the first arm's
        soup_note = (f"; the last stage is a uniform model soup: {len(arms)} arms trained side by side from "
                     f"the same weights (lr {lrs}; "
                     f"data seed{'s' if n_seeds > 1 else ''} {seeds}), their weights "
                     f"averaged (`Scripts/train/soup.py`), so the step count and the wall time include every arm's")
    uses_scenes = any(h.get("data") == "scenes" for h in hist)
    rows = [(f"skimage:{n}", "training") for n in PHOTO_NAMES]
    if uses_scenes:
        rows += [(n, "training (scenes.py stages)") for n in TRAIN_PHOTOS if not n.startswith("skimage:")
                 or n[len("skimage:"):] not in PHOTO_NAMES]
    rows += [(n, "validation only") for n in VALIDATION_PHOTOS]
    lic = "\n".join(f"| `{n}` | {LICENCES[n]} | {u} |" for n, u in rows)
    data = DATA_SCENES if args.get("data") == "scenes" else DATA_LAYERS
    if uses_scenes and args.get("data") == "scenes":
        data += "; earlier stages: " + DATA_LAYERS
    tmax = ("translations of about 110 px and more at 368×496" if args.get("data") == "scenes"
            else f"about {40 * args['width'] / 496 * 1.4:.0f} px at its {args['height']}×{args['width']} training size")
    devices = sorted({f"{h['device_name']} ({h['threads']} thread{'s' if h['threads'] > 1 else ''})" for h in hist})
    text = CARD.format(size=len(blob), sha=hashlib.sha256(blob).hexdigest(), seed=args["seed"],
                       steps=ck.get("total_steps", ck["step"]), batch=args["batch"], h=args["height"],
                       w=args["width"], iters=(f"{args['iters']}–{args['iters_max']} (a random count per step)"
                                               if args.get("iters_max") else args["iters"]), lr=lr, num_steps=args["num_steps"],
                       wall=sum(h["wall_s"] for h in hist) / 3600, device=", ".join(devices) or "?",
                       tmax=tmax, data=data, validation=validation, command=command,
                       history=history_markdown(hist), licences=lic, soup=soup_note)
    with open(a.out, "w") as fh:
        fh.write(text)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
