#!/usr/bin/env bash
# GPU check in one script, for a GPU machine without network that has python3 with torch 2.11 (CUDA), nvcc,
# CMake and a C++ compiler. It builds gnmt against that torch, runs the tests (CUDA variants included),
# trains a few hundred steps of configs/gnmt-4x1024.yaml in bf16 and prints target tokens/s and peak GPU
# memory. Target on one H200: >= 300,000 target tokens/s. Keep it under 8 minutes.
#
#   scripts/gpu_check.sh --fetch      here, with network: the Debian .deb files into shared/debs/
#   scripts/gpu_check.sh [--quick]    there: unpack the .debs into a prefix, build, test, train
#                                     (--quick: only the CUDA tests, not the whole suite)
# Environment: GNMT_DEBS (default shared/debs), GNMT_DEB_PREFIX (default /tmp/gnmt-debs), PYTHON (python3),
# GPU_CHECK_STEPS (300), GPU_CHECK_SET (extra "key=value ..." config overrides for steps 4 and 5: a dry run
# on a machine without a GPU uses "device=cpu model.hidden_size=64 ..."), OUT (where the logs, the profile
# and its summary go; the device tool sets it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
debs="${GNMT_DEBS:-$here/shared/debs}"
# The -dev packages the build needs and the runtime libraries they point to.
packages="libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libcli11-dev
  libsentencepiece-dev libsentencepiece0 libgtest-dev libgloo-dev ninja-build"

if [ "${1:-}" = "--fetch" ]; then
  mkdir -p "$debs"
  # apt-get download needs current package lists: on a machine whose lists are stale it fails per package.
  fetch() { (cd "$debs" && apt-get download $packages 2>&1 | grep -v "^W: Download is performed unsandboxed"); }
  if ! fetch; then
    echo "gpu_check: apt-get download failed; refreshing the package lists (apt-get update) and trying again" >&2
    apt-get update -qq && fetch || { echo "gpu_check: could not download the .deb files into $debs" >&2; exit 1; }
  fi
  missing=""
  for p in $packages; do ls "$debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] || { echo "gpu_check: no .deb in $debs for:$missing" >&2; exit 1; }
  ls -la "$debs"
  [ -f data/bible/train.en ] || echo "gpu_check: data/bible missing: run scripts/prepare_bible.sh (and carry data/bible)" >&2
  exit 0
fi

quick=0; [ "${1:-}" = "--quick" ] && quick=1
t_start=$(date +%s)
stamp() { echo "[gpu_check $(( $(date +%s) - t_start )) s] $*"; }
out="${OUT:-$here/gpu_check_out}"; mkdir -p "$out"
python="${PYTHON:-python3}"
prefix="${GNMT_DEB_PREFIX:-/tmp/gnmt-debs}"

stamp "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'nvidia-smi not found')"
torch_prefix=$("$python" -c 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)')
stamp "torch $("$python" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())')"

