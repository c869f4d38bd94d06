#!/usr/bin/env bash
# The Dockerfile's CPU image steps before scripts/setup.sh: the few packages setup.sh itself needs, and the
# CUDA 13 toolkit that the torch wheel's CMake files require to configure (from NVIDIA's Debian 12
# repository; nothing CUDA runs in the CPU image). Idempotent: on a machine that has them (CI) it installs
# nothing. Run by the Dockerfile and, through scripts/docker_steps.sh, by CI.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need=""
for p in ca-certificates python3 python3-venv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "cpu_deps: CUDA toolkit present ($( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) | head -1))"
else
  echo "cpu_deps: installing the CUDA 13.0 toolkit from NVIDIA's Debian 12 repository"
  command -v wget >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wget >/dev/null; }
  tmp=$(mktemp -d)
  wget -q -O "$tmp/keyring.deb" https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/cuda-keyring_1.1-1_all.deb
  $SUDO dpkg -i "$tmp/keyring.deb" >/dev/null
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends cuda-toolkit-13-0 >/dev/null
  rm -rf "$tmp"
fi
# Inside an image build, drop apt's lists to keep the layer small (never on a real machine).
if [ -f /.dockerenv ]; then rm -rf /var/lib/apt/lists/*; fi
