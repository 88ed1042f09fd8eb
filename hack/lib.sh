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
