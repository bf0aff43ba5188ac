"""Development only: RAFT on other CPU runtimes against RAFTKit (Scripts/bench-runtimes; issue 20).

Every runtime runs the SAME network with the SAME weights on the same frames:
- weights: torchvision's ``raft_large`` (basic) / ``raft_small`` initialised with ``torch.manual_seed(--seed)``,
  written once as safetensors (and a zip ``.pth``) with the OFFICIAL RAFT key names, which RAFTKit loads;
- frames: ``Samples/photo-300x400`` resized to --size (PNG), padded to a multiple of 8 the official way
  (``InputPadder``, sintel mode: edge pixels repeated, centred), 12 iterations;
- runtimes: PyTorch (eager, ``torch.inference_mode``), ONNX Runtime (export by torch's dynamo exporter, opset 18),
  OpenVINO with ``INFERENCE_PRECISION_HINT`` forced to f32, OpenVINO with its default precision (what its CPU plugin
  picks: bf16 where it lists BF16 among its OPTIMIZATION_CAPABILITIES, else f32; the table says which), RAFTKit f32
  and, where the build has ``--precision``, RAFTKit bf16 (else "RAFTKit bf16: not available in this build").

Three measurements:
1. accuracy: mean / max |flow - PyTorch's flow| over the unpadded frame (px), one fresh process per runtime;
2. peak RSS: the same fresh process (load the model, run one pair), read by a parent that has no other child;
3. time: network time only (no loading, no image decoding), warm-up first, then --rounds rounds that each run
   every runtime once in turn, so that all see the same machine state. The Python runtimes stay loaded in this
   process; RAFTKit's time is one ``raftkit-bench single --weights …`` call per round (warm-up pass + 1 timed
   pass, inputs random in 0...255: the time does not depend on the pixels).

The exports (safetensors, .pth, .onnx, OpenVINO IR) are cached under --cache (outside the repository).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CACHE = os.environ.get("RAFTKIT_BENCH_CACHE", os.path.expanduser("~/.cache/raftkit-bench-runtimes"))
RUNTIMES = ["pytorch", "onnxruntime", "openvino-f32", "openvino-default", "raftkit-f32", "raftkit-bf16"]
LABELS = {"pytorch": "PyTorch", "onnxruntime": "ONNX Runtime", "openvino-f32": "OpenVINO f32 (forced)",
          "openvino-default": "OpenVINO default precision", "raftkit-f32": "RAFTKit f32", "raftkit-bf16": "RAFTKit bf16"}
ITERATIONS = 12


# ---------------------------------------------------------------------------------------------------- weights

def official_name(key: str, separable_gru: bool) -> str:
    """torchvision RAFT parameter name -> official RAFT name (core/raft.py); a port of RAFTKit's
    CanonicalKeys.officialName(torchvision:separableGRU:)."""
    p = key.split(".")
    head = p[0]
    if head in ("feature_encoder", "context_encoder"):
        p[0] = "fnet" if head == "feature_encoder" else "cnet"
        if len(p) >= 4 and p[1] == "convnormrelu" and p[2] in ("0", "1"):
            p[1:3] = ["conv1" if p[2] == "0" else "norm1"]
        elif len(p) >= 3 and p[1] == "conv":
            p[1] = "conv2"
        elif len(p) >= 6 and p[1].startswith("layer") and p[3].startswith("convnormrelu") and p[4] in ("0", "1"):
            k = p[3][len("convnormrelu"):]
            p[3:5] = [("conv" if p[4] == "0" else "norm") + k]
    elif head == "update_block" and len(p) >= 4 and p[1] == "motion_encoder":
        names = {"convcorr1": "convc1", "convcorr2": "convc2", "convflow1": "convf1", "convflow2": "convf2",
                 "conv": "conv"}
        if p[2] in names and p[3] == "0":
            p[1:4] = ["encoder", names[p[2]]]
    elif head == "update_block" and len(p) >= 5 and p[1] == "recurrent_block":
        if p[2] in ("convgru1", "convgru2") and p[3] in ("convz", "convr", "convq"):
            p[1:4] = ["gru", p[3] + (p[2][-1] if separable_gru else "")]
    elif head == "mask_predictor":
        if len(p) >= 4 and p[1] == "convrelu" and p[2] == "0":
            p[0:3] = ["update_block", "mask", "0"]
        elif len(p) >= 3 and p[1] == "conv":
            p[0:2] = ["update_block", "mask", "2"]
    return ".".join(p)


def torch_model(variant, seed):
    import torch
    from torchvision.models.optical_flow import raft_large, raft_small
    torch.manual_seed(seed)
    return (raft_large if variant == "basic" else raft_small)(weights=None).eval()


def export_weights(variant, seed, cache):
    """Writes the seeded torchvision weights with official names as safetensors and zip .pth (once)."""
    st = os.path.join(cache, f"raft-{variant}-seed{seed}.safetensors")
    pth = os.path.join(cache, f"raft-{variant}-seed{seed}.pth")
    if os.path.exists(st) and os.path.exists(pth):
        return st, pth
    import torch
    from safetensors.torch import save_file
    sd = torch_model(variant, seed).state_dict()
    out = {official_name(k, variant == "basic"): v.detach().float().contiguous()
           for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    assert len(out) == len([k for k in sd if not k.endswith("num_batches_tracked")])
    save_file(out, st + ".tmp", metadata={"format": "pt"})
    torch.save(out, pth + ".tmp")
    os.replace(st + ".tmp", st)
    os.replace(pth + ".tmp", pth)
    return st, pth


def load_torch(variant, cache, seed):
    """The torchvision model with the weights read back from the exported safetensors (so PyTorch runs exactly
    what the others run)."""
    import torch
    from safetensors.torch import load_file
    model = torch_model(variant, seed)
    official = load_file(os.path.join(cache, f"raft-{variant}-seed{seed}.safetensors"))
    names = {official_name(k, variant == "basic"): k for k in model.state_dict()}
    sd = {names[k]: v for k, v in official.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return model.eval()


# ---------------------------------------------------------------------------------------------------- frames

def frames(cache, width, height):
    """Samples/photo-300x400 resized to width x height (PNG, written once): the frames every runtime reads."""
    import cv2
    paths = []
    for i in (1, 2):
        path = os.path.join(cache, f"frame{i}-{width}x{height}.png")
        if not os.path.exists(path):
            img = cv2.imread(os.path.join(ROOT, "Samples", "photo-300x400", f"frame{i}.png"), cv2.IMREAD_COLOR)
            cv2.imwrite(path, cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR))
        paths.append(path)
    return paths


def padding(height, width):
    """Official InputPadder, sintel mode: (top, bottom, left, right) to the next multiple of 8."""
    ph, pw = (((height // 8) + 1) * 8 - height) % 8, (((width // 8) + 1) * 8 - width) % 8
    return ph // 2, ph - ph // 2, pw // 2, pw - pw // 2


def network_inputs(paths):
    """The two frames as RAFT's network input: [1, 3, H', W'] float32 in [-1, 1], padded by edge repetition."""
    import cv2
    out = []
    for path in paths:
        rgb = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32)
        top, bottom, left, right = padding(*rgb.shape[:2])
        rgb = np.pad(rgb, ((top, bottom), (left, right), (0, 0)), mode="edge")
        out.append(np.ascontiguousarray((2 * (rgb / 255.0) - 1).transpose(2, 0, 1)[None], dtype=np.float32))
    return out


