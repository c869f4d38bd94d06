#!/usr/bin/env bash
# Builds (Release, incremental) and runs the whole test suite with CTest.
#   scripts/test.sh [ctest args...]      e.g. scripts/test.sh -R Model
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/build.sh" Release
cd "$here/build"
# Tests that train use 1 thread each; two run side by side on the 2 cores.
ctest --output-on-failure --timeout 1200 -j "${GNMT_TEST_JOBS:-2}" "$@"
