"""Development only: interleaved RAFTKit vs PyTorch timing of the full model (Scripts/bench-compare).

On a shared VM the machine's speed drifts by 10-30 % over minutes, so tables timed minutes apart can disagree.
This alternates the two implementations round by round on the same input size and reports each side's median
and the ratio of medians, so both see the same machine state.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
from torchvision.models.optical_flow import raft_large, raft_small

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", default="1024x440")
    ap.add_argument("--variants", default="small,basic")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--bench", default=os.path.join(ROOT, "Benchmarks", ".build", "release", "raftkit-bench"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
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


if __name__ == "__main__":
    main()
