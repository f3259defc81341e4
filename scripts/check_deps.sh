#!/usr/bin/env bash
# Checks that every library, header, include dir and CMake package config that CMake resolved for a
# build tree comes from a Debian package covered by scripts/deps.txt: a package named there, or one in
# the Depends/Pre-Depends closure of those (Recommends and Suggests do not count; neither does being
# Essential). A package installed by hand on one machine and never added to deps.txt otherwise only
# shows up as a broken configure or build on the next clean machine; this makes it fail here, by name.
#
#   scripts/check_deps.sh [--deps FILE] [-v] [BUILD_DIR]   (defaults: scripts/deps.txt, build/release)
#   -v lists every checked file with the allowed package that covers it.
#
# What it reads (all read-only; nothing is built, no ninja or cmake is run):
#   BUILD_DIR/CMakeCache.txt    every absolute path in a value (*_LIBRARY, *_INCLUDE_DIR, FOO_DIR,
#                               pkg-config results, -I/-L flags), except CMAKE_INSTALL_PREFIX and
#                               CMake's own CMAKE_*:INTERNAL entries
#   BUILD_DIR/build.ninja and CMakeFiles/rules.ninja (or the Makefile generator's CMakeFiles files)
#                               imported-target libraries, -I/-isystem/-L/rpath dirs, tools, and the
#                               CMake files configure read (the find_package config files)
#   BUILD_DIR/.ninja_deps       the headers the compiler actually included (once something is built)
#   -lNAME link flags and the compiler's implicit link libraries, looked up in the -L dirs and the
#                               compiler's implicit link dirs (CMakeFiles/<ver>/CMake*Compiler.cmake)
# Paths in the repository, in the build dir and in /tmp are skipped, as are paths that do not exist.
# Each path and its realpath (alternatives symlinks, /usr-merge) is looked up with dpkg -S; a file
# no package owns fails too (e.g. something under /usr/local or /opt).
# Exit: 0 all covered (one summary line); 1 something is not covered (one line per file);
#       2 bad usage, or the check itself could not run.
set -Eeuo pipefail
shopt -s inherit_errexit
trap '((BASH_SUBSHELL)) || echo "check_deps: internal error (line $LINENO); the check did not run" >&2
  exit 2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
BUILD_DIR=""
DEPS_FILE=""
DEPS_LABEL=""
declare -a PATHS=()      # resolved files/dirs to check
declare -a REALS=()      # their realpaths, same order
declare -A OWNERS=()     # dpkg path -> " pkg pkg ..."
declare -A ALLOWED=()    # package -> 1
declare -A SEEN=()       # file already judged
declare -A USED_PKGS=()  # packages owning the checked (non-directory) files
FAILURES=0
VERBOSE=0

die() { echo "check_deps: $*" >&2; exit 2; }

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit "${1:-2}"; }

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --deps) [[ $# -ge 2 ]] || usage; DEPS_FILE="$2"; shift 2 ;;
      -v) VERBOSE=1; shift ;;
      -h | --help) usage 0 ;;
      -*) usage ;;
      *) [[ -z "$BUILD_DIR" ]] || usage; BUILD_DIR="$1"; shift ;;
    esac
  done
  DEPS_FILE="${DEPS_FILE:-$ROOT/scripts/deps.txt}"
  BUILD_DIR="${BUILD_DIR:-$ROOT/build/release}"
  [[ -f "$DEPS_FILE" ]] || die "no deps file: $DEPS_FILE"
  [[ -f "$BUILD_DIR/CMakeCache.txt" ]] || die "no CMakeCache.txt in $BUILD_DIR (configure first)"
  BUILD_DIR="$(cd "$BUILD_DIR" && pwd -P)"
  DEPS_FILE="$(realpath "$DEPS_FILE")"
  DEPS_LABEL="${DEPS_FILE#"$ROOT"/}"
  command -v dpkg-query >/dev/null || die "dpkg-query not found (this check is for Debian)"
}

# Text files of the build tree that name resolved paths (both generators).
text_sources() {
  local f
  for f in "$BUILD_DIR/build.ninja" "$BUILD_DIR/CMakeFiles/rules.ninja" \
    "$BUILD_DIR/CMakeFiles/Makefile.cmake"; do
    [[ -f "$f" ]] && echo "$f"
  done
  find "$BUILD_DIR/CMakeFiles" -mindepth 2 \( -name link.txt -o -name flags.make \
    -o -name compiler_depend.make \) -print 2>/dev/null || true
}

# Absolute paths in CMakeCache.txt values. Skipped: comments, CMAKE_INSTALL_PREFIX (an output, not
# an input) and CMake's own CMAKE_*:INTERNAL bookkeeping (its install dir, /usr/bin/uname, ...).
paths_in_cache() {
  { grep -vE '^(//|#)|^CMAKE_INSTALL_PREFIX:|^CMAKE_[A-Z_]*:INTERNAL=' "$BUILD_DIR/CMakeCache.txt" || true; } |
    cut -s -d= -f2- | split_tokens
}

