#!/usr/bin/env python3
"""Sums a Chrome trace (gnmt bench --profile FILE) by operator: self time, calls, share. Usage:
profile_summary.py TRACE [N]   (the N most expensive operators; default 25)"""
import collections
import json
import sys


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read().strip()
    if not text.endswith("]"):
        text = text.rstrip(",") + "]"
    events = [e for e in json.loads(text) if e.get("ph") == "X" and "dur" in e]
    events.sort(key=lambda e: (e.get("tid"), e["ts"], -e["dur"]))
    self_time, calls = collections.Counter(), collections.Counter()
    stacks = collections.defaultdict(list)  # tid -> open (end, name)
    for e in events:
        stack = stacks[e.get("tid")]
        while stack and stack[-1][0] <= e["ts"]:
            stack.pop()
        if stack:
            self_time[stack[-1][1]] -= e["dur"]
        self_time[e["name"]] += e["dur"]
        calls[e["name"]] += 1
        stack.append((e["ts"] + e["dur"], e["name"]))
    total = sum(self_time.values())
    print(f"{'operator':50s} {'self ms':>10s} {'share':>7s} {'calls':>7s}")
    for name, us in self_time.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 25):
        print(f"{name[:50]:50s} {us / 1e3:10.1f} {100 * us / total:6.1f}% {calls[name]:7d}")
    print(f"{'total':50s} {total / 1e3:10.1f}")


if __name__ == "__main__":
    main()
