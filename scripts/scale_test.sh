#!/usr/bin/env bash
# Scale test of `trinity serve` behind a load balancer (outside the unit suite; CI runs it):
#   1. a throw-away PostgreSQL cluster (scripts/pg_temp.sh: its own initdb, an unprivileged user,
#      loopback only);
#   2. two replicas sharing it as their run store (--store postgres://..., --replica-id);
#   3. nginx in front of them (the config of docs/deploy.md, generated into a temp dir);
#   4. REQUESTS chat completions at CONCURRENCY through nginx with the mock pool
#      (bench/load_serve.mjs); replica A is killed with SIGKILL mid-load, then restarted as itself;
#   5. store consistency: every request answered 200 has a finished run (accepted/unverified),
#      and no run is left `running` (the killed process's runs are `interrupted` by its restart).
# Prints throughput, p50/p99, errors seen by clients and the store's figures. Exit 0 only when no
# run was lost and none is left running. Timing figures are printed, never asserted.
#
#   scripts/scale_test.sh [--bin PATH] [--requests 2000] [--concurrency 64] [--keep]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${TRINITY_BIN:-$ROOT/build/release/apps/trinity}"
REQUESTS=2000
CONCURRENCY=64
KEEP=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v nginx >/dev/null || { echo "scale_test: nginx is not installed (scripts/setup.sh)" >&2; exit 3; }
[ -x "$BIN" ] || { echo "scale_test: no trinity binary at $BIN (build first)" >&2; exit 3; }

WORK="$(mktemp -d /tmp/trinity-scale.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx/nginx.pid" ] && kill -QUIT "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
  bash "$ROOT/scripts/pg_temp.sh" stop "$WORK/pg" || true
  if [ "$KEEP" = 1 ]; then echo "scale_test: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PG_PORT="$(free_port)"; PORT_A="$(free_port)"; PORT_B="$(free_port)"; PORT_LB="$(free_port)"

echo "== PostgreSQL (initdb in $WORK/pg, port $PG_PORT)"
URI="$(bash "$ROOT/scripts/pg_temp.sh" start "$WORK/pg" "$PG_PORT")"
PSQL=(psql "$URI" -qtAX -v ON_ERROR_STOP=1)

start_replica() {  # name port; sets REPLICA_PID
  "$BIN" serve --pool mock --profile mock_tiny --host 127.0.0.1 --port "$2" --quiet \
    --max-concurrency "$CONCURRENCY" --store "$URI" --replica-id "replica-$1" \
    >>"$WORK/$1.out" 2>>"$WORK/$1.err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && { REPLICA_PID=$pid; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$1.err" >&2; return 1; }
    sleep 0.05
  done
  echo "replica $1 did not become ready" >&2
  return 1
}

echo "== replicas a (:$PORT_A) and b (:$PORT_B)"
start_replica a "$PORT_A"; PID_A=$REPLICA_PID
start_replica b "$PORT_B"

echo "== nginx (:$PORT_LB)"
mkdir -p "$WORK/nginx"
sed -e "s|@WORK@|$WORK/nginx|g" -e "s|@PORT_A@|$PORT_A|g" -e "s|@PORT_B@|$PORT_B|g" \
  -e "s|@PORT_LB@|$PORT_LB|g" "$ROOT/scripts/scale_test_nginx.conf" >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT_LB/readyz" >/dev/null 2>&1 && break
  sleep 0.05
done

echo "== load: $REQUESTS chat completions at $CONCURRENCY concurrency through nginx"
node "$ROOT/bench/load_serve.mjs" --url "http://127.0.0.1:$PORT_LB" --requests "$REQUESTS" \
  --concurrency "$CONCURRENCY" --endpoint chat --prompts-file "$ROOT/bench/load_serve_prompts.txt" \
  --ids-out "$WORK/ids.txt" --allow-errors 1 >"$WORK/load.json" 2>"$WORK/load.err" &
LOAD=$!
# Kill replica a once about a quarter of the load has been answered.
for _ in $(seq 1 600); do
  done_runs="$("${PSQL[@]}" -c "SELECT count(*) FROM runs" 2>/dev/null || echo 0)"
  [ "${done_runs:-0}" -ge $((REQUESTS / 4)) ] && break
  kill -0 "$LOAD" 2>/dev/null || break
  sleep 0.05
done
RUNNING_AT_KILL="$("${PSQL[@]}" -c "SELECT count(*) FROM runs WHERE owner = 'replica-a' AND status = 'running'")"
echo "== SIGKILL replica a (pid $PID_A) after $done_runs runs, $RUNNING_AT_KILL of its runs in flight"
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null || true
sleep 0.5
echo "== restart replica a"
start_replica a "$PORT_A"
wait "$LOAD"
cat "$WORK/load.err" >&2 || true

echo "== store consistency"
ANSWERED="$(wc -l <"$WORK/ids.txt" | tr -d ' ')"
LOST="$("${PSQL[@]}" -c "CREATE TEMP TABLE answered (id TEXT PRIMARY KEY)" \
  -c "\\copy answered FROM '$WORK/ids.txt'" \
  -c "SELECT count(*) FROM answered a LEFT JOIN runs r ON r.id = a.id WHERE r.id IS NULL OR r.status NOT IN ('accepted', 'unverified') OR r.finished_ms IS NULL" | tail -1)"
LEFT_RUNNING="$("${PSQL[@]}" -c "SELECT count(*) FROM runs WHERE status = 'running'")"
BY_STATUS="$("${PSQL[@]}" -c "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) AS n FROM runs GROUP BY status) s")"
TURNS="$("${PSQL[@]}" -c "SELECT count(*) FROM run_turns")"
EVENTS="$("${PSQL[@]}" -c "SELECT count(*) FROM run_events")"

/usr/bin/python3 - "$WORK/load.json" "$ANSWERED" "$LOST" "$LEFT_RUNNING" "$BY_STATUS" "$TURNS" "$EVENTS" "$RUNNING_AT_KILL" <<'EOF'
import json, sys
load = json.load(open(sys.argv[1]))
answered, lost, left, by_status, turns, events, at_kill = sys.argv[2:9]
print(f"throughput      {load['throughput_rps']} req/s ({load['requests']} requests in {load['seconds']} s, concurrency {load['concurrency']})")
print(f"latency         p50 {load['latency_ms']['p50']} ms, p99 {load['latency_ms']['p99']} ms, max {load['latency_ms']['max']} ms")
print(f"client errors   {load['errors']} {json.dumps(load['errors_by_status'])} (requests in flight on the killed replica)")
print(f"answered 200    {answered}")
print(f"runs in store   {by_status}; {turns} turns, {events} events")
print(f"in flight at kill (replica a): {at_kill}")
print(f"lost runs       {lost} (answered 200 without a finished run)")
print(f"left running    {left}")
EOF
if [ "$LOST" != "0" ] || [ "$LEFT_RUNNING" != "0" ]; then
  echo "scale_test: FAILED (lost $LOST, left running $LEFT_RUNNING)" >&2
  KEEP=1
  exit 1
fi
echo "scale_test: passed"
