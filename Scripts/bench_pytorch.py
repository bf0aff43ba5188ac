"""Times PyTorch CPU on the shapes of RAFTKit's benchmarks (see Scripts/bench-pytorch).

Random weights (timing does not depend on their values), float32, eval mode, torch.inference_mode.
Every figure is the median of --repeats runs after one warm-up run.
"""
import argparse
import json
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F
from torchvision.models.optical_flow import raft_large, raft_small

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


# (cin, cout, kh, kw, stride, pad_h, pad_w, H, W): Benchmarks/Sources/RAFTKitBench/KernelBenchmarks.swift's shapes.
CONV_SHAPES = [
    (384, 256, 1, 5, 1, 0, 2, 55, 128), (384, 128, 1, 5, 1, 0, 2, 55, 128),
    (384, 256, 5, 1, 1, 2, 0, 55, 128), (384, 128, 5, 1, 1, 2, 0, 55, 128),
    (242, 192, 3, 3, 1, 1, 1, 55, 128), (242, 96, 3, 3, 1, 1, 1, 55, 128),
    (324, 256, 1, 1, 1, 0, 0, 55, 128), (256, 192, 3, 3, 1, 1, 1, 55, 128),
    (2, 128, 7, 7, 1, 3, 3, 55, 128), (128, 64, 3, 3, 1, 1, 1, 55, 128),
    (256, 126, 3, 3, 1, 1, 1, 55, 128), (128, 256, 3, 3, 1, 1, 1, 55, 128),
    (256, 2, 3, 3, 1, 1, 1, 55, 128), (256, 576, 1, 1, 1, 0, 0, 55, 128),
    (3, 64, 7, 7, 2, 3, 3, 440, 1024), (64, 64, 3, 3, 1, 1, 1, 220, 512),
    (64, 96, 3, 3, 2, 1, 1, 220, 512), (96, 96, 3, 3, 1, 1, 1, 110, 256),
    (96, 128, 3, 3, 2, 1, 1, 110, 256), (128, 128, 3, 3, 1, 1, 1, 55, 128),
    (128, 256, 1, 1, 1, 0, 0, 55, 128),
]


def median_seconds(fn, repeats):
    fn()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def coords_grid(n, h, w):
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    return torch.stack([xs, ys]).unsqueeze(0).repeat(n, 1, 1, 1)


def step_and_correlation(model, name, h=55, w=128):
    """The update-step and correlation workloads at a 55x128 grid (1024x440 input) for torchvision's `model`:
    one update step with the mask head (basic; `small` has none), one without, and correlation volume + pyramid +
    one look-up. Random inputs; call under torch.inference_mode()."""
    hid, ctx, corr_ch, has_mask = (128, 128, 324, True) if name == "basic" else (96, 64, 196, False)
    ub = model.update_block
    net = torch.tanh(torch.randn(1, hid, h, w))
    inp = torch.relu(torch.randn(1, ctx, h, w))
    corr = torch.randn(1, corr_ch, h, w) * 3
    flow = torch.randn(1, 2, h, w)

    def step():
        hs, dflow = ub(net, inp, corr, flow)
        if has_mask:
            model.mask_predictor(hs)

    d = 256 if name == "basic" else 128
    fmap1, fmap2 = torch.randn(1, d, h, w), torch.randn(1, d, h, w)
    cb = model.corr_block
    coords = coords_grid(1, h, w) + torch.randn(1, 2, h, w)

    def corr_all():
        cb.build_pyramid(fmap1, fmap2)
        cb.index_pyramid(coords)

    return step, (lambda: ub(net, inp, corr, flow)), corr_all


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the full-model runs at 1920x1080")
    ap.add_argument("--output", default=os.path.join(ROOT, "Benchmarks", "pytorch-times.json"))
    ap.add_argument("--convs-only", action="store_true",
                    help="time only the single convolutions and merge them into an existing output file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = {}
    h, w = 55, 128
    with torch.inference_mode():
        # The convolutions of the "convolution core vs bare sgemm" table (raftkit-bench kernels), one nn.Conv2d
        # each, keyed conv_<cin>_<cout>_<kh>x<kw>_s<stride>_p<ph>x<pw>_<H>x<W> as the Swift side looks them up.
        for (cin, cout, kh, kw, s, ph, pw, H, W) in CONV_SHAPES:
            conv = torch.nn.Conv2d(cin, cout, (kh, kw), stride=s, padding=(ph, pw)).eval()
            x = torch.randn(1, cin, H, W)
            results[f"conv_{cin}_{cout}_{kh}x{kw}_s{s}_p{ph}x{pw}_{H}x{W}"] = median_seconds(lambda: conv(x), args.repeats)
        if args.convs_only:
            with open(args.output) as f:
                info = json.load(f)
            info["seconds"].update(results)
            with open(args.output, "w") as f:
                json.dump(info, f, indent=2, sort_keys=True)
            print(f"merged {len(results)} convolution timings into {os.path.relpath(args.output, ROOT)}")
            return
        for name, builder in [("basic", raft_large), ("small", raft_small)]:
            model = builder(weights=None).eval()
            step, step_no_mask, corr_all = step_and_correlation(model, name)
            results[f"update_step_{name}_55x128"] = median_seconds(step, args.repeats)
            results[f"update_step_{name}_55x128_no_mask"] = median_seconds(step_no_mask, args.repeats)
            d = 256 if name == "basic" else 128
            results[f"correlation_{name}_55x128_D{d}"] = median_seconds(corr_all, args.repeats)

            sizes = [(256, 256), (512, 512), (440, 1024)] + ([] if args.quick else [(1080, 1920)])
            for (H, W) in sizes:
                i1 = torch.rand(1, 3, H, W) * 2 - 1
                i2 = torch.rand(1, 3, H, W) * 2 - 1
                reps = args.repeats if H * W <= 440 * 1024 else max(1, args.repeats // 2)
                try:
                    results[f"model_{name}_{W}x{H}_12it"] = median_seconds(lambda: model(i1, i2, num_flow_updates=12), reps)
                except RuntimeError as e:  # out of memory for the all-pairs volume
                    results[f"model_{name}_{W}x{H}_12it"] = None
                    print(f"{name} {W}x{H}: {e}")
            print(name, {k: v for k, v in results.items() if name in k})
    info = {"torch": torch.__version__, "threads": args.threads, "repeats": args.repeats,
            "machine": platform.processor() or platform.machine(), "seconds": results}
    with open(args.output, "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
    print(f"wrote {os.path.relpath(args.output, ROOT)}")


if __name__ == "__main__":
    main()
