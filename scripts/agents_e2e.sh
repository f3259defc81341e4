#!/usr/bin/env bash
# End-to-end test of `trinity serve` with real coding-agent clients making tool calls (CI runs it):
# Codex CLI (Responses API) and OpenCode (Chat Completions through @ai-sdk/openai-compatible, and
# the Responses API through @ai-sdk/openai), pinned in tests/agents/package.json.
#
#   1. Installs the clients when missing into $TRINITY_AGENT_CLIENTS (default
#      ~/.cache/trinity/agent-clients, outside the clone: ~780 MB), again only when
#      tests/agents/package-lock.json changed (a stamp holds its sha256), and checks their versions.
#   2. Re-runs itself in a loopback-only network namespace (unshare -n -m; only `lo`, and a
#      resolv.conf naming 127.0.0.1 bind-mounted over /etc/resolv.conf): the server, the fake
#      agents and the clients run in there, so nothing can reach beyond 127.0.0.1.
#   3. For each pool, starts `trinity serve` (temp sqlite run store, --trace-content full, bearer
#      key) and runs each client once in a temp working dir with a temp HOME / XDG dirs /
#      CODEX_HOME (the user's own config is never read or written), under a timeout:
#        mock      --pool mock --profile mock_tiny: the mock Worker calls the shell tool with the
#                  fixed command `echo trinity-tool-$((40+2))`, then answers quoting its result;
#        loopback  a pool file of 7 `openai` slots on tests/agents/fake_agents.py (--allow-live),
#                  which answers the same way over Chat Completions;
#        direct    (only with --only direct) no trinity at all: the clients talk to
#                  fake_agents.py themselves; checks the client configs and offline switches.
#      A run passes when the client exits 0, its event stream shows the shell tool ran and printed
#      trinity-tool-42, the run store has a request that carried that tool result back (direct:
#      fake_agents saw it), and the client's final answer contains trinity-tool-42: the marker
#      exists only if the client really executed the command.
# Prints one line per run (client, wire API, pool, seconds, PASS/FAIL) and, on failure, the
# client's output and the server's log tail. Exit 0 only when every run passed.
#
#   scripts/agents_e2e.sh [--only mock|loopback|direct] [--client codex|opencode-chat|opencode-responses]
#                         [--timeout 120] [--keep]
#   TRINITY_BIN (default build/release/apps/trinity), TRINITY_AGENT_CLIENTS (the clients' cache).
# Needs root, or unprivileged user namespaces (then `unshare -r` is used); node, npm, python3,
# unshare (util-linux) and ip (iproute2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${TRINITY_BIN:-$ROOT/build/release/apps/trinity}"
CLIENTS="${TRINITY_AGENT_CLIENTS:-$HOME/.cache/trinity/agent-clients}"
PY=/usr/bin/python3
ONLY=""
ONLY_CLIENT=""
TIMEOUT=120
KEEP=0
IN_NETNS=0
ARGS=("$@")
while [ "$#" -gt 0 ]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --client) ONLY_CLIENT="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --in-netns) IN_NETNS=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "agents_e2e: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$ONLY" in ""|mock|loopback|direct) ;; *) echo "agents_e2e: --only mock|loopback|direct" >&2; exit 2 ;; esac
case "$ONLY_CLIENT" in ""|codex|opencode-chat|opencode-responses) ;;
  *) echo "agents_e2e: --client codex|opencode-chat|opencode-responses" >&2; exit 2 ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || { echo "agents_e2e: --timeout takes seconds" >&2; exit 2; }
MANIFEST="$ROOT/tests/agents/package.json"
LOCK="$ROOT/tests/agents/package-lock.json"
CODEX="$CLIENTS/node_modules/.bin/codex"
OPENCODE="$CLIENTS/node_modules/.bin/opencode"
MARKER="trinity-tool-42"
PROMPT="Run the shell command that prints the tool check marker and report its output."

