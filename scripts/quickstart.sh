#!/usr/bin/env bash
# The main job, end to end on the embedded English->Spanish Bible corpus, on CPU:
#   corpus -> SentencePiece -> train configs/bible-small.yaml (30 minutes) -> translate the test books
#   -> BLEU against the references (sacreBLEU-compatible), printed last.
# Run scripts/setup.sh once first. Running again resumes the run in runs/bible-small until its time
# budget is spent (and re-translates); --fresh starts over. Extra arguments go to `gnmt train`
# (e.g. --set training.max_minutes=10).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
gnmt=build/gnmt
[ -x "$gnmt" ] || { echo "quickstart: $gnmt not found: run scripts/setup.sh first" >&2; exit 1; }

run=runs/bible-small
fresh=0
args=()
for a in "$@"; do
  if [ "$a" = --fresh ]; then fresh=1; else args+=("$a"); fi
done
[ "$fresh" = 1 ] && rm -rf "$run"

echo "== 1/4 corpus"
scripts/prepare_bible.sh

echo "== 2/4 train (tokenizer + model; log in $run/train.log)"
mkdir -p "$run"
resume=()
[ -f "$run/last.pt" ] && resume=(--resume)
# Passive OpenMP waiting keeps torch's threads from spinning against other work on a shared machine.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
start=$(date +%s)
"$gnmt" train --config configs/bible-small.yaml --set run_dir="$run" "${resume[@]}" "${args[@]}" 2>&1 | tee -a "$run/train.log"
train_s=$(( $(date +%s) - start ))

echo "== 3/4 translate data/bible/test.en (beam 5)"
ckpt="$run/best.pt"; [ -f "$ckpt" ] || ckpt="$run/last.pt"
"$gnmt" translate --checkpoint "$ckpt" --input data/bible/test.en --output "$run/test.hyp.es"

echo "== 4/4 score"
echo "checkpoint $ckpt:"
"$gnmt" info "$ckpt" | sed -n '2,4p' | sed 's/^/  /'
echo "training wall time of this invocation: ${train_s} s"
"$gnmt" score data/bible/test.es -i "$run/test.hyp.es" -m bleu chrf --format text
