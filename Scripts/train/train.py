"""Trains torchvision's raft_small (arithmetically the official RAFT-small) on on-the-fly synthetic data.

RAFT's recipe: sequence loss (gamma 0.8, valid mask, |gt| < 400), AdamW, OneCycle (linear, pct_start
0.05, total = num_steps + 100 as in RAFT), grad-norm clipping 1.0, 12 unrolled iterations.

Resumable: ``--out DIR`` holds ``checkpoint.pt`` (model, optimizer, scheduler, step, torch + data RNG
states, the run history), written atomically every ``--checkpoint-minutes`` and at the end; a run stops
cleanly at ``--deadline`` (UTC "HH:MM" or ISO time) / after ``--minutes`` / at ``--num-steps`` / on
SIGTERM or SIGINT, and the next invocation with the same ``--out`` continues where it stopped.
With ``--deadline``, the end of OneCycle's linear decay is re-fitted every 25 steps to the number of steps
the measured rate (last 15 min) reaches by the deadline (capped at ``--num-steps``; ``+100`` as in RAFT),
so the learning rate has annealed when the run stops (``--no-fit-schedule`` turns this off).
``--init CKPT`` starts a new run (new OneCycle stage, new optimizer) from the model weights of a
checkpoint, e.g. to continue the CPU-trained model on a GPU with a longer schedule.
Per-step metrics go to ``DIR/train-log.csv``; every run segment is appended to the checkpoint's history
(and to ``DIR/training-log.md``), which export.py copies into Models/training-log.md.

Uses CUDA when available (data generated on the GPU too), CPU otherwise.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import signal
import sys
import time

import torch
import torch.nn.functional as F
from torchvision.models.optical_flow import raft_small

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic import SyntheticConfig, SyntheticFlow  # noqa: E402
from scenes import SceneConfig, SceneFlow  # noqa: E402
from export import load_checkpoint  # noqa: E402


def sequence_loss(preds, gt, valid, gamma=0.8, max_flow=400.0):
    """RAFT's loss: sum_i gamma^(n-i-1) * mean(valid * |f_i - gt|_1) over all N*2*H*W elements."""
    mag = gt.norm(dim=1)
    v = ((valid >= 0.5) & (mag < max_flow)).float()[:, None]
    n = len(preds)
    loss = 0.0
    for i, p in enumerate(preds):
        loss = loss + gamma ** (n - i - 1) * (v * (p - gt).abs()).mean()
    epe = (preds[-1] - gt).norm(dim=1)[v[:, 0] > 0]
    return loss, {"epe": epe.mean().item(), "1px": (epe < 1).float().mean().item(),
                  "3px": (epe < 3).float().mean().item()}


def parse_deadline(text: str) -> float:
    """UTC 'HH:MM' (today, or tomorrow if already past) or an ISO timestamp -> epoch seconds."""
    now = dt.datetime.now(dt.timezone.utc)
    if len(text) <= 5 and ":" in text:
        h, m = map(int, text.split(":"))
        t = now.replace(hour=h, minute=m, second=0, microsecond=0)
        if t < now - dt.timedelta(hours=12):
            t += dt.timedelta(days=1)
        return t.timestamp()
    t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


def build(args, device):
    model = raft_small(weights=None).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wdecay, eps=args.epsilon)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.num_steps + 100,
                                                pct_start=0.05, cycle_momentum=False,
                                                anneal_strategy="linear")
    return model, opt, sched