# ---------------------------------------------------------------------------------------------
# Outside the namespace: install and check the clients (the only step that uses the network),
# then re-run this script inside a loopback-only network namespace.
if [ "$IN_NETNS" = 0 ]; then
  for tool in node npm unshare ip timeout sha256sum; do
    command -v "$tool" >/dev/null || {
      echo "agents_e2e: '$tool' is missing (scripts/setup.sh installs scripts/deps.txt)" >&2; exit 3; }
  done
  [ -x "$PY" ] || { echo "agents_e2e: $PY is missing (scripts/setup.sh)" >&2; exit 3; }
  if [ "$ONLY" != direct ]; then
    [ -x "$BIN" ] || { echo "agents_e2e: no trinity binary at $BIN (build first, or set TRINITY_BIN)" >&2; exit 3; }
    BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
  fi
  want="$(sha256sum "$LOCK" | cut -d' ' -f1)"
  if [ "$(cat "$CLIENTS/.lock-sha256" 2>/dev/null)" != "$want" ] || [ ! -x "$CODEX" ] || [ ! -x "$OPENCODE" ]; then
    echo "agents_e2e: installing the pinned clients into $CLIENTS (npm, ~780 MB)"
    mkdir -p "$CLIENTS"
    rm -rf "$CLIENTS/node_modules" "$CLIENTS/.lock-sha256"
    cp "$MANIFEST" "$LOCK" "$CLIENTS/"
    # `npm install` from the lock rather than `npm ci`: the registry reachable here does not serve
    # opencode-ai's optional packages for other platforms, so npm writes a lock without them and
    # `npm ci` rejects it as out of sync. The lock still pins every package that is installed
    # (versions and integrity); the versions are checked below.
    (cd "$CLIENTS" && npm install --no-audit --no-fund --no-save --loglevel=error) ||
      { echo "agents_e2e: npm install of the agent clients failed" >&2; exit 3; }
    echo "$want" >"$CLIENTS/.lock-sha256"
  fi
  pin() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"][sys.argv[2]])' "$MANIFEST" "$1"; }
  codex_v="$("$CODEX" --version 2>&1 || true)"
  opencode_v="$("$OPENCODE" --version 2>&1 || true)"
  [ "$codex_v" = "codex-cli $(pin @openai/codex)" ] ||
    { echo "agents_e2e: $CODEX --version says '$codex_v', the pin is $(pin @openai/codex)" >&2; exit 3; }
  [ "$opencode_v" = "$(pin opencode-ai)" ] ||
    { echo "agents_e2e: $OPENCODE --version says '$opencode_v', the pin is $(pin opencode-ai)" >&2; exit 3; }
  echo "agents_e2e: $codex_v, opencode $opencode_v ($CLIENTS)"

  UNSHARE=(unshare -n -m --propagation private)
  [ "$(id -u)" -ne 0 ] && UNSHARE=(unshare -r -n -m --propagation private)
  if ! err="$("${UNSHARE[@]}" sh -c 'ip link set lo up' 2>&1)"; then
    echo "agents_e2e: cannot create a loopback-only network namespace ('${UNSHARE[*]}' failed: $err)." >&2
    echo "agents_e2e: run as root, or enable unprivileged user namespaces" \
      "(sysctl kernel.unprivileged_userns_clone=1); in a container it needs CAP_SYS_ADMIN." >&2
    exit 3
  fi
  export TRINITY_BIN="$BIN" TRINITY_AGENT_CLIENTS="$CLIENTS"
  exec "${UNSHARE[@]}" -- bash "$ROOT/scripts/agents_e2e.sh" --in-netns "${ARGS[@]}"
fi

# ---------------------------------------------------------------------------------------------
# Inside the namespace.
ip link set lo up
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
WORK="$(mktemp -d /tmp/trinity-agents.XXXXXX)"
chmod 755 "$WORK"
echo "nameserver 127.0.0.1" >"$WORK/resolv.conf"
[ -e /etc/resolv.conf ] && mount --bind "$WORK/resolv.conf" /etc/resolv.conf
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "agents_e2e: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export TRINITY_API_KEY="agents-e2e-$$-$RANDOM$RANDOM"

