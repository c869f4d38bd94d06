#!/usr/bin/env python3
"""Sums up a Chrome trace of `gnmt bench --profile FILE` (Kineto's, or the legacy profiler's).

  profile_summary.py TRACE [N]   the N most expensive entries of each table (default 25)

Tables: operators by CPU self time; with CUDA kernels in the trace, also the kernels by GPU time, the GPU
time by the operator that launched each kernel, and how busy the GPU was between its first and last kernel."""
import collections
import json
import sys

GPU_CATS = ("kernel", "gpu_memcpy", "gpu_memset")


def load_events(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if text.startswith("["):  # the legacy profiler's list, possibly unterminated
        if not text.endswith("]"):
            text = text.rstrip(",") + "]"
        return json.loads(text)
    return json.loads(text).get("traceEvents", [])


def innermost_ops(ops, points):
    """ops: (start, end, name) of one thread, nested as a call stack; points: timestamps. For each point
    the name of the innermost op holding it, or None (one sweep)."""
    ops = sorted(ops, key=lambda o: (o[0], -o[1]))
    out, stack, i = {}, [], 0
    for ts in sorted(set(points)):
        while i < len(ops) and ops[i][0] <= ts:
            while stack and stack[-1][1] < ops[i][0]:
                stack.pop()
            stack.append(ops[i])
            i += 1
        while stack and stack[-1][1] < ts:
            stack.pop()
        out[ts] = stack[-1][2] if stack else None
    return out


def self_times(ops):
    ops = sorted(ops, key=lambda e: (e.get("tid"), e["ts"], -e["dur"]))
    self_time, calls = collections.Counter(), collections.Counter()
    stacks = collections.defaultdict(list)  # tid -> open (end, name)
    for e in ops:
        stack = stacks[e.get("tid")]
        while stack and stack[-1][0] <= e["ts"]:
            stack.pop()
        if stack:
            self_time[stack[-1][1]] -= e["dur"]
        self_time[e["name"]] += e["dur"]
        calls[e["name"]] += 1
        stack.append((e["ts"] + e["dur"], e["name"]))
    return self_time, calls


def table(title, times, calls, n, total=None):
    total = total if total is not None else sum(times.values())
    print(f"{title[:60]:60s} {'ms':>10s} {'share':>7s} {'calls':>7s}")
    for name, us in times.most_common(n):
        print(f"{name[:60]:60s} {us / 1e3:10.1f} {100 * us / max(total, 1e-9):6.1f}% {calls[name]:7d}")
    print(f"{'total':60s} {total / 1e3:10.1f}\n")


def busy_time(intervals):
    busy, end = 0.0, None
    for s, e in sorted(intervals):
        if end is None or s > end:
            busy += e - s
            end = e
        elif e > end:
            busy += e - end
            end = e
    return busy


def main():
    events = [e for e in load_events(sys.argv[1]) if e.get("ph") == "X" and "dur" in e]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    kineto = any("cat" in e for e in events)
    ops = [e for e in events if not kineto or e.get("cat") == "cpu_op"]
    times, calls = self_times(ops)
    table("operator (CPU self time)", times, calls, n)

    gpu = [e for e in events if e.get("cat") in GPU_CATS]
    if not gpu:
        return
    k_time, k_calls = collections.Counter(), collections.Counter()
    for e in gpu:
        k_time[e["name"]] += e["dur"]
        k_calls[e["name"]] += 1
    table("GPU kernel", k_time, k_calls, n)

    # Kernel -> the runtime call that launched it (same correlation id) -> the innermost operator around
    # that call on its thread.
    launches = {e["args"]["correlation"]: e for e in events
                if e.get("cat") in ("cuda_runtime", "cuda_driver") and "correlation" in e.get("args", {})}
    by_tid, points = collections.defaultdict(list), collections.defaultdict(list)
    for e in ops:
        by_tid[e.get("tid")].append((e["ts"], e["ts"] + e["dur"], e["name"]))
    for e in launches.values():
        points[e.get("tid")].append(e["ts"])
    owner = {tid: innermost_ops(by_tid[tid], pts) for tid, pts in points.items()}
    o_time, o_calls = collections.Counter(), collections.Counter()
    for e in gpu:
        launch = launches.get(e.get("args", {}).get("correlation"))
        name = owner[launch.get("tid")].get(launch["ts"]) if launch else None
        name = name or "(no operator)"
        o_time[name] += e["dur"]
        o_calls[name] += 1
    table("GPU time by launching operator", o_time, o_calls, n)

    spans = [(e["ts"], e["ts"] + e["dur"]) for e in gpu]
    span = max(s[1] for s in spans) - min(s[0] for s in spans)
    busy = busy_time(spans)
    print(f"GPU busy {busy / 1e3:.1f} ms of {span / 1e3:.1f} ms between the first and last kernel "
          f"({100 * busy / max(span, 1e-9):.1f}%)")


if __name__ == "__main__":
    main()