# Splits flags/lists into tokens and keeps the absolute paths (-I/x, -L/x, -Wl,-rpath,/x, [/x]).
split_tokens() {
  tr -s ' \t;,"[]()=' '\n' | sed -E 's/^-(I|L|isystem)//; s/:$//; s#/+$##' | grep '^/' || true
}

# Headers recorded by ninja's deps log (binary). Tolerates a log that ninja is appending to now.
paths_in_ninja_deps() {
  [[ -f "$BUILD_DIR/.ninja_deps" ]] || return 0
  "$PY" - "$BUILD_DIR/.ninja_deps" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
pos = 16 if data.startswith(b"# ninjadeps\n") else len(data)
while pos + 4 <= len(data):
    (head,) = struct.unpack_from("<I", data, pos)
    size, pos = head & 0x7FFFFFFF, pos + 4
    if pos + size > len(data):
        break
    if not head & 0x80000000:  # a path record: name, NUL padding, 4-byte checksum
        name = data[pos:pos + size - 4].rstrip(b"\0").decode(errors="replace")
        if name.startswith("/"):
            print(name)
    pos += size
PY
}

# The compiler's implicit link dirs and libraries, as CMake detected them.
compiler_implicit() {
  local what="$1" f
  for f in "$BUILD_DIR"/CMakeFiles/*/CMakeCXXCompiler.cmake "$BUILD_DIR"/CMakeFiles/*/CMakeCCompiler.cmake; do
    [[ -f "$f" ]] || continue
    sed -nE "s/^set\(CMAKE_[A-Z]+_IMPLICIT_LINK_${what} \"(.*)\"\)$/\1/p" "$f" | tr ';' '\n'
  done
}

# The values of every -L or -l flag (given as $1) in the build tree's text files.
flag_values() {
  text_sources | xargs -r -d '\n' cat | { grep -oE -- "(^|[ ;])-$1[^ ;]+" || true; } | sed -E "s/^[ ;]?-$1//"
}

# -lNAME (and -l:FILE) resolved the way ld does: first dir with libNAME.so, else libNAME.a.
paths_of_l_flags() {
  local -a dirs names
  mapfile -t dirs < <({ flag_values L; compiler_implicit DIRECTORIES; } | awk '!seen[$0]++')
  mapfile -t names < <({ flag_values l; compiler_implicit LIBRARIES; } | sort -u)
  local n d f
  local -a files
  for n in "${names[@]}"; do
    if [[ "$n" == :* ]]; then files=("${n#:}"); else files=("lib$n.so" "lib$n.a"); fi
    for d in "${dirs[@]}"; do
      for f in "${files[@]}"; do
        if [[ -e "$d/$f" ]]; then echo "$d/$f"; continue 3; fi
      done
    done
  done
}

