#!/usr/bin/env bash
# Builds Kueue's controller manager (sigs.k8s.io/kueue/cmd/kueue, pinned by hack/kueue/go.mod) from the
# Go module proxy into bin/kueue, for the Kueue end-to-end suite (make e2e-kueue). It is rebuilt only
# when hack/kueue/go.mod or go.sum changed since it was built (bin/.kueue-stamp holds their hash).
# Cold: about 5 minutes on 2 busy cores; prints a line every 30 s so that it never looks hung.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"
cd "$root/hack/kueue"
stamp=$(cat go.mod go.sum | sha256sum | cut -c1-16)
if [[ -x "$bin/kueue" && -f "$bin/.kueue-stamp" && "$(cat "$bin/.kueue-stamp")" == "$stamp" ]]; then
  exit 0
fi
start=$(date +%s)
echo "build-kueue: building kueue (sigs.k8s.io/kueue/cmd/kueue $(go list -m -f '{{.Version}}' sigs.k8s.io/kueue)) ..."
( while sleep 30; do echo "build-kueue:   still building kueue ($(( $(date +%s) - start ))s)"; done ) &
beat=$!
trap 'kill $beat 2>/dev/null || true' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/kueue.tmp" sigs.k8s.io/kueue/cmd/kueue
mv "$bin/kueue.tmp" "$bin/kueue"
echo "$stamp" > "$bin/.kueue-stamp"
echo "build-kueue: built kueue in $(( $(date +%s) - start ))s"
