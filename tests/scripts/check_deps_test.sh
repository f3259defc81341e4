#!/usr/bin/env bash
# Self-test of scripts/check_deps.sh (independent of ctest): the check must pass with the real
# scripts/deps.txt, fail by name when a needed package (ocl-icd-opencl-dev, which only oneDNN's CMake
# config pulls in) is left out of the deps file, and fail on a resolved path no package owns.
#
#   tests/scripts/check_deps_test.sh [BUILD_DIR]     (default build/release; configure it first)
#
# Read-only apart from a temporary directory. Exit 0 when every case behaves, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHECK="$ROOT/scripts/check_deps.sh"
BUILD_DIR="${1:-$ROOT/build/release}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILED=0

# run_case NAME WANT_STATUS WANT_TEXT ARGS...: runs the check, compares exit status and output.
run_case() {
  local name="$1" want_status="$2" want_text="$3" status=0
  shift 3
  bash "$CHECK" "$@" >"$TMP/out" 2>&1 || status=$?
  if [[ $status -eq $want_status ]] && grep -qF -- "$want_text" "$TMP/out"; then
    echo "ok   $name"
  else
    echo "FAIL $name: exit $status (want $want_status), output should contain: $want_text"
    sed 's/^/     | /' "$TMP/out"
    FAILED=1
  fi
}

[[ -f "$BUILD_DIR/CMakeCache.txt" ]] || { echo "no CMakeCache.txt in $BUILD_DIR (configure first)"; exit 1; }

grep -vx 'ocl-icd-opencl-dev' "$ROOT/scripts/deps.txt" >"$TMP/deps_without_ocl.txt"
run_case "deps file without ocl-icd-opencl-dev fails naming it" 1 \
  "libOpenCL.so belongs to Debian package ocl-icd-opencl-dev" \
  --deps "$TMP/deps_without_ocl.txt" "$BUILD_DIR"

run_case "the real scripts/deps.txt passes" 0 "all covered by scripts/deps.txt" "$BUILD_DIR"

mkdir "$TMP/build"
printf '%s\n' 'ZLIB_INCLUDE_DIR:PATH=/usr/include' 'FOO_LIBRARY:FILEPATH=/usr/local' \
  >"$TMP/build/CMakeCache.txt"
run_case "a path no Debian package owns fails" 1 "/usr/local is not from a Debian package" \
  "$TMP/build"

exit "$FAILED"
