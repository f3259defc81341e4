#!/usr/bin/env bash
# libFuzzer targets (fuzz/fuzz_<layer>_<what>.cpp), built with clang under the preset `fuzz`
# (ASan + UBSan), each run from its seed corpus fuzz/corpus/<target>/ and with its libFuzzer
# dictionary fuzz/dict/<target>.dict (if any).
#
#   scripts/fuzz.sh [N]
#     Smoke run (CI, scripts/test.sh): builds every target and runs each for N seconds
#     (default 10), one after the other, in a throwaway corpus. Any crash fails the script.
#
#   scripts/fuzz.sh --long [SECONDS] [TARGET...]
#     Long run, on demand: SECONDS per target (default 600) for the targets named (default
#     all), FUZZ_JOBS at a time (default nproc). The corpus each target grows is kept between
#     runs in $TRINITY_FUZZ_DIR/<target>/corpus (default ${XDG_CACHE_HOME:-~/.cache}/trinity/fuzz,
#     outside the repository), its log in .../<target>/log and any crashing input in
#     .../<target>/artifacts/. Prints each target's execution count (libFuzzer's
#     "Done N runs"); any crash, leak, timeout or OOM fails the script, naming the artifact.
#     Reproduce one with build/fuzz/fuzz/<target> <artifact>.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TRINITY_TOKENIZER_DIR="${TRINITY_TOKENIZER_DIR:-$ROOT/.cache/qwen3-tokenizer}"
ALL_TARGETS=()
for f in fuzz/fuzz_*.cpp; do
  [ -e "$f" ] && ALL_TARGETS+=("$(basename "$f" .cpp)")
done
[ "${#ALL_TARGETS[@]}" -gt 0 ] || { echo "no fuzz targets"; exit 0; }

seeds_of() {  # the seed corpus directory of target $1, if it has one
  [ -d "fuzz/corpus/$1" ] && echo "fuzz/corpus/$1"
  return 0
}

dict_of() {  # -dict=... for target $1, if it has a dictionary
  [ -f "fuzz/dict/$1.dict" ] && echo "-dict=fuzz/dict/$1.dict"
  return 0
}

runs_of() {  # "Done N runs" from a libFuzzer log
  grep -oE 'Done [0-9]+ runs' "$1" | tail -1 || true
}

if [ "${1:-}" != "--long" ]; then
  SECONDS_PER_TARGET="${1:-10}"
  bash scripts/build.sh fuzz "${ALL_TARGETS[@]}" >/dev/null
  for t in "${ALL_TARGETS[@]}"; do
    work="$(mktemp -d)"
    mapfile -t seeds < <(seeds_of "$t")
    mapfile -t dict < <(dict_of "$t")
    if ! "build/fuzz/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 \
        "${dict[@]}" -artifact_prefix="$work/" "$work" "${seeds[@]}" >"$work/log" 2>&1; then
      echo "fuzz: $t FAILED"; tail -40 "$work/log"; exit 1
    fi
    echo "fuzz: $t ok ($(runs_of "$work/log"))"
    rm -rf "$work"
  done
  exit 0
fi

shift
SECONDS_PER_TARGET=600
if [ "$#" -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  SECONDS_PER_TARGET="$1"
  shift
fi
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [ -f "fuzz/$t.cpp" ] || { echo "fuzz: no target $t (fuzz/$t.cpp)" >&2; exit 2; }
done
JOBS="${FUZZ_JOBS:-$(nproc)}"
WORK="${TRINITY_FUZZ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trinity/fuzz}"
case "$WORK/" in
  "$ROOT"/*) echo "fuzz: TRINITY_FUZZ_DIR must be outside the repository" >&2; exit 2 ;;
esac
bash scripts/build.sh fuzz "${TARGETS[@]}" >/dev/null
echo "fuzz: ${#TARGETS[@]} target(s), ${SECONDS_PER_TARGET} s each, $JOBS at a time, corpora in $WORK"

# Runs target $1 for SECONDS_PER_TARGET; leaves libFuzzer's exit status in $WORK/$1/rc.
run_long() {
  local t="$1" dir="$WORK/$1" rc=0
  mkdir -p "$dir/corpus" "$dir/artifacts"
  rm -f "$dir/rc"
  mapfile -t seeds < <(seeds_of "$t")
  mapfile -t dict < <(dict_of "$t")
  "build/fuzz/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 "${dict[@]}" \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 \
    "$dir/corpus" "${seeds[@]}" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $t ok ($(runs_of "$dir/log"); corpus $(find "$dir/corpus" -type f | wc -l) files)"
  else
    echo "fuzz: $t FAILED (exit $rc)"
  fi
}

for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run_long "$t" &
done
wait

failed=0
for t in "${TARGETS[@]}"; do
  dir="$WORK/$t"
  [ "$(cat "$dir/rc" 2>/dev/null || echo 1)" = 0 ] && continue
  failed=1
  artifact="$(grep -oE 'Test unit written to [^ ]+' "$dir/log" | tail -1 | sed 's/^Test unit written to //' || true)"
  echo "fuzz: $t FAILED: artifact ${artifact:-(none written)}; log $dir/log"
  grep -m2 -E '^==[0-9]+== ?ERROR|runtime error:|terminate called|out-of-memory|timeout after' \
    "$dir/log" || tail -20 "$dir/log"
  [ -n "$artifact" ] && echo "  reproduce: build/fuzz/fuzz/$t $artifact"
done
exit "$failed"
