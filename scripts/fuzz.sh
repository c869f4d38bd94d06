#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, -fsanitize=fuzzer,address,undefined) into build-fuzz/ and runs each
# for a bounded time. Seeds: tests/fuzz/corpus/<target>/ (read only); what libFuzzer finds goes to
# build-fuzz/corpus-<target>/, a crashing input to build-fuzz/crash-<target>-*. Exit code 0 = clean.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]       (default 60, or $GNMT_FUZZ_SECONDS)
# Re-run one crashing input:  build-fuzz/config_fuzz build-fuzz/crash-config-<hash>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-${GNMT_FUZZ_SECONDS:-60}}"
out="$here/build-fuzz"
cxx="${GNMT_FUZZ_CXX:-clang++-14}"
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (apt-get install clang-14)" >&2; exit 1; }
mkdir -p "$out"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
       -I"$here/src")
# The units under test need no LibTorch: the config loader (yaml-cpp) and the text/corpus reader.
"$cxx" "${flags[@]}" "$here/tests/fuzz/config_fuzz.cpp" "$here/src/config/config.cpp" "$here/src/common/fs.cpp" \
       -lyaml-cpp -o "$out/config_fuzz" &
"$cxx" "${flags[@]}" "$here/tests/fuzz/text_fuzz.cpp" "$here/src/eval/text_io.cpp" "$here/src/eval/unicode.cpp" \
       -o "$out/text_fuzz" &
wait %1 && wait %2
status=0
for target in config text; do
  mkdir -p "$out/corpus-$target"
  dict=(); [ -f "$here/tests/fuzz/$target.dict" ] && dict=(-dict="$here/tests/fuzz/$target.dict")
  echo "fuzz.sh: $target for ${seconds} s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$out/${target}_fuzz" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
       -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/crash-$target-" \
       "$out/corpus-$target" "$here/tests/fuzz/corpus/$target" > "$out/$target.log" 2>&1; then
    status=1
    echo "fuzz.sh: $target FAILED; last lines of $out/$target.log:" >&2
    tail -n 40 "$out/$target.log" >&2
  else
    grep -E "^(stat::number_of_executed_units|stat::new_units_added)" "$out/$target.log" | sed "s/^/fuzz.sh: $target: /"
  fi
done
[ "$status" = 0 ] && echo "fuzz.sh: clean"
exit "$status"
