"""Development only: interleaved RAFTKit vs PyTorch timing (Scripts/bench-compare).

On a shared VM the machine's speed drifts by 10-30 % over minutes, so tables timed minutes apart can disagree.
This alternates the two implementations round by round and reports each side's median and the ratio of medians,
so both see the same machine state.

- default: the full model at --size, 12 iterations;
- --parts: issue #7's per-part goals at 1024x440 (a 55x128 grid), each against PyTorch's update step (with the mask
  head for basic) or its correlation volume + pyramid + one look-up:
  - the update step as the model runs it: the "updates" stage of a 12-iteration pass (`raftkit-bench single`) / 12,
    that is motion encoder + GRU (context share precomputed) + flow head, and the mask head once per pass;
  - the whole loop iteration, look-up included: (T(13 iterations) - T(1)) / 12 (`raftkit-bench loop`), a stricter
    figure, since PyTorch's step has no look-up;
  - correlation volume + pyramid + one look-up (`raftkit-bench correlation`).
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
from torchvision.models.optical_flow import raft_large, raft_small

from bench_pytorch import median_seconds, step_and_correlation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", default="1024x440")
    ap.add_argument("--variants", default="small,basic")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--bench", default=os.path.join(ROOT, "Benchmarks", ".build", "release", "raftkit-bench"))
    ap.add_argument("--parts", action="store_true", help="the update-step and correlation goals instead of the model")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.parts:
        return compare_parts(args)
    W, H = (int(v) for v in args.size.split("x"))
    summary = {}
    for variant in args.variants.split(","):
        model = (raft_large if variant == "basic" else raft_small)(weights=None).eval()
        i1, i2 = torch.rand(1, 3, H, W) * 2 - 1, torch.rand(1, 3, H, W) * 2 - 1
        with torch.inference_mode():
            model(i1, i2, num_flow_updates=12)  # warm-up
        theirs, ours = [], []
        for _ in range(args.rounds):
            with torch.inference_mode():
                t = time.perf_counter()
                model(i1, i2, num_flow_updates=12)
                theirs.append(time.perf_counter() - t)
            out = subprocess.run([args.bench, "single", "--variant", variant, "--size", args.size,
                                  "--correlation", "automatic", "--repeats", "1", "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True).stdout
            row = [line for line in out.splitlines() if line.startswith(f"| {variant} |")][-1]
            ours.append(float(row.split("|")[4]) / 1000)
        a, b = statistics.median(ours), statistics.median(theirs)
        summary[variant] = {"raftkit_s": ours, "pytorch_s": theirs}
        print(f"| {variant} | {args.size} | {args.rounds} | {a * 1000:.0f} ({min(ours) * 1000:.0f}–{max(ours) * 1000:.0f}) "
              f"| {b * 1000:.0f} ({min(theirs) * 1000:.0f}–{max(theirs) * 1000:.0f}) | {b / a:.2f}× |", flush=True)
    print(json.dumps(summary))


def compare_parts(args):
    """Per round: PyTorch's step and correlation (median of 3 each, both variants), then one `raftkit-bench loop
    correlation` run (per-iteration time from one 1- and one 13-iteration pass; correlation median of 3)."""
    variants = args.variants.split(",")
    workloads = {}
    for v in variants:
        step, _, corr = step_and_correlation((raft_large if v == "basic" else raft_small)(weights=None).eval(), v)
        workloads[v] = {"step": step, "correlation": corr}
    parts = ("update", "step", "correlation")
    samples = {(v, part, side): [] for v in variants for part in parts for side in ("ours", "theirs")}
    for _ in range(args.rounds):
        with torch.inference_mode():
            for v in variants:
                for part, fn in workloads[v].items():
                    samples[(v, part, "theirs")].append(median_seconds(fn, 3))
                samples[(v, "update", "theirs")].append(samples[(v, "step", "theirs")][-1])
        out = subprocess.run([args.bench, "loop", "correlation", "--repeats", "3", "--threads", str(args.threads)],
                             capture_output=True, text=True, check=True).stdout
        section = None
        for line in out.splitlines():
            if line.startswith("## "):
                section = "step" if "loop" in line else "correlation" if "Correlation" in line else None
            cells = [c.strip() for c in line.split("|")]
            if section and len(cells) > 4 and cells[1] in variants:
                # loop: | model | 1 it ms | 13 it ms | per iteration ms | …; correlation: | model | D | all-pairs ms | …
                samples[(cells[1], section, "ours")].append(float(cells[4 if section == "step" else 3]) / 1000)
        for v in variants:
            out = subprocess.run([args.bench, "single", "--variant", v, "--size", "1024x440", "--correlation",
                                  "all-pairs", "--repeats", "1", "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True).stdout
            row = [c.strip() for c in [line for line in out.splitlines() if line.startswith(f"| {v} |")][-1].split("|")]
            samples[(v, "update", "ours")].append(float(row[8]) / 12 / 1000)   # | model | size | corr | total | enc | volume | look-ups | updates |
    print("| variant | part | rounds | RAFTKit ms median (range) | PyTorch ms median (range) | RAFTKit % of PyTorch |")
    print("|---|---|---:|---:|---:|---:|")
    for v in variants:
        for part, label in (("update", "update step (model's updates stage / 12)"),
                            ("step", "loop iteration, look-up included"),
                            ("correlation", "correlation + pyramid + look-up")):
            ours, theirs = samples[(v, part, "ours")], samples[(v, part, "theirs")]
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"| {v} | {label} | {len(ours)} | {a * 1000:.1f} ({min(ours) * 1000:.1f}–{max(ours) * 1000:.1f}) "
                  f"| {b * 1000:.1f} ({min(theirs) * 1000:.1f}–{max(theirs) * 1000:.1f}) | {100 * a / b:.1f} % |",
                  flush=True)
    print(json.dumps({f"{v}_{part}_{side}": xs for (v, part, side), xs in samples.items()}))


if __name__ == "__main__":
    main()
