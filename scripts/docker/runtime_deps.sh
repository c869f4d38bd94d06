#!/usr/bin/env bash
# The runtime libraries of the CPU image (gnmt's Debian dependencies; torch comes with the copied venv).
# Installs only what is missing, so CI can run it through scripts/docker_steps.sh.
set -euo pipefail
packages="libyaml-cpp0.7 libspdlog1.10 libfmt9 libsentencepiece0 libgomp1 python3"
need=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
else
  echo "runtime_deps: present:" $packages
fi
if [ -f /.dockerenv ]; then rm -rf /var/lib/apt/lists/*; fi
