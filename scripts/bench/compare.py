#!/usr/bin/env python3
"""gnmt against its PyTorch-eager reference (reference_gnmt.py), side by side on identical inputs.

Writes the inputs once with `gnmt bench` (training batches of bible-small and of a 512-wide 4+4 model at
4096 tokens, the Bible test set as token ids, the checkpoint's weights), then alternates the two programs
--reps times per measurement (the order flips every repetition), same thread count, same torch (the
reference runs on /opt/gnmt-deps/venv's torch, whose libtorch gnmt links), OMP_WAIT_POLICY=PASSIVE for
both, and prints the medians, the ratios and each program's peak RSS.

Translation uses a trained checkpoint (--checkpoint, default runs/bible-small/best.pt) so that both
programs decode the same sentences to their natural lengths with the same weights; the output token
counts are printed so that equal work can be checked.

  scripts/bench/compare.py [--quick] [--reps N] [--threads N] [--checkpoint CKPT]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = os.path.join(os.environ.get("GNMT_DEPS", "/opt/gnmt-deps"), "venv/bin/python")  # scripts/deps.env
SMALL = ["-c", "configs/bible-small.yaml"]
BIG = SMALL + ["--set", "model.hidden_size=512", "--set", "model.emb_dim=512", "--set", "training.batch_tokens=4096"]


def run(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"compare.py: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    values = {}
    for line in p.stdout.splitlines():
        if line.startswith("result "):
            _, key, value = line.split()
            values[key] = float(value)
    values["wall_s"] = time.perf_counter() - t0
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 repetition, fewer batches, 200 test sentences")
    ap.add_argument("--reps", type=int, default=0, help="repetitions per measurement (default 3; --quick 1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint", default="runs/bible-small/best.pt", help="trained checkpoint (scripts/quickstart.sh writes this one)")
    ap.add_argument("--gnmt", default="build/gnmt")
    ap.add_argument("--workdir", default="runs/bench")
    ap.add_argument("--no-ref-beam", action="store_true", help="skip the reference's beam-5 run (slow)")
    args = ap.parse_args()
    reps = args.reps or (1 if args.quick else 3)
    for path, hint in ((args.checkpoint, "train one with scripts/quickstart.sh, or pass --checkpoint"),
                       ("data/bible/test.en", "run scripts/prepare_bible.sh"), (args.gnmt, "run scripts/setup.sh")):
        if not os.path.exists(os.path.join(ROOT, path)):
            sys.exit(f"compare.py: {path} not found: {hint}")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    os.makedirs(os.path.join(ROOT, args.workdir), exist_ok=True)
    w = lambda name: os.path.join(args.workdir, name)
    g = [args.gnmt, "bench"]
    threads = ["--set", f"training.threads={args.threads}"]

    # Inputs, written by gnmt with the checkpoint's SentencePiece model.
    n_small, n_big = (5, 3) if args.quick else (8, 4)
    test = "data/bible/test.en"
    if args.quick:
        with open(os.path.join(ROOT, test), encoding="utf-8") as f:
            lines = f.readlines()[:200]
        test = w("test200.en")
        with open(os.path.join(ROOT, test), "w", encoding="utf-8") as f:
            f.writelines(lines)
    run(g + SMALL + ["-m", args.checkpoint, "--dump-batches", w("small.batches"), "--num-batches", str(n_small)], env)
    run(g + BIG + ["-m", args.checkpoint, "--dump-batches", w("big.batches"), "--num-batches", str(n_big)], env)
    run(g + ["-m", args.checkpoint, "--dump-test", w("test.ids"), "--test", test], env)

    ref = [PYTHON, "scripts/bench/reference_gnmt.py"]
    measurements = [  # name, gnmt command, reference command, key
        ("train tok/s bible-small", g + SMALL + threads + ["--batches", w("small.batches")],
         ref + ["train", "--batches", w("small.batches"), "--threads", str(args.threads)], "train_tok_s"),
        ("train tok/s 512 4+4 (4096 tok)", g + BIG + threads + ["--batches", w("big.batches"), "--warmup", "1"],
         ref + ["train", "--batches", w("big.batches"), "--threads", str(args.threads), "--warmup", "1"], "train_tok_s"),
        ("greedy sent/s", g + SMALL + threads + ["-m", args.checkpoint, "--translate", w("test.ids"), "--beam", "1"],
         ref + ["translate", "--ids", w("test.ids"), "--beam", "1", "--threads", str(args.threads)], "sentences_s"),
        ("beam-5 sent/s", g + SMALL + threads + ["-m", args.checkpoint, "--translate", w("test.ids"), "--beam", "5"],
         None if args.no_ref_beam else
         ref + ["translate", "--ids", w("test.ids"), "--beam", "5", "--threads", str(args.threads)], "sentences_s"),
    ]
    results = {name: {"gnmt": [], "ref": []} for name, *_ in measurements}
    for rep in range(reps):
        for name, gcmd, rcmd, key in measurements:
            # The reference's beam search is slow and not part of a target: once, in the first repetition.
            order = [("gnmt", gcmd), ("ref", rcmd if (rep == 0 or "beam-5" not in name) else None)]
            for who, cmd in (order if rep % 2 == 0 else order[::-1]):
                if cmd is None:
                    continue
                r = run(cmd, env)
                results[name][who].append(r)
                print(f"rep {rep + 1}/{reps} {name:32s} {who:4s} {r[key]:10.2f}  (peak RSS {r['peak_rss_mib']:.0f} MiB, "
                      f"{r['wall_s']:.0f} s)", flush=True)

    med = lambda rs, key: statistics.median(r[key] for r in rs) if rs else float("nan")
    print(f"\nmedians of {reps} alternating run(s), {args.threads} threads, OMP_WAIT_POLICY=PASSIVE")
    print("(per CPU s: the same work per CPU second, user + system of all threads; steadier on a shared machine)")
    print(f"{'measurement':34s} {'gnmt':>10s} {'reference':>10s} {'ratio':>7s} {'per CPU s':>10s} {'gnmt RSS':>9s} {'ref RSS':>9s}")
    for name, _, _, key in measurements:
        rg, rr = results[name]["gnmt"], results[name]["ref"]
        a, b = med(rg, key), med(rr, key)
        cpu_key = key[:-2] + "_cpu_s"
        cpu_ratio = med(rg, cpu_key) / med(rr, cpu_key)
        print(f"{name:34s} {a:10.2f} {b:10.2f} {a / b:6.2f}x {cpu_ratio:9.2f}x "
              f"{med(rg, 'peak_rss_mib'):8.0f}M {med(rr, 'peak_rss_mib'):8.0f}M")
    big = results["train tok/s 512 4+4 (4096 tok)"]
    mfu = med(big["gnmt"], "mfu_percent")
    ratio = med(big["ref"], "train_tok_s") / med(big["gnmt"], "train_tok_s")
    print(f"{'MFU 512 4+4 (% of GEMM rate)':34s} {mfu:10.1f} {mfu * ratio:10.1f}   (GEMM rate {med(big['gnmt'], 'gemm_gflops'):.1f} "
          f"GFLOP/s; the reference's from its tokens/s and the same FLOP count)")
    greedy_ref = med(results["greedy sent/s"]["ref"], "sentences_s")
    beam_gnmt = med(results["beam-5 sent/s"]["gnmt"], "sentences_s")
    print(f"{'gnmt beam-5 / reference greedy':34s} {beam_gnmt / greedy_ref:10.2f}x")
    for name in ("greedy sent/s", "beam-5 sent/s"):
        rg, rr = results[name]["gnmt"], results[name]["ref"]
        print(f"output tokens, {name[:-7]}: gnmt {med(rg, 'output_tokens'):.0f}, reference {med(rr, 'output_tokens'):.0f}")


if __name__ == "__main__":
    main()
