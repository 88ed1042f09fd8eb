#!/usr/bin/env bash
# Builds golangci-lint with kube-api-linter compiled in (the module hack/golangci-lint, pinned by its
# go.mod) from the Go module proxy into bin/golangci-lint, for make lint. It is rebuilt only when
# hack/golangci-lint's go.mod, go.sum or main.go changed since it was built (bin/.golangci-lint-stamp
# holds their hash). Prints a line every 30 s so that a cold build never looks hung.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"
cd "$root/hack/golangci-lint"
stamp=$(cat go.mod go.sum main.go | sha256sum | cut -c1-16)
if [[ -x "$bin/golangci-lint" && -f "$bin/.golangci-lint-stamp" && "$(cat "$bin/.golangci-lint-stamp")" == "$stamp" ]]; then
  exit 0
fi
start=$(date +%s)
echo "build-golangci-lint: building golangci-lint $(go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2) with kube-api-linter $(go list -m -f '{{.Version}}' sigs.k8s.io/kube-api-linter) ..."
( while sleep 30; do echo "build-golangci-lint:   still building ($(( $(date +%s) - start ))s)"; done ) &
beat=$!
trap 'kill $beat 2>/dev/null || true' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/golangci-lint.tmp" .
mv "$bin/golangci-lint.tmp" "$bin/golangci-lint"
echo "$stamp" > "$bin/.golangci-lint-stamp"
echo "build-golangci-lint: built golangci-lint in $(( $(date +%s) - start ))s"
