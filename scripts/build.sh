#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Usage: scripts/build.sh [preset] [targets...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PRESET="${1:-release}"
shift || true
JOBS="${TRINITY_JOBS:-$(nproc)}"
if [ ! -f "build/$PRESET/build.ninja" ]; then
  cmake --preset "$PRESET" >/dev/null
fi
if [ "$#" -gt 0 ]; then
  cmake --build "build/$PRESET" -j "$JOBS" --target "$@"
else
  cmake --build "build/$PRESET" -j "$JOBS"
fi