wait_for_url() {  # logfile pid name: prints the first http:// URL the process printed
  for _ in $(seq 1 400); do
    if grep -q "listening on" "$1" 2>/dev/null; then grep -oE 'http://[^ ]+' "$1" | head -1; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "agents_e2e: $3 did not start" >&2
  return 1
}

FAKE_URL=""
start_fake_agents() {  # dir
  "$PY" "$ROOT/tests/agents/fake_agents.py" --port 0 >"$1/fake_agents.out" 2>"$1/fake_agents.err" &
  PIDS+=("$!")
  FAKE_URL="$(wait_for_url "$1/fake_agents.out" "$!" fake_agents.py)" || { cat "$1/fake_agents.err" >&2; return 1; }
}

SERVER_URL=""
start_server() {  # dir pool-args...
  local dir="$1"; shift
  "$BIN" serve "$@" --profile mock_tiny --api-key-env TRINITY_API_KEY --port 0 \
    --store "sqlite:$dir/runs.db" --trace-content full >"$dir/serve.out" 2>"$dir/serve.err" &
  PIDS+=("$!")
  SERVER_URL="$(wait_for_url "$dir/serve.out" "$!" "trinity serve")" || { tail -n 40 "$dir/serve.err" >&2; return 1; }
}

stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

# The ids of the stored runs, one a line (GET /v1/runs, newest first).
run_ids() {
  "$PY" - "$1" <<'PY'
import json, os, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v1/runs?limit=1000",
                             headers={"Authorization": "Bearer " + os.environ["TRINITY_API_KEY"]})
for run in json.load(urllib.request.urlopen(req, timeout=10))["data"]:
    print(run["id"])
PY
}

# Of the runs not in file $2: how many there are, and how many requests carried the marker.
new_runs_with_marker() {
  "$PY" - "$1" "$2" "$MARKER" <<'PY'
import json, os, sys, urllib.request
url, before, marker = sys.argv[1], set(open(sys.argv[2]).read().split()), sys.argv[3]
def get(path):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + os.environ["TRINITY_API_KEY"]})
    return json.load(urllib.request.urlopen(req, timeout=10))
new = [r["id"] for r in get("/v1/runs?limit=1000")["data"] if r["id"] not in before]
carried = sum(marker in json.dumps(get("/v1/runs/" + i).get("request")) for i in new)
print(len(new), carried)
PY
}

# What a client printed: "<tool ran and printed the marker: 0|1> <final answer has it: 0|1>".
client_verdict() {  # client stdout-file last-message-file
  "$PY" - "$@" "$MARKER" <<'PY'
import json, sys
client, out, last, marker = sys.argv[1:5]
events = []
for line in open(out, errors="replace"):
    line = line.strip()
    if line.startswith("{"):
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
ran, final = False, ""
if client == "codex":
    # codex exec --json: item.completed events; the shell runs as a command_execution item.
    for e in events:
        item = e.get("item") or {}
        if e.get("type") == "item.completed" and item.get("type") == "command_execution":
            ran |= marker in str(item.get("aggregated_output", ""))
        if e.get("type") == "item.completed" and item.get("type") == "agent_message":
            final = str(item.get("text", ""))
    try:
        final = open(last, errors="replace").read() or final  # --output-last-message
    except OSError:
        pass
else:
    # opencode run --format json: tool_use parts (state.output) and text parts.
    for e in events:
        part = e.get("part") or {}
        if e.get("type") == "tool_use":
            state = part.get("state") or {}
            ran |= state.get("status") == "completed" and marker in str(state.get("output", ""))
        elif e.get("type") == "text":
            final = str(part.get("text", ""))
print(int(ran), int(marker in final))
PY
}

write_codex_config() {  # codex-home base-url
  mkdir -p "$1"
  cat >"$1/config.toml" <<EOF
model = "trinity"
model_provider = "trinity"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.trinity]
name = "trinity"
base_url = "$2"
env_key = "TRINITY_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[features]
plugins = false
remote_plugin = false
apps = false