# 1. Debian libraries: unpacked, not installed.
ls "$debs"/*.deb >/dev/null 2>&1 || { echo "gpu_check: no .deb files in $debs (run scripts/gpu_check.sh --fetch where there is network)" >&2; exit 2; }
mkdir -p "$prefix"
for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$prefix"; done
arch_lib="$prefix/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$arch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$prefix/usr/bin:$PATH"
# cuDNN / NCCL headers: the CUDA toolkit's, else those of the pip packages beside torch.
site=$("$python" -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))')
[ -f "$site/nvidia/nccl/include/nccl.h" ] && export NCCL_INCLUDE_DIR="$site/nvidia/nccl/include"
cudnn_args=()
[ -d "$site/nvidia/cudnn/include" ] && cudnn_args=(-DCUDNN_INCLUDE_PATH="$site/nvidia/cudnn/include")
stamp "unpacked $(ls "$debs"/*.deb | wc -l) .deb files into $prefix"

# 2. Build (Release, tests on).
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
arch=$("$python" -c 'import torch; c = torch.cuda.get_device_capability() if torch.cuda.is_available() else (9, 0); print(f"{c[0]}.{c[1]}")')
export TORCH_CUDA_ARCH_LIST="$arch"
cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" \
      -DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu "${cudnn_args[@]}" > "$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { grep -B5 -A20 -m3 "error" "$out/build.log" | head -80; exit 1; }
stamp "built build-gpu/gnmt"

# 3. Tests: the CUDA variants of the device tests, then (unless --quick) the whole suite.
status=0
build-gpu/tests/gnmt_tests --gtest_filter='Devices/*' > "$out/device_tests.log" 2>&1 || status=1
grep -E "^\[ +(OK|FAILED|SKIPPED) +\]" "$out/device_tests.log" | sed 's/^/  /'
if [ "$quick" = 0 ]; then
  (cd build-gpu && OMP_WAIT_POLICY=PASSIVE ctest -j "$(( $(nproc) / 2 ))" --timeout 300 -E 'Devices/' > "$out/ctest.log" 2>&1) || status=1
  grep -E "tests passed|tests failed|\*\*\*Failed|Timeout" "$out/ctest.log" | sed 's/^/  /'
fi
stamp "tests done (status $status)"

# 4. Training throughput: 4+4 x 1024, bf16, a few hundred steps on the Bible corpus.
steps="${GPU_CHECK_STEPS:-300}"
extra=(); for kv in ${GPU_CHECK_SET:-}; do extra+=(--set "$kv"); done
[ -f data/bible/train.en ] || { echo "gpu_check: data/bible/train.en missing (carry data/bible)" >&2; exit 2; }
run=/tmp/gnmt-gpu-run
train() {
  rm -rf "$run"
  build-gpu/gnmt train -c configs/gnmt-4x1024.yaml --set run_dir="$run" --set training.max_steps="$steps" \
    --set training.valid_every=0 --set training.save_every=0 --set training.log_every=25 --set data.valid_src= \
    --set data.valid_tgt= "${extra[@]}" > "$out/train.log" 2>&1
}
if ! train; then
  # Should the fused CUDA attention kernels be at fault, the throughput is still measured without them.
  tail -20 "$out/train.log"; status=1
  echo "gpu_check: training failed; again with GNMT_CUDA_ATTENTION=composite (the fused attention kernels off)"
  export GNMT_CUDA_ATTENTION=composite
  train || { tail -20 "$out/train.log"; exit 1; }
fi
grep -E "model:|step [0-9]+ epoch" "$out/train.log" | tail -5 | sed 's/^/  /'
# Median tokens/s over the log lines after the first 100 steps (warm-up, cuDNN plans, allocator growth).
"$python" - "$out/train.log" <<'EOF'
import re, statistics, sys
rows = [(int(m[1]), float(m[2]), float(m[3])) for m in
        re.finditer(r"step (\d+) epoch .*?\| ([0-9.]+) tgt tok/s .*?peak mem ([0-9.]+) MiB", open(sys.argv[1]).read())]
if not rows:
    sys.exit("gpu_check: no 'step N epoch ... tgt tok/s ... peak mem' lines in " + sys.argv[1])
warm = [r for r in rows if r[0] > 100] or rows
tps = statistics.median(r[1] for r in warm)
print(f"gpu_check: 4+4x1024 bf16: median {tps:,.0f} target tokens/s over steps {warm[0][0]}-{warm[-1][0]}, "
      f"peak GPU memory {max(r[2] for r in rows) / 1024:.1f} GiB (target >= 300,000 tok/s on one H200)")
EOF
stamp "trained"

# 5. Where the step's time goes. 24 training batches of the corpus (the run's tokenizer), 4 of them warm-up,
# timed four ways on the same batches: gnmt with the composite attention expression (--unfused), gnmt with
# the fused kernels, the same with LibTorch's per-parameter Adam and clip_grad_norm_ (--torch-optimizer, to
# see what the multi-tensor update saves), and the PyTorch-eager reference (scripts/bench/reference_gnmt.py, bf16 autocast as
# NVIDIA's example trains). Then 3 steps profiled (Kineto: operators and GPU kernels), summed up by kernel
# and by launching operator.
bench=(build-gpu/gnmt bench -c configs/gnmt-4x1024.yaml --set run_dir="$run" "${extra[@]}")
ref_device=cuda; [[ " ${GPU_CHECK_SET:-} " == *" device=cpu "* ]] && ref_device=cpu
if "${bench[@]}" --dump-batches "$run/batches.bin" --num-batches 24 > "$out/bench.log" 2>&1; then
  { echo "== gnmt, composite attention (--unfused)"; "${bench[@]}" --batches "$run/batches.bin" --warmup 4 --unfused; } >> "$out/bench.log" 2>&1 || status=1
  { echo "== gnmt, fused attention"; "${bench[@]}" --batches "$run/batches.bin" --warmup 4; } >> "$out/bench.log" 2>&1 || status=1
  { echo "== gnmt, fused attention, LibTorch Adam"; "${bench[@]}" --batches "$run/batches.bin" --warmup 4 --torch-optimizer; } >> "$out/bench.log" 2>&1 || status=1
  { echo "== PyTorch eager reference"; "$python" scripts/bench/reference_gnmt.py train --batches "$run/batches.bin" \
      --warmup 4 --device "$ref_device" --precision bf16; } >> "$out/bench.log" 2>&1 || status=1
  grep -E "^== |^GEMM|^result (train_tok_s|mfu_percent|peak_gpu_mib)|Error|error" "$out/bench.log" | sed 's/^/  /'
  "$python" - "$out/bench.log" <<'EOF' || status=1
import re, sys
runs, name = {}, None
for line in open(sys.argv[1]):
    if line.startswith("== "):
        name = line[3:].strip()
    elif name and (m := re.match(r"result train_tok_s ([0-9.]+)", line)):
        runs[name] = float(m[1])
ref = runs.get("PyTorch eager reference")
for name, tps in runs.items():
    print(f"gpu_check: {name:42s} {tps:12,.0f} target tokens/s" + (f"  ({tps / ref:.2f}x the reference)" if ref else ""))
EOF
else
  tail -20 "$out/bench.log"; status=1
fi
if "${bench[@]}" --dump-batches "$run/profile.bin" --num-batches 12 > "$out/profile_run.log" 2>&1 &&
   "${bench[@]}" --batches "$run/profile.bin" --warmup 9 --profile "$out/trace.json" >> "$out/profile_run.log" 2>&1; then
  "$python" scripts/bench/profile_summary.py "$out/trace.json" 15 > "$out/profile.txt" 2>&1 || status=1
  sed 's/^/  /' "$out/profile.txt"
  gzip -f "$out/trace.json"
else
  tail -20 "$out/profile_run.log"; status=1
fi
stamp "done"
exit $status