def fit_schedule(sched, total_steps):
    """Moves the end of OneCycle's (last, linear-decay) phase to ``total_steps``; the warm-up is unchanged.

    Used to make the decay end at a wall-clock deadline when the step rate is only known while training
    (shared CPU). It edits OneCycleLR's own fields, so the change is saved with the scheduler's state.
    """
    sched.total_steps = int(total_steps)
    sched._schedule_phases[-1]["end_step"] = float(total_steps - 1)


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="run directory (checkpoint.pt, train-log.csv)")
    p.add_argument("--init", default=None, help="start a NEW run from this checkpoint's model weights")
    p.add_argument("--resume", default=None,
                   help="continue the run stored in this checkpoint (e.g. Models/raft-small-train.pt) "
                        "when --out has no checkpoint.pt yet")
    p.add_argument("--num-steps", type=int, default=4000, help="OneCycle length of this run")
    p.add_argument("--batch", type=int, default=6)
    p.add_argument("--height", type=int, default=144)
    p.add_argument("--width", type=int, default=192)
    p.add_argument("--iters", type=int, default=12, help="unrolled GRU iterations")
    p.add_argument("--data", choices=("scenes", "layers"), default="scenes",
                   help="scenes: scenes.py (large heavy-tailed motions, homographies + deformation, camera "
                        "effects, train photographs of photos.py); layers: synthetic.py (the first model's data)")
    p.add_argument("--scene-height", type=int, default=368, help="scenes: full scene size the motions are drawn for; "
                   "--height x --width is a crop of it")
    p.add_argument("--scene-width", type=int, default=496)
    p.add_argument("--static-scene", type=float, default=None,
                   help="scenes: probability of a static scene (default: SceneConfig's)")
    p.add_argument("--subpixel-scene", type=float, default=None,
                   help="scenes: probability of a sub-pixel scene (default: SceneConfig's)")
    p.add_argument("--small-scene", type=float, default=None,
                   help="scenes: probability of a small-motion scene, every motion scaled by 0.02-0.15 (default 0)")
    p.add_argument("--identical-scene", type=float, default=None,
                   help="scenes: probability that frame 2 is an exact copy of frame 1 (zero flow; default 0)")
    p.add_argument("--saturate", type=float, default=None,
                   help="scenes: probability of a pair whose contrast clips large flat areas (default 0)")
    p.add_argument("--smooth-texture", type=float, default=None,
                   help="scenes: probability that a layer's texture is low-passed and of lower contrast (default 0)")
    p.add_argument("--tail-power", type=float, default=None,
                   help="scenes: exponent of the translation tail r = r_max * u**p; smaller = more large motions "
                        "(default: SceneConfig's 3.5)")
    p.add_argument("--iters-max", type=int, default=None,
                   help="unroll a random number of GRU iterations in [--iters, --iters-max] per step, so that the "
                        "flow stays put past the training count")
    p.add_argument("--init-optimizer", action="store_true",
                   help="with --init: also take the AdamW moments of that checkpoint (no fresh-Adam shock)")
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--wdecay", type=float, default=1e-4)
    p.add_argument("--epsilon", type=float, default=1e-8)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--gamma", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1234, help="data + init seed (validation uses others)")
    p.add_argument("--refresh", type=float, default=0.25, help="texture-pool refresh fraction per batch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--deadline", default=None, help="stop at this UTC time ('05:50' or ISO)")
    p.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    p.add_argument("--no-fit-schedule", action="store_true",
                   help="with a deadline, do NOT shorten the OneCycle decay to end at the deadline")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--snapshot-every", type=int, default=1000, help="also keep checkpoint-<step>.pt")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--device", default=None)
    args = p.parse_args()
    if args.tail_power is not None and args.tail_power <= 0:
        p.error(f"--tail-power must be > 0 (got {args.tail_power})")

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    stop_at = math.inf
    if args.deadline:
        stop_at = min(stop_at, parse_deadline(args.deadline))
    if args.minutes:
        stop_at = min(stop_at, time.time() + 60 * args.minutes)

    stop = {"flag": False}

    def on_signal(signum, frame):
        print(f"signal {signum}: stopping after this step", flush=True)
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    torch.manual_seed(args.seed)
    history = []
    resume_from = ckpt_path if os.path.exists(ckpt_path) else args.resume
    if resume_from:
        ck = load_checkpoint(resume_from, map_location=device)
        saved = ck["args"]
        # the schedule and data geometry belong to the run; keep the stored ones
        for k in ("num_steps", "lr", "wdecay", "epsilon", "batch", "height", "width", "seed", "iters",
                  "gamma", "refresh"):
            setattr(args, k, saved[k])
        # runs from before scenes.py existed used synthetic.py's layers
        for k, old in (("data", "layers"), ("scene_height", 368), ("scene_width", 496),
                       ("static_scene", None), ("subpixel_scene", None),
                       ("identical_scene", None), ("iters_max", None), ("saturate", None),
                       ("smooth_texture", None), ("tail_power", None)):
            setattr(args, k, saved.get(k, old))
        model, opt, sched = build(args, device)
        model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
        opt.load_state_dict(ck["optimizer"])  # casts (bfloat16) moments to the parameters' float32
        sched.load_state_dict(ck["scheduler"])
        step = ck["step"]
        history = ck.get("history", [])
        torch.set_rng_state(ck["torch_rng"].cpu())  # map_location may have moved it to the GPU
        if device.type == "cuda" and ck.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(ck["cuda_rng"].cpu())
        print(f"resumed {resume_from} at step {step}/{args.num_steps}", flush=True)
    else:
        model, opt, sched = build(args, device)
        step = 0
        if args.init:
            ck = load_checkpoint(args.init, map_location=device)
            sd = {k: v.float() for k, v in ck["model"].items()}
            model.load_state_dict(sd)
            history = ck.get("history", [])
            if args.init_optimizer:
                moments = ck["optimizer"]
                for g in moments["param_groups"]:  # the new stage's schedule owns the learning rate
                    g["lr"] = opt.param_groups[0]["lr"]
                    g["initial_lr"] = opt.param_groups[0]["initial_lr"]
                    for k in ("max_lr", "min_lr"):
                        if k in opt.param_groups[0]:
                            g[k] = opt.param_groups[0][k]
                opt.load_state_dict(moments)
                print("AdamW moments taken from the init checkpoint", flush=True)
            print(f"new run from weights of {args.init} ({ck.get('total_steps', ck.get('step'))} steps)",
                  flush=True)
        ck = None

    if args.data == "scenes":
        cfg = SceneConfig(height=args.height, width=args.width, scene_height=args.scene_height,
                          scene_width=args.scene_width)
        for arg, field in (("static_scene", "static_scene"), ("subpixel_scene", "subpixel_scene"),
                           ("small_scene", "small_scene"),
                           ("identical_scene", "identical_scene"), ("saturate", "saturate_probability"),
                           ("smooth_texture", "smooth_texture"), ("tail_power", "tail_power")):
            if getattr(args, arg) is not None:  # None: keep SceneConfig's default
                setattr(cfg, field, getattr(args, arg))
        data = SceneFlow(cfg, seed=args.seed, device=device, refresh=args.refresh)
    else:
        cfg = SyntheticConfig(height=args.height, width=args.width)
        data = SyntheticFlow(cfg, seed=args.seed, device=device, refresh=args.refresh)
    if ck is not None and ck.get("data_rng") is not None:
        try:
            data.gen.set_state(ck["data_rng"].cpu())
        except (RuntimeError, ValueError):  # CPU <-> CUDA generator states differ: reseed, reproducibly
            data.gen.manual_seed(args.seed + step)
            print(f"data RNG state from another device type; reseeded with {args.seed + step}", flush=True)
    print(f"device {device}, threads {torch.get_num_threads()}, batch {args.batch} "
          f"{args.height}x{args.width}, iters {args.iters}"
          f"{'' if not args.iters_max else '-' + str(args.iters_max)}, data {args.data}, photos "
          f"{0 if data.photos is None else data.photos.shape[0]}", flush=True)

    log_path = os.path.join(args.out, "train-log.csv")
    new_log = not os.path.exists(log_path)
    log = open(log_path, "a")
    if new_log:
        log.write("time_utc,step,lr,loss,epe,1px,3px,s_per_step,data_s\n")

    start_step, t_start = step, time.time()
    last_ckpt = time.time()
    acc = {"loss": 0.0, "epe": 0.0, "1px": 0.0, "3px": 0.0, "n": 0, "data": 0.0}
    t_log = time.time()

    def save(final=False):
        seg = {"run": args.out, "start_step": start_step, "end_step": step,
               "started": dt.datetime.fromtimestamp(t_start, dt.timezone.utc).isoformat(timespec="seconds"),
               "wall_s": round(time.time() - t_start), "device": str(device),
               "device_name": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
               "threads": torch.get_num_threads(), "batch": args.batch,
               "size": [args.height, args.width], "iters": args.iters, "num_steps": args.num_steps,
               "lr": args.lr, "seed": args.seed, "schedule_total": sched.total_steps, "data": args.data}
        hist = [h for h in history if not (h.get("run") == args.out and h.get("start_step") == start_step)]
        seg["steps"] = step - start_step
        hist.append(seg)
        obj = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
               "step": step, "args": vars(args), "torch_rng": torch.get_rng_state(),
               "cuda_rng": torch.cuda.get_rng_state() if device.type == "cuda" else None,
               "data_rng": data.gen.get_state(), "history": hist,
               "total_steps": sum(h["steps"] for h in hist)}
        atomic_save(obj, ckpt_path)
        if args.snapshot_every and step % args.snapshot_every == 0 and step > 0:
            atomic_save({"model": model.state_dict(), "step": step, "history": hist,
                         "total_steps": obj["total_steps"], "args": vars(args)},
                        os.path.join(args.out, f"checkpoint-{step}.pt"))
        if final:
            with open(os.path.join(args.out, "training-log.md"), "a") as fh:
                fh.write(f"- {seg['started']} {seg['device_name']} x{seg['threads']} threads: steps "
                         f"{start_step}->{step} (OneCycle total {sched.total_steps}) in {seg['wall_s']} s, batch {args.batch} "
                         f"{args.height}x{args.width}, {args.iters}{'' if not args.iters_max else '-' + str(args.iters_max)} iters, lr {args.lr}, seed {args.seed}, data {args.data} "
                         f"(total {obj['total_steps']} steps)\n")
        print(f"checkpoint step {step} -> {ckpt_path}", flush=True)

    fit = args.deadline is not None and not args.no_fit_schedule and math.isfinite(stop_at)
    rate_window = []  # (time, step) samples of the last ~15 minutes

    model.train()
    while step < args.num_steps and not stop["flag"] and time.time() < stop_at:
        t0 = time.time()
        with torch.no_grad():
            img1, img2, flow, valid = data.sample(args.batch)
            img1, img2 = img1 * 2 - 1, img2 * 2 - 1
        t1 = time.time()
        iters = args.iters
        if args.iters_max is not None and args.iters_max > args.iters:
            iters = int(torch.randint(args.iters, args.iters_max + 1, (1,)).item())
        preds = model(img1, img2, num_flow_updates=iters)
        loss, m = sequence_loss(preds, flow, valid, gamma=args.gamma)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        sched.step()
        step += 1
        acc["loss"] += loss.item(); acc["n"] += 1; acc["data"] += t1 - t0
        for k in ("epe", "1px", "3px"):
            acc[k] += m[k]
        if step % args.log_every == 0:
            n = acc["n"]
            sps = (time.time() - t_log) / n
            line = (f"{dt.datetime.now(dt.timezone.utc).strftime('%H:%M:%S')},{step},"
                    f"{sched.get_last_lr()[0]:.3e},{acc['loss'] / n:.4f},{acc['epe'] / n:.4f},"
                    f"{acc['1px'] / n:.4f},{acc['3px'] / n:.4f},{sps:.3f},{acc['data'] / n:.3f}")
            log.write(line + "\n"); log.flush()
            print(line, flush=True)
            acc = {k: 0.0 for k in acc}; acc["n"] = 0
            t_log = time.time()
        if fit and step % 25 == 0:
            now = time.time()
            rate_window.append((now, step))
            rate_window = [(t, k) for t, k in rate_window if now - t < 900] or rate_window[-1:]
            t_old, k_old = rate_window[0]
            if step - start_step >= 25:
                sps = (now - t_old) / max(1, step - k_old) if step > k_old else (now - t_start) / (step - start_step)
                reachable = step + max(0, (stop_at - now - 30) / sps)
                target = int(min(args.num_steps, reachable)) + 100   # RAFT's "+100"
                target = max(target, step + 101, int(sched._schedule_phases[0]["end_step"]) + 101)
                if abs(target - sched.total_steps) >= 10:
                    fit_schedule(sched, target)
        if time.time() - last_ckpt > 60 * args.checkpoint_minutes or \
                (args.snapshot_every and step % args.snapshot_every == 0):
            save()
            last_ckpt = time.time()
    save(final=True)
    print(f"stopped at step {step} ({step - start_step} this run, {time.time() - t_start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