# Fills PATHS with every existing resolved path outside the repo, the build dir and /tmp.
collect_paths() {
  local all p
  all="$({ paths_in_cache; text_sources | xargs -r -d '\n' cat | split_tokens; paths_in_ninja_deps
    paths_of_l_flags; } | sort -u)"
  while IFS= read -r p; do
    case "$p" in "$ROOT" | "$ROOT"/* | "$BUILD_DIR" | "$BUILD_DIR"/* | /tmp | /tmp/*) continue ;; esac
    [[ -e "$p" ]] && PATHS+=("$p")
  done <<<"$all"
  [[ ${#PATHS[@]} -gt 0 ]] || die "found no resolved paths in $BUILD_DIR"
  mapfile -t REALS < <(realpath -m -- "${PATHS[@]}")
}

# The packages of the deps file plus their installed Depends/Pre-Depends closure, one per line.
# "a | b" allows each installed alternative; a virtual name allows its installed providers.
dependency_closure() {
  "$PY" - "$DEPS_FILE" <<'PY'
import re, subprocess, sys
fmt = "${Package}\t${db:Status-Status}\t${Provides}\t${Depends}, ${Pre-Depends}\n"
db = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True).stdout
installed, provides, depends = set(), {}, {}
def names(field):  # "a (>= 1) | b:any, c" -> [["a", "b"], ["c"]]
    return [[re.split(r"[\s(:\[]", alt.strip(), 1)[0] for alt in clause.split("|")]
            for clause in field.split(",") if clause.strip()]
for line in db.splitlines():
    pkg, status, prov, deps = line.split("\t")
    if status in ("not-installed", "config-files"):
        continue
    installed.add(pkg)
    depends.setdefault(pkg, []).extend(names(deps))
    for (virtual,) in names(prov):
        provides.setdefault(virtual, set()).add(pkg)
def resolve(name):
    return ({name} & installed) | provides.get(name, set())
wanted = open(sys.argv[1]).read()
roots = [w.split(":")[0] for line in wanted.splitlines() for w in line.split("#")[0].split()]
allowed, todo = set(), []
for root in roots:
    found = resolve(root)
    if not found:
        print(f"check_deps: warning: {root} (from the deps file) is not installed", file=sys.stderr)
    todo.extend(found)
while todo:
    pkg = todo.pop()
    if pkg in allowed:
        continue
    allowed.add(pkg)
    for clause in depends.get(pkg, []):
        for alt in clause:
            todo.extend(resolve(alt) - allowed)
print("\n".join(sorted(allowed)))
PY
}

load_allowed() {
  local all p
  all="$(dependency_closure)"
  while IFS= read -r p; do [[ -n "$p" ]] && ALLOWED["$p"]=1; done <<<"$all"
}

# Appends PATH and its /usr-merge twin (/lib/x <-> /usr/lib/x) to the array named $2.
add_variants() {
  local -n out="$2"
  out+=("$1")
  case "$1" in
    /usr/bin | /usr/bin/* | /usr/sbin | /usr/sbin/* | /usr/lib | /usr/lib/* | /usr/lib32 | /usr/lib32/* | \
      /usr/lib64 | /usr/lib64/* | /usr/libx32 | /usr/libx32/*) out+=("${1#/usr}") ;;
    /bin | /bin/* | /sbin | /sbin/* | /lib | /lib/* | /lib32 | /lib32/* | /lib64 | /lib64/* | \
      /libx32 | /libx32/*) out+=("/usr$1") ;;
  esac
}

# One dpkg -S run for every candidate path; fills OWNERS (arch qualifiers dropped).
load_owners() {
  local -a cands=()
  local p line pkgs w
  for p in "${PATHS[@]}" "${REALS[@]}"; do add_variants "$p" cands; done
  while IFS= read -r line; do
    [[ "$line" == "diversion by "* || "$line" != *": "* ]] && continue
    pkgs="${line%%: *}"
    p="${line#*: }"
    for w in ${pkgs//,/ }; do OWNERS["$p"]+=" ${w%%:*}"; done
  done < <(printf '%s\n' "${cands[@]}" | sort -u | sed 's/[][*?\\]/\\&/g' |
    xargs -r -d '\n' dpkg-query -S 2>/dev/null || true)
}

# Sets REPLY to the owners of a file (any /usr-merge spelling of it).
owners_of() {
  local -a spellings=()
  local p
  add_variants "$1" spellings
  REPLY=""
  for p in "${spellings[@]}"; do REPLY+="${OWNERS[$p]:-}"; done
}

# Judges one file with its owners; prints a line and counts a failure when none is allowed.
judge() {
  local file="$1" owners="$2" pkg
  [[ -n "${SEEN[$file]:-}" ]] && return 0
  SEEN["$file"]=1
  for pkg in $owners; do
    [[ -d "$file" ]] || USED_PKGS["$pkg"]=1
    if [[ -n "${ALLOWED[$pkg]:-}" ]]; then
      [[ $VERBOSE == 1 ]] && echo "check_deps: ok $file ($pkg)"
      return 0
    fi
  done
  read -r pkg _ <<<"$owners"
  echo "check_deps: $file belongs to Debian package $pkg, which is not in $DEPS_LABEL nor in" \
    "the dependency closure of its packages; add $pkg to $DEPS_LABEL" >&2
  FAILURES=$((FAILURES + 1))
}

# True for a link that update-alternatives manages (it is set up on every machine with the package).
is_alternative() { [[ -L "$1" && "$(readlink -- "$1")" == /etc/alternatives/* ]]; }

# A path and its realpath are each judged by their owners. A path no package owns fails, unless it
# is an alternatives link to an owned file; so does an owned link to a file no package owns.
check_path() {
  local path="$1" real="$2" given_owners real_owners
  owners_of "$path"; given_owners="$REPLY"
  owners_of "$real"; real_owners="$REPLY"
  if [[ -z "$given_owners" ]] && ! { [[ -n "$real_owners" ]] && is_alternative "$path"; } ||
    [[ -z "$real_owners" && ! -d "$real" ]]; then
    [[ "$real" != "$path" ]] && path+=" (-> $real)"
    echo "check_deps: $path is not from a Debian package; install it from one and add that" \
      "package to $DEPS_LABEL" >&2
    FAILURES=$((FAILURES + 1))
    return 0
  fi
  [[ -n "$given_owners" ]] && judge "$path" "$given_owners"
  [[ -n "$real_owners" && "$real" != "$path" ]] && judge "$real" "$real_owners"
  return 0
}

main() {
  parse_args "$@"
  collect_paths
  load_allowed
  load_owners
  local i
  for i in "${!PATHS[@]}"; do check_path "${PATHS[$i]}" "${REALS[$i]}"; done
  if [[ $FAILURES -gt 0 ]]; then
    echo "check_deps: $FAILURES resolved file(s) not covered by $DEPS_LABEL (build dir $BUILD_DIR)" >&2
    exit 1
  fi
  echo "check_deps: ${#PATHS[@]} resolved files from ${#USED_PKGS[@]} packages, all covered by" \
    "$DEPS_LABEL (${#ALLOWED[@]} packages in the closure)"
}

main "$@"
