#!/usr/bin/env bash
# A throw-away PostgreSQL cluster from Debian's `postgresql` package, for tests and
# scripts/scale_test.sh: its own initdb in DIR, run as an unprivileged user (`nobody` when
# invoked as root; PostgreSQL refuses to run as root), listening on 127.0.0.1:PORT only, trust
# authentication for the user `trinity` on loopback.
#   scripts/pg_temp.sh start DIR PORT   prints the connection URI on stdout
#   scripts/pg_temp.sh stop DIR         fast shutdown (idempotent)
set -euo pipefail
CMD="${1:-}"; DIR="${2:-}"
if [ -z "$CMD" ] || [ -z "$DIR" ]; then
  echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "pg_temp: PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)" >&2
  exit 3
fi
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}
case "$CMD" in
  start)
    PORT="${3:?PORT}"
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$DIR"
    chmod 700 "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$DIR/data" -U trinity --auth=trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200" start >/dev/null ||
      { cat "$DIR/server.log" >&2; exit 1; }
    as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U trinity -d postgres -qtAc \
      "SELECT 1 FROM pg_database WHERE datname = 'trinity'" | grep -q 1 ||
      as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U trinity trinity
    echo "postgres://trinity@127.0.0.1:$PORT/trinity"
    ;;
  stop)
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
