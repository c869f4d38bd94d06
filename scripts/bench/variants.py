#!/usr/bin/env python3
"""Variants of gnmt's own training step, side by side: `gnmt bench` with the same config and synthetic batch,
once per variant flag set, alternating (the order rotates every repetition), and the medians with the ratio
of each variant to the first.

The default variants are what the trainer does (multi-tensor clipping and Adam, fused CPU kernels), LibTorch's
per-parameter Adam and clip_grad_norm_ (--torch-optimizer), and torch::nn::LSTM with the composite attention
(--unfused). Everything after `--` goes to every `gnmt bench` call.

  scripts/bench/variants.py [--reps 5] [--variant NAME=FLAGS ...] [-- BENCH_ARGS]
  scripts/bench/variants.py --reps 5 -- -c configs/bible-small.yaml --steps 8
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_VARIANTS = ["trainer's update=", "LibTorch Adam + clip_grad_norm_=--torch-optimizer", "unfused=--unfused"]


def parse_results(text):
    values = {}
    for line in text.splitlines():
        if line.startswith("result "):
            _, key, value = line.split()
            values[key] = float(value)
    return values


def main():
    argv = sys.argv[1:]
    bench_args = []
    if "--" in argv:
        cut = argv.index("--")
        argv, bench_args = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5, help="runs of each variant (default 5)")
    ap.add_argument("--variant", action="append", metavar="NAME=FLAGS",
                    help="a variant: its name and the extra gnmt bench flags (repeatable; the first is the baseline)")
    ap.add_argument("--gnmt", default="build/gnmt")
    args = ap.parse_args(argv)
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    if not bench_args:
        bench_args = ["-c", "configs/bible-small.yaml", "--steps", "8"]
    variants = []
    for v in args.variant or DEFAULT_VARIANTS:
        name, sep, flags = v.partition("=")
        if not sep or not name:
            ap.error(f"--variant {v!r}: expected NAME=FLAGS")
        variants.append((name, shlex.split(flags)))
    if not os.path.exists(os.path.join(ROOT, args.gnmt)):
        sys.exit(f"variants.py: {args.gnmt} not found: run scripts/setup.sh")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    runs = {name: [] for name, _ in variants}
    for rep in range(args.reps):
        for k in range(len(variants)):
            name, flags = variants[(rep + k) % len(variants)]
            cmd = [args.gnmt, "bench", *bench_args, *flags]
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            values = parse_results(p.stdout)
            if p.returncode != 0 or "train_tok_s" not in values:
                sys.exit(f"variants.py: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout}{p.stderr}")
            runs[name].append(values)
            print(f"rep {rep + 1}/{args.reps} {name}: {values['train_tok_s']:,.0f} tgt tok/s, "
                  f"step {1e3 * values['step_s']:.1f} ms", flush=True)
    base = statistics.median(r["train_tok_s"] for r in runs[variants[0][0]])
    print(f"\ngnmt bench {' '.join(bench_args)}; {args.reps} alternating runs each, medians")
    print(f"{'variant':40s} {'tgt tok/s':>12s} {'step ms':>9s} {'MFU %':>7s} {'ratio':>7s}")
    for name, _ in variants:
        tps = statistics.median(r["train_tok_s"] for r in runs[name])
        step = statistics.median(r["step_s"] for r in runs[name])
        mfu = statistics.median(r["mfu_percent"] for r in runs[name])
        print(f"{name:40s} {tps:12,.0f} {1e3 * step:9.1f} {mfu:7.1f} {tps / base:6.3f}x")


if __name__ == "__main__":
    main()
