#!/usr/bin/env bash
# Renders an eval HTML report (trinity eval --report FILE.html) in headless Chromium and writes a
# PNG screenshot, to check by eye that the page is self-contained and renders right.
#
#   scripts/check_report.sh REPORT.html [OUT.png]     (default OUT: REPORT.png next to it)
#
# Installs Debian's `chromium` with apt-get when no chromium is on PATH (needs root or sudo).
# The browser runs with networking features off and a throwaway profile; the report needs none.
# Exit: 0 and the PNG path on stdout; 1 when rendering fails; 2 on bad usage.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
report="$1"
if [[ ! -f "$report" ]]; then
  echo "check_report.sh: no such report: $report" >&2
  exit 2
fi
out="${2:-${report%.html}.png}"

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$(command -v "$b")"; break; fi
done
if [[ -z "$browser" ]]; then
  echo "check_report.sh: installing chromium (apt-get)..." >&2
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >&2
  browser="$(command -v chromium)"
fi

abs_report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
abs_out="$(cd "$(dirname "$out")" 2>/dev/null && pwd || { mkdir -p "$(dirname "$out")"; cd "$(dirname "$out")" && pwd; })/$(basename "$out")"
profile_dir="$(mktemp -d)"
trap 'rm -rf "$profile_dir"' EXIT
rm -f "$abs_out"

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile_dir" --hide-scrollbars \
  --screenshot="$abs_out" --window-size=1280,2000 "file://$abs_report" >/dev/null 2>&1 || true

if [[ ! -s "$abs_out" ]]; then
  echo "check_report.sh: chromium did not write $abs_out" >&2
  exit 1
fi
# A PNG starts with \x89PNG.
if [[ "$(head -c 4 "$abs_out" | od -An -c | tr -d ' ')" != "211PNG" ]]; then
  echo "check_report.sh: $abs_out is not a PNG" >&2
  exit 1
fi
echo "$abs_out"
