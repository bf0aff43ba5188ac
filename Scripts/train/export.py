"""Exports a training checkpoint (train.py) for RAFTKit.

Writes
- ``--weights``: float32 safetensors with the OFFICIAL RAFT key names (those of the official raft-small.pth: ``fnet.*``,
  ``cnet.*``, ``update_block.encoder.*``, ``update_block.gru.convz/convr/convq``,
  ``update_block.flow_head.*``; no ``module.`` prefix), 106 tensors, 990,162 parameters. The torchvision ->
  official renames follow torchvision/models/optical_flow/raft.py's module names. The file is read back, mapped
  to torchvision names again and checked to give bit-identical flow.
- ``--train-checkpoint`` (optional): a compact resumable checkpoint for the repository: AdamW moments in
  bfloat16 (exp_avg_sq needs bfloat16's range; float16 would underflow), scheduler, step, RNG states, run
  history, and the model: by reference to ``--weights`` when both are in the same folder (the float32
  safetensors holds the exact weights, so they are not stored twice), else float32 inside.
  ``train.py --resume`` / ``--init`` accept it (through ``load_checkpoint``).
- ``--log`` (optional): Markdown table of every training segment recorded in the checkpoint's history.

Usage: export.py CHECKPOINT [--weights Models/raft-small-default.safetensors]
                            [--train-checkpoint Models/raft-small-train.pt] [--log Models/training-log.md]
"""
from __future__ import annotations

import argparse
import json
import re
import sys

import torch
from safetensors.torch import load_file, save_file

_RULES = [  # torchvision -> official, applied in order
    (r"^feature_encoder\.", "fnet."),
    (r"^context_encoder\.", "cnet."),
    (r"^(fnet|cnet)\.convnormrelu\.0\.", r"\1.conv1."),
    (r"\.convnormrelu(\d)\.0\.", r".conv\1."),
    (r"^(fnet|cnet)\.conv\.", r"\1.conv2."),
    (r"^update_block\.motion_encoder\.convcorr(\d)\.0\.", r"update_block.encoder.convc\1."),
    (r"^update_block\.motion_encoder\.convflow(\d)\.0\.", r"update_block.encoder.convf\1."),
    (r"^update_block\.motion_encoder\.conv\.0\.", "update_block.encoder.conv."),
    (r"^update_block\.recurrent_block\.convgru1\.conv([zrq])\.", r"update_block.gru.conv\1."),
]
_INVERSE = [
    (r"^fnet\.conv1\.", "feature_encoder.convnormrelu.0."),
    (r"^cnet\.conv1\.", "context_encoder.convnormrelu.0."),
    (r"^fnet\.conv2\.", "feature_encoder.conv."),
    (r"^cnet\.conv2\.", "context_encoder.conv."),
    (r"^fnet\.", "feature_encoder."),
    (r"^cnet\.", "context_encoder."),
    (r"^(feature_encoder|context_encoder)\.(layer\d\.\d)\.conv(\d)\.", r"\1.\2.convnormrelu\3.0."),
    (r"^update_block\.encoder\.convc(\d)\.", r"update_block.motion_encoder.convcorr\1.0."),
    (r"^update_block\.encoder\.convf(\d)\.", r"update_block.motion_encoder.convflow\1.0."),
    (r"^update_block\.encoder\.conv\.", "update_block.motion_encoder.conv.0."),
    (r"^update_block\.gru\.conv([zrq])\.", r"update_block.recurrent_block.convgru1.conv\1."),
]


def _apply(rules, key):
    for pat, rep in rules:
        key = re.sub(pat, rep, key)
    return key


def to_official(sd):
    """torchvision raft_small state_dict -> official RAFT-small names (float32, contiguous)."""
    out = {_apply(_RULES, k): v.detach().float().contiguous().cpu() for k, v in sd.items()}
    assert len(out) == len(sd) == 106, len(out)
    return out


def from_official(sd):
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    return {_apply(_INVERSE, k): v for k, v in sd.items()}


def compact_checkpoint(ck, weights_file=None):
    """Checkpoint for the repository: AdamW moments in bfloat16, everything else as is.

    With ``weights_file`` (the exported safetensors, a name relative to the checkpoint's folder) the model
    tensors are not stored twice: ``load_checkpoint`` reads them back from that file (float32, exact).
    """
    opt = ck["optimizer"]
    state = {i: {k: (v.to(torch.bfloat16) if torch.is_tensor(v) and v.dim() > 0 else v)
                 for k, v in s.items()} for i, s in opt["state"].items()}
    out = {**{k: v for k, v in ck.items() if k not in ("optimizer", "model")},
           "optimizer": {"state": state, "param_groups": opt["param_groups"]},
           "optimizer_moments_dtype": "bfloat16"}
    if weights_file:
        out["model_file"] = weights_file
    else:
        out["model"] = {k: v.float().cpu() for k, v in ck["model"].items()}
    return out