[analytics]
enabled = false
EOF
}

write_opencode_config() {  # file npm-package base-url
  cat >"$1" <<EOF
{
  "\$schema": "https://opencode.ai/config.json",
  "model": "trinity/trinity",
  "small_model": "trinity/trinity",
  "autoupdate": false,
  "share": "disabled",
  "permission": {"bash": "allow", "edit": "allow", "webfetch": "deny"},
  "provider": {
    "trinity": {
      "npm": "$2",
      "options": {"baseURL": "$3", "apiKey": "{env:TRINITY_API_KEY}"},
      "models": {"trinity": {"name": "trinity", "tool_call": true, "limit": {"context": 128000, "output": 4096}}}
    }
  }
}
EOF
}

PASSED=0
FAILED=0
RESULTS=()
run_client() {  # pool-dir pool client base-url(.../v1)
  local pdir="$1" pool="$2" client="$3" base="$4" wire
  [ -n "$ONLY_CLIENT" ] && [ "$ONLY_CLIENT" != "$client" ] && return 0
  local r="$pdir/$client"
  mkdir -p "$r/home/.config" "$r/home/.local/share" "$r/home/.local/state" "$r/home/.cache" "$r/project"
  local env=(env -i "PATH=$PATH" "LANG=C.UTF-8" "TERM=dumb" "NO_COLOR=1" "HOME=$r/home"
    "XDG_CONFIG_HOME=$r/home/.config" "XDG_DATA_HOME=$r/home/.local/share"
    "XDG_STATE_HOME=$r/home/.local/state" "XDG_CACHE_HOME=$r/home/.cache" "TMPDIR=$r/home/.cache"
    "TRINITY_API_KEY=$TRINITY_API_KEY" "NO_PROXY=127.0.0.1,localhost")
  local cmd
  case "$client" in
    codex)
      wire=responses
      write_codex_config "$r/codex-home" "$base"
      env+=("CODEX_HOME=$r/codex-home")
      cmd=("$CODEX" exec --skip-git-repo-check --ephemeral --json --color never -o "$r/last.txt" "$PROMPT") ;;
    opencode-chat|opencode-responses)
      local npm_pkg=@ai-sdk/openai-compatible
      wire=chat
      [ "$client" = opencode-responses ] && { npm_pkg=@ai-sdk/openai; wire=responses; }
      write_opencode_config "$r/opencode.json" "$npm_pkg" "$base"
      env+=("OPENCODE_CONFIG=$r/opencode.json" OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_MODELS_FETCH=1
        OPENCODE_DISABLE_DEFAULT_PLUGINS=1 OPENCODE_DISABLE_LSP_DOWNLOAD=1 OPENCODE_DISABLE_SHARE=1
        OPENCODE_DISABLE_CLAUDE_CODE=1 OPENCODE_DISABLE_EXTERNAL_SKILLS=1 npm_config_offline=true)
      cmd=("$OPENCODE" run --format json "$PROMPT") ;;
  esac
  local before_runs="$r/runs.before" fake_before=0
  if [ "$pool" = direct ]; then
    fake_before="$(grep -c . "$pdir/fake_agents.err" || true)"
  else
    run_ids "$SERVER_URL" >"$before_runs" || true
  fi
  local t0 t1 rc=0
  t0="$(date +%s.%N)"
  (cd "$r/project" && "${env[@]}" timeout -k 5 "$TIMEOUT" "${cmd[@]}" </dev/null >"$r/stdout" 2>"$r/stderr") || rc=$?
  t1="$(date +%s.%N)"
  local secs why=()
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then why+=("timed out after ${TIMEOUT}s");
  elif [ "$rc" != 0 ]; then why+=("exit $rc"); fi
  local ran=0 final=0
  read -r ran final < <(client_verdict "$client" "$r/stdout" "$r/last.txt") || true
  [ "$ran" = 1 ] || why+=("no completed shell tool call printing $MARKER in the client's events")
  [ "$final" = 1 ] || why+=("the final answer lacks $MARKER")
  if [ "$pool" = direct ]; then
    tail -n +"$((fake_before + 1))" "$pdir/fake_agents.err" | grep -q "tool_result .*$MARKER" ||
      why+=("fake_agents.py never received the tool result")
  else
    local n=0 carried=0
    read -r n carried < <(new_runs_with_marker "$SERVER_URL" "$before_runs" || echo "? 0") || true
    [ "$carried" -ge 1 ] 2>/dev/null ||
      why+=("no stored run's request carried the tool result ($n new runs in the store)")
  fi
  local verdict=PASS
  if [ "${#why[@]}" -gt 0 ]; then verdict=FAIL; FAILED=$((FAILED + 1)); else PASSED=$((PASSED + 1)); fi
  local line
  line="$(printf '%-20s %-10s %-9s %6ss  %s' "$client" "$wire" "$pool" "$secs" "$verdict")"
  RESULTS+=("$line")
  echo "$line"
  if [ "$verdict" = FAIL ]; then
    local w
    for w in "${why[@]}"; do echo "    - $w"; done
    echo "    --- client stdout (last 40 lines)"; tail -n 40 "$r/stdout" | sed 's/^/    /'
    echo "    --- client stderr (last 40 lines)"; tail -n 40 "$r/stderr" | sed 's/^/    /'
    if [ "$pool" != direct ]; then
      echo "    --- trinity serve log (last 40 lines)"; tail -n 40 "$pdir/serve.err" | sed 's/^/    /'
    fi
    if [ -f "$pdir/fake_agents.err" ]; then
      echo "    --- fake_agents.py log (last 20 lines)"; tail -n 20 "$pdir/fake_agents.err" | sed 's/^/    /'
    fi
  fi
}