def unpad(flow, height, width):
    """[1, 2, H', W'] -> [H, W, 2]."""
    top, _, left, _ = padding(height, width)
    return np.ascontiguousarray(flow[0, :, top:top + height, left:left + width].transpose(1, 2, 0))


def read_flo(path):
    with open(path, "rb") as f:
        magic, = np.frombuffer(f.read(4), np.float32)
        assert magic == 202021.25, path
        w, h = np.frombuffer(f.read(8), np.int32)
        return np.frombuffer(f.read(), np.float32).reshape(h, w, 2)


# ---------------------------------------------------------------------------------------------------- exports

def wrapper(model):
    import torch

    class Last(torch.nn.Module):
        """The final flow of a 12-iteration pass (torchvision returns every iteration's)."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, a, b):
            return self.m(a, b, num_flow_updates=ITERATIONS)[-1]

    return Last(model).eval()


def export_onnx(variant, seed, cache, shape):
    path = os.path.join(cache, f"raft-{variant}-seed{seed}-{shape[3]}x{shape[2]}-opset18.onnx")
    if os.path.exists(path):
        return path
    import torch
    model = wrapper(load_torch(variant, cache, seed))
    example = (torch.zeros(shape), torch.zeros(shape))
    t = time.perf_counter()
    with torch.no_grad():
        program = torch.onnx.export(model, example, dynamo=True, opset_version=18)
    program.save(path + ".tmp")
    os.replace(path + ".tmp", path)
    # external data (weights over 2 GB) is not expected for RAFT; the file must be self-contained
    print(f"exported {os.path.basename(path)} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return path


def export_openvino(onnx_path):
    xml = onnx_path[:-len(".onnx")] + "-ov.xml"
    if os.path.exists(xml):
        return xml
    import openvino as ov
    model = ov.convert_model(onnx_path)
    ov.save_model(model, xml + ".tmp.xml", compress_to_fp16=False)   # f32 weights, as exported
    os.replace(xml + ".tmp.bin", xml[:-4] + ".bin")
    os.replace(xml + ".tmp.xml", xml)
    return xml


# ---------------------------------------------------------------------------------------------------- runners

def python_runner(runtime, variant, args):
    """A callable (i1, i2) -> flow [1, 2, H', W'] for a Python runtime, and a note on its configuration.
    Imports only what the runtime needs, so that peak RSS is the runtime's own."""
    onnx_path = os.path.join(args.cache, f"raft-{variant}-seed{args.seed}-{args.padded[1]}x{args.padded[0]}-opset18.onnx")
    if runtime == "pytorch":
        import torch
        torch.set_num_threads(args.threads)
        model = load_torch(variant, args.cache, args.seed)

        def run(i1, i2):
            with torch.inference_mode():
                return model(torch.from_numpy(i1), torch.from_numpy(i2), num_flow_updates=ITERATIONS)[-1].numpy()
        return run, f"torch {torch.__version__}"
    if runtime == "onnxruntime":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        return (lambda i1, i2: session.run(None, {names[0]: i1, names[1]: i2})[0]), f"onnxruntime {ort.__version__}"
    if runtime.startswith("openvino"):
        import openvino as ov
        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": args.threads}
        if runtime == "openvino-f32":
            config["INFERENCE_PRECISION_HINT"] = "f32"
        compiled = core.compile_model(export_openvino(onnx_path), "CPU", config)
        hint = compiled.get_property("INFERENCE_PRECISION_HINT")
        precision = hint.to_string() if hasattr(hint, "to_string") else str(hint)
        capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        request = compiled.create_infer_request()

        def run(i1, i2):
            return request.infer([i1, i2])[compiled.output(0)].copy()
        return run, (f"openvino {ov.__version__}, INFERENCE_PRECISION_HINT {precision}, CPU capabilities "
                     f"{' '.join(capabilities)}")
    raise ValueError(runtime)