def load_checkpoint(path, map_location="cpu"):
    """Loads a train.py checkpoint or a compact one; fills ``model`` (torchvision names) from ``model_file``."""
    import os
    ck = torch.load(path, map_location=map_location, weights_only=False)
    if "model" not in ck and ck.get("model_file"):
        f = os.path.join(os.path.dirname(os.path.abspath(path)), ck["model_file"])
        ck["model"] = {k: v.to(map_location) for k, v in from_official(load_file(f)).items()}
    return ck


def history_markdown(history):
    lines = ["| started (UTC) | device | threads | steps | of schedule | wall | batch × size | iters | lr | seed | data |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for h in history:
        # rows from before scenes.py existed carry no "data": they used synthetic.py's layers
        lines.append(f"| {h['started']} | {h['device_name']} | {h['threads']} | {h['start_step']}→{h['end_step']} "
                     f"| {h['num_steps']} | {h['wall_s'] / 60:.1f} min | {h['batch']} × {h['size'][0]}×{h['size'][1]} "
                     f"| {h['iters']} | {h['lr']} | {h['seed']} | {h.get('data', 'layers')} |")
    total = sum(h["steps"] for h in history)
    wall = sum(h["wall_s"] for h in history)
    lines.append(f"\nTotal: {total} optimizer steps, {wall / 3600:.2f} h wall time.")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--weights", default=None)
    p.add_argument("--train-checkpoint", default=None)
    p.add_argument("--log", default=None)
    a = p.parse_args()
    ck = load_checkpoint(a.checkpoint)
    history = ck.get("history", [])
    steps = ck.get("total_steps", ck.get("step"))
    if a.weights:
        off = to_official(ck["model"])
        meta = {"format": "pt", "architecture": "raft-small", "source": "RAFTKit synthetic training (Scripts/train)",
                "total_steps": str(steps), "key_scheme": "official RAFT (princeton-vl), no module. prefix"}
        save_file(off, a.weights, metadata=meta)
        # round trip: official file -> torchvision model gives the same flow as the checkpoint model
        from torchvision.models.optical_flow import raft_small
        m1, m2 = raft_small(weights=None).eval(), raft_small(weights=None).eval()
        m1.load_state_dict({k: v.float() for k, v in ck["model"].items()})
        m2.load_state_dict(from_official(load_file(a.weights)))
        g = torch.Generator().manual_seed(0)
        x1, x2 = torch.rand(1, 3, 128, 160, generator=g) * 2 - 1, torch.rand(1, 3, 128, 160, generator=g) * 2 - 1
        with torch.no_grad():
            d = (m1(x1, x2, num_flow_updates=4)[-1] - m2(x1, x2, num_flow_updates=4)[-1]).abs().max().item()
        n = sum(v.numel() for v in off.values())
        print(f"wrote {a.weights}: {len(off)} tensors, {n} parameters, step {steps}; round-trip max diff {d}")
        assert d == 0.0
    if a.train_checkpoint:
        import os
        # the weights are stored once when the checkpoint's folder reaches them by name (a file or, as with
        # Models/raft-small-default.safetensors, a link to the bundled resource)
        beside = a.weights and os.path.join(os.path.dirname(os.path.abspath(a.train_checkpoint)),
                                            os.path.basename(a.weights))
        wf = os.path.basename(a.weights) if beside and os.path.realpath(beside) == os.path.realpath(a.weights) else None
        torch.save(compact_checkpoint(ck, wf), a.train_checkpoint)
        what = f"model in {wf}" if wf else "model fp32"
        print(f"wrote {a.train_checkpoint} ({what} + bf16 AdamW moments, step {ck['step']})")
    if a.log:
        with open(a.log, "w") as fh:
            fh.write("# Training log of the default RAFT-small model\n\nWritten by `Scripts/train/export.py` from "
                     "the run history stored in the training checkpoint; one row per `train.py` invocation "
                     "(resumed runs add rows, a new `--init` stage keeps the earlier rows).\n\n")
            fh.write(history_markdown(history))
        print(f"wrote {a.log}")


if __name__ == "__main__":
    main()
