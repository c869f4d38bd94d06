#!/usr/bin/env bash
# One-command setup on Debian 12: system packages, the pinned LibTorch (from the PyPI torch wheel) in a
# shared virtual environment, and a Release build at build/gnmt. Safe to run again: it skips what is there.
#   scripts/setup.sh            install + build
#   scripts/setup.sh --deps     install only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/scripts/deps.env"

log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages (only those missing).
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "apt-get install:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  log "Debian packages present"
fi

# 2. Python venv with the pinned torch: its libtorch is what we link.
if [ ! -x "$GNMT_VENV/bin/python" ]; then
  log "creating $GNMT_VENV"
  mkdir -p "$GNMT_DEPS"
  python3 -m venv "$GNMT_VENV"
fi
have=$("$GNMT_VENV/bin/python" -c 'import torch,sys; sys.stdout.write(torch.__version__)' 2>/dev/null || true)
if [ "${have%%+*}" != "$TORCH_VERSION" ]; then
  log "pip install torch==$TORCH_VERSION (large CUDA wheel, once)"
  "$GNMT_VENV/bin/pip" install -q --upgrade pip
  "$GNMT_VENV/bin/pip" install -q "torch==$TORCH_VERSION" numpy
else
  log "torch $have present"
fi
# 3. A separate test-only venv with the reference scorer.
[ -x "$GNMT_TEST_VENV/bin/python" ] || python3 -m venv "$GNMT_TEST_VENV"
"$GNMT_TEST_VENV/bin/python" -c "import sacrebleu; assert sacrebleu.__version__=='$SACREBLEU_VERSION'" 2>/dev/null \
  || { log "pip install sacrebleu==$SACREBLEU_VERSION (test-only venv)"; "$GNMT_TEST_VENV/bin/pip" install -q "sacrebleu==$SACREBLEU_VERSION"; }

[ "${1:-}" = "--deps" ] && exit 0

# 4. Release build.
"$here/scripts/build.sh" Release
