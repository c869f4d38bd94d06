#!/usr/bin/env bash
# Benchmark `gnmt score` against sacreBLEU on generated 100k-line files (fixed seed).
#
#   scripts/bench/score_bench.sh [GNMT_BINARY] [PYTHON_WITH_SACREBLEU]
#
# Environment: LINES (default 100000), RUNS (gnmt runs per metric, default 5), SB_RUNS (sacreBLEU
# runs per metric, default 3), METRICS (default "bleu chrf chrf++"), WORKDIR (default: a temp dir).
# Prints, per metric, the median wall time of each tool, the speed ratio, gnmt's median CPU time
# (user + sys, all threads), and checks that both print the same score line; then the same for a
# 1-line file (start-up time).
set -euo pipefail
GNMT=${1:-build/gnmt}
PY=${2:-/opt/gnmt-deps/test-venv/bin/python}
LINES=${LINES:-100000}
RUNS=${RUNS:-5}
SB_RUNS=${SB_RUNS:-3}
METRICS=${METRICS:-"bleu chrf chrf++"}
WORK=${WORKDIR:-$(mktemp -d -t gnmt_score_bench.XXXXXX)}
mkdir -p "$WORK"

"$PY" - "$WORK" "$LINES" <<'PYEOF'
import os, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261203)
syll = ["ka", "to", "ri", "men", "sa", "lo", "ver", "an", "di", "pu", "ne", "sto", "gra", "el", "mo", "tis"]
vocab = sorted({"".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(20000)})
weights = [1.0 / (i + 1) for i in range(len(vocab))]  # Zipf-like
punct = [",", ".", "!", "?", ";", ":", "'s", "(", ")", "\"", "-", "3.5", "1,000", "U.S.", "e.g."]
uni = ["café", "naïve", "Straße", "ΟΔΟΣ", "Москва", "中文", "日本語", "€5", "—", "…", "“q”"]
def sent():
    k = rng.randint(5, 45)
    words = rng.choices(vocab, weights, k=k)
    out = []
    for w in words:
        r = rng.random()
        if r < 0.08:
            out.append(rng.choice(punct))
        elif r < 0.1:
            out.append(rng.choice(uni))
        out.append(w.capitalize() if rng.random() < 0.1 else w)
    return " ".join(out) + rng.choice([" .", ".", "?", "!"])
def mutate(s):
    ws = s.split(" ")
    out = []
    for w in ws:
        r = rng.random()
        if r < 0.12:
            continue
        out.append(rng.choices(vocab, weights)[0] if r < 0.3 else w)
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)
with open(os.path.join(work, "ref.txt"), "w") as fr, open(os.path.join(work, "hyp.txt"), "w") as fh:
    for _ in range(n):
        s = sent()
        fr.write(s + "\n")
        fh.write(mutate(s) + "\n")
PYEOF
echo "data: $WORK ($(wc -l < "$WORK/ref.txt") lines, $(du -h "$WORK/hyp.txt" | cut -f1) hyp, $(du -h "$WORK/ref.txt" | cut -f1) ref)"

printf 'a b c d e f g\n' > "$WORK/ref1.txt"
printf 'a b c d e g f\n' > "$WORK/hyp1.txt"

# time_runs N CMD... -> prints the median wall time and the median CPU time (user + sys, seconds) of
# N runs; stdout of the last run in $WORK/last.out
time_runs() {
  local n=$1; shift
  local walls=() cpus=()
  for ((i = 0; i < n; i++)); do
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$WORK/cpu.txt" "$@" > "$WORK/last.out" 2>/dev/null
    t1=$(date +%s.%N)
    walls+=("$(echo "$t1 - $t0" | bc -l)")
    cpus+=("$(awk '{print $1 + $2}' "$WORK/cpu.txt")")
  done
  echo "$(median "${walls[@]}") $(median "${cpus[@]}")"
}
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

printf '%-10s %9s %14s %8s %14s  %s\n' metric "gnmt (s)" "sacrebleu (s)" ratio "gnmt CPU (s)" "same output"
row() {  # row LABEL REF HYP METRIC-ARGS...
  local label=$1 ref=$2 hyp=$3; shift 3
  read -r tg cg < <(time_runs "$RUNS" "$GNMT" score "$ref" -i "$hyp" "$@" -f text -q)
  cp "$WORK/last.out" "$WORK/gnmt.out"
  read -r ts _ < <(time_runs "$SB_RUNS" env NO_COLOR=1 "$PY" -m sacrebleu "$ref" -i "$hyp" "$@" -f text -q)
  local same=no
  cmp -s "$WORK/gnmt.out" "$WORK/last.out" && same=yes
  printf '%-10s %9.3f %14.3f %7.1fx %14.2f  %s\n' "$label" "$tg" "$ts" "$(echo "$ts / $tg" | bc -l)" "$cg" "$same"
}
for m in $METRICS; do
  case $m in
    chrf++) args=(-m chrf -cw 2) ;;
    *) args=(-m "$m") ;;
  esac
  row "$m" "$WORK/ref.txt" "$WORK/hyp.txt" "${args[@]}"
done
row "start-up" "$WORK/ref1.txt" "$WORK/hyp1.txt" -m bleu chrf
[[ -n ${WORKDIR:-} ]] || rm -rf "$WORK"
