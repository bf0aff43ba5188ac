"""Averages the weights of training arms that started from the same checkpoint (a uniform "model soup",
Wortsman et al., ICML 2022) into one resumable checkpoint.

Usage: soup.py ARM1/checkpoint.pt ARM2/checkpoint.pt [...] --out SOUP.pt

Every arm must have been started by ``train.py --init`` from the same weights (their histories share a prefix).
The soup's model weights and AdamW moments are the means over the arms; its scheduler, RNG states and ``args``
are the first arm's, so ``train.py --init SOUP.pt --init-optimizer`` continues from it. Its history is the shared
prefix, every arm's own rows, then one row (``"soup": True``, 0 steps) recording the averaging; ``total_steps``
counts every optimizer step that went into it (all arms).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import load_checkpoint  # noqa: E402
from train import atomic_save  # noqa: E402


def mean_tensors(tensors):
    """Mean of same-shaped tensors in float32, cast back to the first one's dtype (integers: the first one)."""
    if not tensors[0].is_floating_point():
        return tensors[0]
    return (sum(t.float() for t in tensors) / len(tensors)).to(tensors[0].dtype)


def soup(checkpoints):
    first = checkpoints[0]
    keys = first["model"].keys()
    if any(ck["model"].keys() != keys for ck in checkpoints):
        raise SystemExit("the arms have different parameter names: not the same architecture")
    out = dict(first)
    out["model"] = {k: mean_tensors([ck["model"][k] for ck in checkpoints]) for k in keys}
    opt = first.get("optimizer")
    if opt is not None and all(ck.get("optimizer") for ck in checkpoints):
        state = {}
        for pid, s in opt["state"].items():
            state[pid] = {k: (mean_tensors([ck["optimizer"]["state"][pid][k] for ck in checkpoints])
                              if k in ("exp_avg", "exp_avg_sq") else v) for k, v in s.items()}
        out["optimizer"] = {"state": state, "param_groups": opt["param_groups"]}
    histories = [ck.get("history", []) for ck in checkpoints]
    shared = 0
    while all(len(h) > shared and h[shared] == histories[0][shared] for h in histories):
        shared += 1
    if shared == 0:
        raise SystemExit("the arms share no history: they did not start from the same checkpoint")
    history = list(histories[0][:shared])
    for h in histories:
        history += h[shared:]
    last = history[-1]
    history.append({"run": "soup", "soup": True, "arms": [h[-1]["run"] for h in histories],
                    "start_step": 0, "end_step": 0, "steps": 0, "wall_s": 0,
                    "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "device": "cpu", "device_name": "cpu", "threads": 1, "batch": last["batch"],
                    "size": last["size"], "iters": last["iters"], "num_steps": "—", "lr": "—", "seed": "—",
                    "data": f"mean of the weights of the {len(checkpoints)} arms above"})
    out["history"] = history
    out["total_steps"] = sum(h["steps"] for h in history)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if len(a.checkpoints) < 2:
        raise SystemExit("give at least two arms")
    result = soup([load_checkpoint(c) for c in a.checkpoints])
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    atomic_save(result, a.out)
    print(f"{a.out}: mean of {len(a.checkpoints)} arms, {result['total_steps']} optimizer steps in all")


if __name__ == "__main__":
    main()
