# hack/lib.sh: what the hack/build-*.sh scripts share. Source it after `set -euo pipefail`; it sets
# root (the repository) and bin (root/bin, created).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"

# hash_files FILE...: a short hash of the files' contents, the stamp recorded next to a binary built
# from them.
hash_files() { cat "$@" | sha256sum | cut -c1-16; }

# fresh NAME STAMP: whether bin/NAME is built and bin/.NAME-stamp holds STAMP.
fresh() { [[ -x "$bin/$1" && -f "$bin/.$1-stamp" && "$(cat "$bin/.$1-stamp")" == "$2" ]]; }

# heartbeat_start PREFIX WHAT: prints "PREFIX:   still building WHAT (<seconds>s)" every 30 s, so that
# a long build never looks hung, until heartbeat_stop.
heartbeat_start() {
  local start
  start=$(date +%s)
  ( while sleep 30; do echo "$1:   still building $2 ($(( $(date +%s) - start ))s)"; done ) &
  beat=$!
}
heartbeat_stop() { kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true; }

# go_build_static OUT PKG: a static, stripped build of PKG, written to OUT only when it succeeds.
go_build_static() { CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$1.tmp" "$2" && mv "$1.tmp" "$1"; }

# build_pinned PREFIX NAME PKG STAMP: builds PKG (of the module in the current directory) into
# bin/NAME with a heartbeat, records STAMP in bin/.NAME-stamp and prints how long it took.
build_pinned() {
  local start
  start=$(date +%s)
  heartbeat_start "$1" "$2"
  trap heartbeat_stop EXIT
  go_build_static "$bin/$2" "$3"
  heartbeat_stop
  trap - EXIT
  echo "$4" > "$bin/.$2-stamp"
  echo "$1: built $2 in $(( $(date +%s) - start ))s"
}

# pip_failed PREFIX PYTHON WHAT [PROBE_DIR]: after a failed `pip install WHAT`, exits 3 when the package
# registry cannot be reached (pip cannot even download pip, into PROBE_DIR or a new temporary
# directory), else 1, saying which on stderr.
pip_failed() {
  if ! "$2" -m pip download --disable-pip-version-check --no-deps -d "${4:-$(mktemp -d)}" "pip" >/dev/null 2>&1; then
    echo "$1: the package registry cannot be reached" >&2
    exit 3
  fi
  echo "$1: pip install $3 failed" >&2
  exit 1
}

# venv_current VENV PINS: true when the virtualenv VENV is whole and holds exactly PINS (the pins
# are recorded in VENV/.complete once an install succeeded).
venv_current() { [[ -x "$1/bin/python" && "$(cat "$1/.complete" 2>/dev/null)" == "$2" ]]; }

# venv_install NAME VENV PINS [NOTE]: makes the virtualenv VENV hold PINS (space-separated pip
# requirements) from PyPI, with the interpreter $python (python3 by default). Installs once: nothing
# is done while venv_current holds, and a changed pin rebuilds the venv in place (a venv's scripts
# name its directory). Progress goes to stderr as NAME, with NOTE after "(once" on the first line;
# exits 3 when the registry cannot be reached, 1 when pip fails.
venv_install() {
  local name="$1" venv="$2" pins="$3" note="${4:-}" start
  if venv_current "$venv" "$pins"; then
    echo "$name: $pins already in $venv" >&2
    return 0
  fi
  echo "$name: installing $pins with pip into $venv (once${note:+; $note})..." >&2
  start=$(date +%s)
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "${python:-python3}" -m venv "$venv"
  # shellcheck disable=SC2086
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-compile --progress-bar off $pins >&2; then
    pip_failed "$name" "${python:-python3}" "$pins"
  fi
  echo "$pins" >"$venv/.complete"
  echo "$name: installed in $venv in $(( $(date +%s) - start ))s" >&2
}
