#!/usr/bin/env bash
# The main job on an embedded default: installs what it needs, builds (Release), creates the
# synthetic coordinator once (cached in .cache/demo/), and shows it working end to end.
#   TRINITY_DEMO_PRESET=qwen3-0.6b   use the real Qwen3-0.6B shape instead of the tiny preset
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
echo "== building trinity (Release)"
bash scripts/build.sh release trinity >/dev/null
BIN="$ROOT/build/release/apps/trinity"
PRESET="${TRINITY_DEMO_PRESET:-tiny}"
DEMO="$ROOT/.cache/demo/$PRESET"
MODEL="$DEMO/model"
mkdir -p "$DEMO"

if [ ! -s "$MODEL/model.safetensors" ]; then
  echo "== creating the synthetic $PRESET checkpoint (once; cached in $MODEL)"
  "$BIN" make-test-model --out "$MODEL" --preset "$PRESET" --seed 1 \
    --tokenizer "$ROOT/.cache/qwen3-tokenizer"
fi

PROMPT='user: What is 17 + 25? Answer briefly.'
echo
echo "== tokenize: \"$PROMPT\""
"$BIN" tokenize --tokenizer "$MODEL" --text "$PROMPT" | tee "$DEMO/ids.json"
echo
echo "== forward (profile reference): final hidden states of every position"
"$BIN" forward --model "$MODEL" --ids-file "$DEMO/ids.json" --out "$DEMO/hidden.npy"
echo
echo "Done. Files: $MODEL (checkpoint, tokenizer, router_vector.npy), $DEMO/hidden.npy"
