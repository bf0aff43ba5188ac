"""The whole `raftflow flow` process against its network time (issue 20), for one or more raftflow binaries.

Runs `raftflow flow frame1 frame2 --weights W -o OUT --threads T -v` for every (round, variant, weights format,
binary), interleaved in that order so that every binary sees the same drift, and reads:
- from the child's own rusage (os.wait4): wall time, minor faults, kernel time, peak RSS;
- from `-v`: the weights, decode, preprocessing, network and encode times.
"outside" = whole wall time - network time: process start, weights, decode, preprocessing, encode, exit.

Frames and seeded weights come from Scripts/bench-runtimes' cache (run it once first).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

UNIT = {"ms": 1e-3, "s": 1.0, "µs": 1e-6}
PHASES = ("weights", "decode", "preprocessing", "network total", "encode")


def parse_phases(text):
    out = {}
    for name in PHASES:
        m = re.search(rf"^{name}\s+([0-9.]+) (ms|s|µs)", text, re.M)
        if m:
            out[name] = float(m.group(1)) * UNIT[m.group(2)]
    return out


def run_once(binary, frames, weights, threads, out_dir):
    out = os.path.join(out_dir, "flow.flo")
    cmd = [binary, "flow", frames[0], frames[1], "--weights", weights, "-o", out, "--threads", str(threads), "-v"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench_process: {' '.join(cmd)} failed ({code}):\n{err}")
    ph = parse_phases(err)
    if "network total" not in ph:
        sys.exit(f"bench_process: no 'network total' line in -v output of {binary}:\n{err}")
    return {"wall": wall, "network": ph["network total"], "weights": ph.get("weights", float("nan")),
            "decode": ph.get("decode", float("nan")), "encode": ph.get("encode", float("nan")),
            "faults": ru.ru_minflt, "kernel": ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", action="append", required=True, metavar="NAME=PATH",
                    help="a raftflow binary to time (repeat to compare binaries)")
    ap.add_argument("--variants", default="basic,small")
    ap.add_argument("--formats", default="safetensors,pth")
    ap.add_argument("--size", default="1024x436")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=os.environ.get("RAFTKIT_BENCH_CACHE",
                                                      os.path.expanduser("~/.cache/raftkit-bench-runtimes")))
    a = ap.parse_args()
    binaries = []
    for b in a.binary:
        name, _, path = b.partition("=")
        if not path:
            name, path = os.path.basename(b), b
        binaries.append((name, path))
    frames = [os.path.join(a.cache, f"frame{i}-{a.size}.png") for i in (1, 2)]
    for f in frames:
        if not os.path.exists(f):
            sys.exit(f"bench_process: {f} is missing: run Scripts/bench-runtimes --size {a.size} once to create it")
    variants, formats = a.variants.split(","), a.formats.split(",")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up: page cache and binaries
        for name, path in binaries:
            run_once(path, frames, os.path.join(a.cache, f"raft-{variants[0]}-seed{a.seed}.{formats[0]}"), a.threads, tmp)
        for r in range(a.rounds):
            for v in variants:
                for fmt in formats:
                    w = os.path.join(a.cache, f"raft-{v}-seed{a.seed}.{fmt}")
                    if not os.path.exists(w):
                        sys.exit(f"bench_process: {w} is missing: run Scripts/bench-runtimes once to create it")
                    for name, path in binaries:
                        m = run_once(path, frames, w, a.threads, tmp)
                        results.setdefault((v, fmt, name), []).append(m)
                        print(f"round {r + 1} {v} {fmt} {name}: whole {m['wall']:.2f} s, network {m['network']:.2f} s, "
                              f"outside {m['wall'] - m['network']:.3f} s", file=sys.stderr, flush=True)
    med = statistics.median
    print(f"\n`raftflow flow` at {a.size}, 12 iterations, {a.threads} threads, {a.rounds} interleaved rounds after a "
          f"warm-up; median (range) per cell; outside = whole − network\n")
    print("| variant | weights | binary | whole s | network s | outside s | outside / network | weights ms | "
          "decode ms | encode ms | minor faults | kernel s | peak RSS MiB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (v, fmt, name), ms in results.items():
        def cell(key, scale=1.0, fmt_="{:.2f}"):
            xs = [m[key] * scale for m in ms]
            return f"{fmt_.format(med(xs))} ({fmt_.format(min(xs))}–{fmt_.format(max(xs))})"
        outside = [m["wall"] - m["network"] for m in ms]
        share = [(m["wall"] - m["network"]) / m["network"] * 100 for m in ms]
        print(f"| {v} | {fmt} | {name} | {cell('wall')} | {cell('network')} | "
              f"{med(outside):.3f} ({min(outside):.3f}–{max(outside):.3f}) | "
              f"{med(share):.1f} % ({min(share):.1f}–{max(share):.1f}) | {cell('weights', 1e3, '{:.0f}')} | "
              f"{cell('decode', 1e3, '{:.0f}')} | {cell('encode', 1e3, '{:.0f}')} | {med([m['faults'] for m in ms]):,.0f} | "
              f"{cell('kernel')} | {med([m['rss_mib'] for m in ms]):.0f} |")


if __name__ == "__main__":
    main()
