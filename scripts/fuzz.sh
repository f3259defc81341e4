#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, preset `fuzz`) and runs each for N seconds (default 10)
# from its seed corpus in fuzz/corpus/<target>/ (if any). Any crash fails the script.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET="${1:-10}"
mapfile -t TARGETS < <(ls fuzz/fuzz_*.cpp 2>/dev/null | xargs -n1 basename | sed 's/\.cpp$//')
[ "${#TARGETS[@]}" -gt 0 ] || { echo "no fuzz targets"; exit 0; }
bash scripts/build.sh fuzz "${TARGETS[@]}" >/dev/null
export TRINITY_TOKENIZER_DIR="${TRINITY_TOKENIZER_DIR:-$ROOT/.cache/qwen3-tokenizer}"
for t in "${TARGETS[@]}"; do
  work="$(mktemp -d)"
  seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds=("fuzz/corpus/$t")
  if ! "build/fuzz/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 \
      -artifact_prefix="$work/" "$work" "${seeds[@]}" >"$work/log" 2>&1; then
    echo "fuzz: $t FAILED"; tail -40 "$work/log"; exit 1
  fi
  echo "fuzz: $t ok ($(grep -oE 'Done [0-9]+ runs' "$work/log" | tail -1))"
  rm -rf "$work"
done
