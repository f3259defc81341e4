#!/usr/bin/env bash
# Hostile-client probes of `trinity serve` on loopback (issue "A server that holds against hostile
# traffic"; run by CI). Starts `trinity serve --pool mock --profile mock_tiny` with default limits
# and bearer auth, then scripts/hostile_http.py reproduces each finding: request smuggling,
# chunked and compressed bodies over the limit, 64 concurrent pathological bodies against the
# documented RSS bound, 100 slowloris connections, 50 MB of headers, pipelining, keep-alive
# latency, metrics of early rejects, status codes and auth parsing, SIGTERM with a trickling
# client, and the connection cap. Asserts correctness; latencies are printed as figures.
#
#   scripts/hostile_http.sh            (TRINITY_BIN overrides build/release/apps/trinity)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${TRINITY_BIN:-$ROOT/build/release/apps/trinity}"
[ -x "$BIN" ] || { echo "hostile_http: $BIN is not built (bash scripts/build.sh release trinity)" >&2; exit 2; }
WORK="$(mktemp -d)"
PID=""
cleanup() {
  [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export HOSTILE_HTTP_KEY="probe-$$-$RANDOM"
MAX_BODY=$((1 << 20))
CONCURRENCY=64
MAX_JSON_VALUES=50000
"$BIN" serve --pool mock --profile mock_tiny --port 0 --quiet --api-key-env HOSTILE_HTTP_KEY \
  --store "sqlite:$WORK/runs.db" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
  sleep 0.05
done
URL="$(grep -oE 'http://[^ ]+' "$WORK/serve.out" | head -1)"
[ -n "$URL" ] || { echo "hostile_http: the server did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
# The RSS bound of docs/server.md ("Memory"): the idle process, plus per admitted request
# 10 x max_body_bytes + 100 B x max_json_values, plus 128 KiB per open connection (here the 64
# clients and a few probes).
BASE_KB="$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")"
BOUND_MB="$(( BASE_KB / 1024 + CONCURRENCY * (10 * MAX_BODY + 100 * MAX_JSON_VALUES) / 1048576 + 128 * 128 / 1024 ))"
echo "hostile_http: server $URL (pid $PID, idle RSS $((BASE_KB / 1024)) MB, RSS bound $BOUND_MB MB)"
status=0
/usr/bin/python3 "$ROOT/scripts/hostile_http.py" --url "$URL" --pid "$PID" --key "$HOSTILE_HTTP_KEY" \
  --bin "$BIN" --workdir "$WORK" --max-body "$MAX_BODY" --concurrency "$CONCURRENCY" \
  --max-json-values "$MAX_JSON_VALUES" --rss-bound-mb "$BOUND_MB" || status=$?
kill -TERM "$PID"
wait "$PID" || { echo "hostile_http: the server exited with status $?" >&2; status=1; }
PID=""
if ! grep -q "stopped" "$WORK/serve.err"; then
  echo "hostile_http: the server did not report a clean stop" >&2
  cat "$WORK/serve.err" >&2
  status=1
fi
exit "$status"
