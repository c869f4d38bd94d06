#!/usr/bin/env python3
"""scripts/bench/profile_summary.py on a hand-made Kineto trace whose sums are worked out by hand: the CPU
self times of nested operators, GPU time per kernel, GPU time per launching operator (through the launch's
correlation id and the innermost operator around the launch), and the GPU's busy share. Also the legacy
profiler's unterminated list format."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "bench", "profile_summary.py")


def op(name, ts, dur, tid=1, cat="cpu_op"):
    e = {"ph": "X", "name": name, "ts": ts, "dur": dur, "tid": tid, "pid": 1}
    if cat:
        e["cat"] = cat
    return e


def launch(ts, corr, tid=1):
    e = op("cudaLaunchKernel", ts, 5, tid, "cuda_runtime")
    e["args"] = {"correlation": corr}
    return e


def kernel(name, ts, dur, corr):
    return {"ph": "X", "cat": "kernel", "name": name, "ts": ts, "dur": dur, "tid": 7, "pid": 0,
            "args": {"correlation": corr}}


def run(events, legacy=False):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        if legacy:
            f.write(json.dumps(events)[:-1] + ",")  # the legacy writer may leave the list open
        else:
            json.dump({"traceEvents": events}, f)
    try:
        out = subprocess.run([sys.executable, SCRIPT, f.name], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    tables, current = {}, None
    for line in out.splitlines():
        if line.startswith("GPU busy"):
            tables["busy"] = line
        elif line.endswith(" ms   share   calls"):
            current = tables.setdefault(line.split("  ")[0].strip(), {})
        elif current is not None and line.strip():
            parts = line.split()
            if parts[0] == "total":
                current["total"] = float(parts[1])
            else:
                current[line[:60].strip()] = (float(parts[-3]), parts[-2], int(parts[-1]))
    return tables


class ProfileSummary(unittest.TestCase):
    def test_kineto_trace_with_kernels(self):
        events = [
            op("aten::linear", 0, 100), op("aten::addmm", 10, 50), launch(20, 7), launch(70, 8),
            op("aten::tanh", 200, 30), launch(210, 9),
            op("aten::tanh", 1000, 40, tid=2), launch(1010, 10, tid=2),  # another thread
            kernel("sm90_gemm", 30, 400, 7), kernel("bias", 430, 100, 8), kernel("tanh_kernel", 1030, 500, 9),
            kernel("tanh_kernel", 1600, 1000, 10),
        ]
        t = run(events)
        cpu = t["operator (CPU self time)"]
        # linear 100 - 50 (addmm inside) = 50 us; addmm 50; tanh 30 + 40 = 70 over two calls; total 170 us.
        self.assertEqual(cpu["aten::linear"], (0.1, "29.4%", 1))
        self.assertEqual(cpu["aten::tanh"], (0.1, "41.2%", 2))
        self.assertEqual(cpu["total"], 0.2)
        k = t["GPU kernel"]
        self.assertEqual(k["tanh_kernel"], (1.5, "75.0%", 2))
        self.assertEqual(k["sm90_gemm"], (0.4, "20.0%", 1))
        by_op = t["GPU time by launching operator"]
        # The launch at 70 us is after addmm ended (60 us): its kernel belongs to linear.
        self.assertEqual(by_op["aten::linear"], (0.1, "5.0%", 1))
        self.assertEqual(by_op["aten::addmm"], (0.4, "20.0%", 1))
        self.assertEqual(by_op["aten::tanh"], (1.5, "75.0%", 2))
        # Kernels cover 30-530, 1030-1530 and 1600-2600: 2000 of 2570 us.
        self.assertIn("GPU busy 2.0 ms of 2.6 ms", t["busy"])
        self.assertIn("(77.8%)", t["busy"])

    def test_legacy_trace_has_operators_only(self):
        t = run([op("aten::mm", 0, 300, cat=None), op("aten::add", 400, 100, cat=None)], legacy=True)
        self.assertNotIn("GPU kernel", t)
        self.assertEqual(t["operator (CPU self time)"]["aten::mm"], (0.3, "75.0%", 1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