def child(args):
    """One fresh process: load the runtime, run the pair once, save the unpadded flow, print a JSON note."""
    runtime, variant = args.child
    run, note = python_runner(runtime, variant, args)
    i1, i2 = network_inputs(frames(args.cache, *args.wh))
    flow = unpad(run(i1, i2), args.wh[1], args.wh[0])
    np.save(os.path.join(args.cache, f"flow-{variant}-{runtime}-{args.wh[0]}x{args.wh[1]}.npy"), flow)
    print(json.dumps({"note": note}))


def fresh_process(command):
    """Runs `command` as the only child of a new Python process; returns (stdout, peak RSS MiB of the command)."""
    code = ("import resource, subprocess, sys, json\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stderr.write(p.stderr)\n"
            "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-4000:],\n"
            "                  'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")
    out = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result['rc']}):\n{result['err']}")
    return result["out"], result["rss_kib"] / 1024


def cpu_has_bf16():
    """Whether /proc/cpuinfo lists avx512_bf16 (RAFTKit's bf16 kernel needs it; elsewhere bf16 requests run f32)."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and "avx512_bf16" in line.split() for line in f)
    except OSError:
        return False


def raftkit_supports_precision(tool, *subcommand):
    help_text = subprocess.run([tool, *subcommand, "--help"], capture_output=True, text=True).stdout
    return "--precision" in help_text


def raftkit_time(args, variant, precision):
    command = [args.bench, "single", "--variant", variant, "--size", f"{args.padded[1]}x{args.padded[0]}",
               "--correlation", "automatic", "--repeats", "1", "--threads", str(args.threads),
               "--weights", os.path.join(args.cache, f"raft-{variant}-seed{args.seed}.safetensors")]
    if precision:
        command += ["--precision", precision]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    row = [line for line in out.splitlines() if line.startswith(f"| {variant} |")][-1]
    return float(row.split("|")[4]) / 1000


# ---------------------------------------------------------------------------------------------------- main

def span(xs):
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--size", default="1024x436", help="frame size WxH (padded to a multiple of 8 for the network)")
    ap.add_argument("--variants", default="basic,small")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the random weights")
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="exports, frames and flows (outside the repository)")
    ap.add_argument("--json", default=None, help="results file (default: CACHE/bench-runtimes.json)")
    ap.add_argument("--raftflow", default=os.path.join(ROOT, ".build", "release", "raftflow"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "Benchmarks", ".build", "release", "raftkit-bench"))
    ap.add_argument("--child", nargs=2, metavar=("RUNTIME", "VARIANT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.wh = tuple(int(v) for v in args.size.split("x"))
    top, bottom, left, right = padding(args.wh[1], args.wh[0])
    args.padded = (args.wh[1] + top + bottom, args.wh[0] + left + right)   # (H', W')
    os.makedirs(args.cache, exist_ok=True)
    if args.child:
        return child(args)

    variants = args.variants.split(",")
    built = raftkit_supports_precision(args.bench) and raftkit_supports_precision(args.raftflow, "flow")
    bf16 = built and cpu_has_bf16()
    runtimes = [r for r in RUNTIMES if r != "raftkit-bf16" or bf16]
    if not built:
        print("RAFTKit bf16: not available in this build", file=sys.stderr)
    elif not bf16:
        print("RAFTKit bf16: this CPU has no AVX512_BF16 (--precision bf16 would run f32); column skipped",
              file=sys.stderr)
    paths = frames(args.cache, *args.wh)
    results = {"conditions": {"size": args.size, "padded": f"{args.padded[1]}x{args.padded[0]}",
                              "iterations": ITERATIONS, "threads": args.threads, "rounds": args.rounds,
                              "seed": args.seed, "machine": platform.processor() or platform.machine(),
                              "load_average": os.getloadavg()},
               "variants": {}}

    for variant in variants:
        export_weights(variant, args.seed, args.cache)
        export_onnx(variant, args.seed, args.cache, (1, 3, *args.padded))
        export_openvino(os.path.join(args.cache, f"raft-{variant}-seed{args.seed}-{args.padded[1]}x{args.padded[0]}-opset18.onnx"))

    # 1 + 2: accuracy and peak RSS, one fresh process per runtime and variant
    for variant in variants:
        entry = results["variants"].setdefault(variant, {r: {} for r in runtimes})
        weights = os.path.join(args.cache, f"raft-{variant}-seed{args.seed}.safetensors")
        for runtime in runtimes:
            flow_path = os.path.join(args.cache, f"flow-{variant}-{runtime}-{args.wh[0]}x{args.wh[1]}")
            if runtime.startswith("raftkit"):
                command = [args.raftflow, "flow", *paths, "--weights", weights, "--threads", str(args.threads),
                           "--iterations", str(ITERATIONS), "--output", flow_path + ".flo"]
                if runtime == "raftkit-bf16":
                    command += ["--precision", "bf16"]
                _, rss = fresh_process(command)
                np.save(flow_path + ".npy", read_flo(flow_path + ".flo"))
                entry[runtime]["note"] = "raftflow flow" + (" --precision bf16" if runtime == "raftkit-bf16" else "")
            else:
                out, rss = fresh_process([sys.executable, os.path.abspath(__file__), "--child", runtime, variant,
                                          "--size", args.size, "--threads", str(args.threads), "--seed",
                                          str(args.seed), "--cache", args.cache])
                entry[runtime]["note"] = json.loads(out.splitlines()[-1])["note"]
            entry[runtime]["peak_rss_mib"] = rss
        reference = np.load(os.path.join(args.cache, f"flow-{variant}-pytorch-{args.wh[0]}x{args.wh[1]}.npy"))
        entry["pytorch"]["flow_max_magnitude"] = float(np.sqrt((reference ** 2).sum(-1)).max())
        for runtime in runtimes:
            flow = np.load(os.path.join(args.cache, f"flow-{variant}-{runtime}-{args.wh[0]}x{args.wh[1]}.npy"))
            d = np.abs(flow.astype(np.float64) - reference)
            entry[runtime]["mean_abs_diff_px"] = float(d.mean())
            entry[runtime]["max_abs_diff_px"] = float(d.max())
        print(f"{variant}: accuracy and RSS done", file=sys.stderr, flush=True)

    # 3: interleaved timing, network only
    for variant in variants:
        entry = results["variants"][variant]
        runners = {r: python_runner(r, variant, args)[0] for r in runtimes if not r.startswith("raftkit")}
        i1, i2 = network_inputs(paths)
        for run in runners.values():
            run(i1, i2)   # warm-up (raftkit-bench single warms up in each call)
        samples = {r: [] for r in runtimes}
        for k in range(args.rounds):
            for runtime in runtimes:
                if runtime.startswith("raftkit"):
                    samples[runtime].append(raftkit_time(args, variant, "bf16" if runtime == "raftkit-bf16"
                                                         else ("f32" if bf16 else None)))
                else:
                    t = time.perf_counter()
                    runners[runtime](i1, i2)
                    samples[runtime].append(time.perf_counter() - t)
            print(f"{variant} round {k + 1}: " + ", ".join(f"{r} {samples[r][-1]:.2f} s" for r in runtimes),
                  file=sys.stderr, flush=True)
        for runtime in runtimes:
            entry[runtime]["seconds"] = samples[runtime]
        del runners

    results["conditions"]["load_average_after"] = os.getloadavg()
    default = results["variants"][variants[0]]["openvino-default"]["note"]
    results["conditions"]["openvino_default_precision"] = re.search(r"HINT (\S+),", default).group(1)
    print_table(results, variants, runtimes, args)
    path = args.json or os.path.join(args.cache, "bench-runtimes.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nresults: {path}")


def print_table(results, variants, runtimes, args):
    v = results["variants"]
    print(f"\n{args.size} (network at {args.padded[1]}x{args.padded[0]}), {ITERATIONS} iterations, {args.threads} "
          f"threads, seeded random weights (the same file for every runtime), {args.rounds} interleaved rounds after "
          f"a warm-up; s = median (range) of network time; |Δ| = mean / max abs difference of the flow from "
          f"PyTorch's, px; RSS = peak of a fresh process that loads the model and runs one pair\n")
    head = "| runtime |" + "".join(f" {x} s |" for x in variants) + "".join(f" {x} \\|Δ\\| px |" for x in variants) \
        + "".join(f" {x} RSS MiB |" for x in variants)
    print(head)
    print("|---|" + "---:|" * (3 * len(variants)))
    labels = dict(LABELS)
    ov_default = results["conditions"]["openvino_default_precision"]
    labels["openvino-default"] = f"OpenVINO default precision ({ov_default} here)"
    for r in runtimes:
        cells = [span(v[x][r]["seconds"]) for x in variants]
        cells += ["–" if r == "pytorch" else f"{v[x][r]['mean_abs_diff_px']:.2g} / {v[x][r]['max_abs_diff_px']:.2g}"
                  for x in variants]
        cells += [f"{v[x][r]['peak_rss_mib']:.0f}" for x in variants]
        print(f"| {labels[r]} | " + " | ".join(cells) + " |")
    print()
    for x in variants:
        med = {r: statistics.median(v[x][r]["seconds"]) for r in runtimes}
        line = f"{x}: OpenVINO f32 / RAFTKit f32 = {med['openvino-f32'] / med['raftkit-f32']:.2f}"
        if "raftkit-bf16" in runtimes and ov_default == "bf16":
            line += f"; OpenVINO bf16 (default) / RAFTKit bf16 = {med['openvino-default'] / med['raftkit-bf16']:.2f}"
        line += f"; OpenVINO default ({ov_default}) / RAFTKit f32 = {med['openvino-default'] / med['raftkit-f32']:.2f}"
        print(line + "  (above 1: RAFTKit faster)")
        for r in runtimes:
            if "note" in v[x][r]:
                results["variants"][x][r]["median_s"] = med[r]
    notes = {r: v[variants[0]][r].get("note", "") for r in runtimes}
    print("\n" + "; ".join(f"{LABELS[r]}: {n}" for r, n in notes.items() if n))
    if ov_default != "bf16":
        print("OpenVINO bf16: its default precision is not bf16 on this CPU (see the capabilities above), so there is "
              "no OpenVINO bf16 column to compare RAFTKit bf16 with")


if __name__ == "__main__":
    main()
