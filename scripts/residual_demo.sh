#!/usr/bin/env bash
# What residual connections do for a deep LSTM stack, in two minutes on a CPU: trains the same 8+8-layer
# model on a toy task (reverse a sequence of words) twice - with GNMT's residual connections from layer 3
# up, and as a plain stack - and prints their validation curves side by side.
#   scripts/residual_demo.sh [LAYERS] [STEPS]      (defaults: 8 layers, 1500 updates)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
layers="${1:-8}"; steps="${2:-1500}"
gnmt="$here/build/gnmt"
[ -x "$gnmt" ] || { echo "residual_demo: $gnmt not found: run scripts/setup.sh first" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import random, sys
words = "ka lo mi nu pe ri so tu va xe yo zu".split()
def make(name, n, seed):
    r = random.Random(seed); src = []; tgt = []
    for _ in range(n):
        w = [r.choice(words) for _ in range(r.randint(3, 7))]
        src.append(" ".join(w)); tgt.append(" ".join(reversed(w)))
    open(f"{sys.argv[1]}/{name}.src", "w").write("\n".join(src) + "\n")
    open(f"{sys.argv[1]}/{name}.tgt", "w").write("\n".join(tgt) + "\n")
make("train", 3000, 1); make("valid", 200, 2)
PY

run() {  # $1 = name, $2 = residual_start
  "$gnmt" train --config "$here/configs/tiny.yaml" --set run_dir="$work/$1" \
    --set data.train_src="$work/train.src" --set data.train_tgt="$work/train.tgt" \
    --set data.valid_src="$work/valid.src" --set data.valid_tgt="$work/valid.tgt" \
    --set model.enc_layers="$layers" --set model.dec_layers="$layers" --set model.residual_start="$2" \
    --set training.max_steps="$steps" --set training.valid_every=250 --set training.valid_bleu_lines=200 \
    2>&1 | grep -o 'validation step.*' > "$work/$1.curve"
}
echo "training $layers+$layers layers, $steps updates each: residual from layer 3 ..."
run residual 3
echo "... and the plain stack (no residual connections)"
run plain 99
printf '\n%-8s | %-28s | %-28s\n' step "residual: xent / BLEU" "plain: xent / BLEU"
paste -d'|' "$work/residual.curve" "$work/plain.curve" | sed -E \
  's/validation step ([0-9]+): xent ([0-9.]+) ppl [0-9.]+ BLEU ([0-9.]+)[^|]*\|validation step [0-9]+: xent ([0-9.]+) ppl [0-9.]+ BLEU ([0-9.]+).*/\1|\2 \/ \3|\4 \/ \5/' |
  awk -F'|' '{ printf "%-8s | %-28s | %-28s\n", $1, $2, $3 }'
