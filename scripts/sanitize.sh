#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer job: builds build-sanitize/ (scripts/build.sh Sanitize:
# RelWithDebInfo, -fsanitize=address,undefined) and runs the unit tests under it. Any ASan or UBSan report
# fails the test that triggered it (halt_on_error). The long training tests (the toy task learned end to end,
# kill-and-resume, disk-full remounts, sacreBLEU comparison) are left to the Release suite to keep CI short;
# GNMT_SANITIZE_EXCLUDE='' runs everything.
#   scripts/sanitize.sh [ctest args...]        e.g. scripts/sanitize.sh -R BadInput
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/build.sh" Sanitize
cd "$here/build-sanitize"
# LibTorch is not instrumented: its allocations are not tracked, and its own operator new/delete pairs are
# not ours to check (alloc_dealloc_mismatch). Leaks: LibTorch's intentional process-lifetime singletons.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:alloc_dealloc_mismatch=0:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export OMP_WAIT_POLICY=PASSIVE
exclude="${GNMT_SANITIZE_EXCLUDE-Cli\.LearnsToReverse|Cli\.ResumeContinues|OnDevice\.TrainsTheToyTask|CheckpointResume\.|CheckpointTraining\.|score_vs_sacrebleu}"
ctest --output-on-failure --timeout 1200 -j "${GNMT_TEST_JOBS:-2}" ${exclude:+-E "$exclude"} "$@"