pool_failed() {  # pool: its server (or fake agents) did not start; every run of it fails
  local line
  line="$(printf '%-20s %-10s %-9s %6s   %s' "(all clients)" "-" "$1" "-" "FAIL (did not start)")"
  RESULTS+=("$line"); echo "$line"
  FAILED=$((FAILED + 1))
  stop_all
  SERVER_URL=""; FAKE_URL=""
}

run_pool() {  # pool
  local pool="$1" pdir="$WORK/$1" base
  mkdir -p "$pdir"
  case "$pool" in
    mock)
      start_server "$pdir" --pool mock || { pool_failed mock; return 0; }
      base="$SERVER_URL/v1" ;;
    loopback)
      start_fake_agents "$pdir" || { pool_failed loopback; return 0; }
      "$PY" - "$FAKE_URL/v1" >"$pdir/pool.json" <<'PY'
import json, sys
print(json.dumps({"name": "agents-e2e-loopback",
                  "slots": [{"provider": "openai", "model": f"fake-agent-{i}", "base_url": sys.argv[1]}
                            for i in range(7)]}, indent=2))
PY
      start_server "$pdir" --pool "$pdir/pool.json" --allow-live || { pool_failed loopback; return 0; }
      base="$SERVER_URL/v1" ;;
    direct)
      start_fake_agents "$pdir" || { pool_failed direct; return 0; }
      base="$FAKE_URL/v1" ;;
  esac
  echo "agents_e2e: pool $pool (${SERVER_URL:-$FAKE_URL})"
  run_client "$pdir" "$pool" codex "$base"
  run_client "$pdir" "$pool" opencode-chat "$base"
  run_client "$pdir" "$pool" opencode-responses "$base"
  stop_all
  SERVER_URL=""; FAKE_URL=""
}

POOLS=(mock loopback)
[ -n "$ONLY" ] && POOLS=("$ONLY")
for pool in "${POOLS[@]}"; do run_pool "$pool"; done
echo "agents_e2e: summary"
for line in "${RESULTS[@]}"; do echo "  $line"; done
echo "agents_e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
