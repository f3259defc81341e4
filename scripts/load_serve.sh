#!/usr/bin/env bash
# Load test of `trinity serve` (outside the test suite): starts a server on an ephemeral
# loopback port, runs bench/load_serve.mjs against it and stops it with SIGTERM.
#
#   scripts/load_serve.sh [--bin PATH] [--requests 2000] [--concurrency 64]
#                         [--endpoint chat|stream|route] [-- extra serve flags...]
#
# Default router: --profile mock_tiny with the built-in mock pool. For the real router on the
# tiny synthetic model:
#   trinity make-test-model --out /tmp/tiny --preset tiny
#   scripts/load_serve.sh -- --base /tmp/tiny --vector /tmp/tiny/router_vector.npy --profile reference
#
# mock_tiny routes by hash, and about half of all prompts end up at a Verifier before
# any Worker answer, which the coordinator rejects (422 verifier_before_worker_response). The
# load therefore cycles through bench/load_serve_prompts.txt, prompts whose mock_tiny runs
# complete; every non-200 answer counts as an error.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${TRINITY_BIN:-$ROOT/build/release/apps/trinity}"
REQUESTS=2000
CONCURRENCY=64
ENDPOINT=chat
PROMPTS="$ROOT/bench/load_serve_prompts.txt"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --endpoint) ENDPOINT="$2"; shift 2 ;;
    --prompts-file) PROMPTS="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
SERVE_ARGS=("$@")
[ "${#SERVE_ARGS[@]}" -gt 0 ] || SERVE_ARGS=(--profile mock_tiny)

LOG="$(mktemp -d)"
# Runs are persisted as in production, into a store of this run (unless the flags name one).
case " ${SERVE_ARGS[*]} " in *" --store "*) ;; *) SERVE_ARGS+=(--store "sqlite:$LOG/runs.db") ;; esac
trap 'kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$LOG"' EXIT
"$BIN" serve --pool mock --port 0 --quiet --max-concurrency "$CONCURRENCY" "${SERVE_ARGS[@]}" \
  >"$LOG/out" 2>"$LOG/err" &
PID=$!
for _ in $(seq 1 600); do
  grep -q "listening on" "$LOG/out" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG/err" >&2; exit 1; }
  sleep 0.1
done
URL="$(grep -o 'http://[^ ]*' "$LOG/out" | head -1)"
echo "server: $(head -1 "$LOG/out")"
RC=0
node "$ROOT/bench/load_serve.mjs" --url "$URL" --requests "$REQUESTS" \
  --concurrency "$CONCURRENCY" --endpoint "$ENDPOINT" --prompts-file "$PROMPTS" || RC=$?
kill -TERM "$PID"
SRC=0
wait "$PID" || SRC=$?
echo "server exit code: $SRC"
exit "$RC"
