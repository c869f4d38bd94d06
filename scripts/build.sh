#!/usr/bin/env bash
# Configure and build into build/ (Release by default). Usage: scripts/build.sh [Release|Debug|Sanitize]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/scripts/deps.env"
type="${1:-Release}"
dir="$here/build"; extra=()
if [ "$type" = Sanitize ]; then dir="$here/build-sanitize"; type=RelWithDebInfo; extra=(-DGNMT_SANITIZE=ON); fi
[ -x "$GNMT_VENV/bin/python" ] || { echo "build.sh: $GNMT_VENV not found: run scripts/setup.sh first" >&2; exit 1; }
prefix=$("$GNMT_VENV/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_BASEDIR="$here"
export CCACHE_DIR="${CCACHE_DIR:-$GNMT_DEPS/ccache}"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
[ -f "$dir/CMakeCache.txt" ] && gen=()   # the generator is fixed at the first configure
cmake -S "$here" -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE="$type" -DCMAKE_PREFIX_PATH="$prefix" \
      -DGNMT_PYTHON="$GNMT_TEST_VENV/bin/python" -DGNMT_BUILD_TESTS="${GNMT_BUILD_TESTS:-ON}" "${extra[@]}" >/dev/null
cmake --build "$dir" -j "${GNMT_JOBS:-$(nproc)}"
