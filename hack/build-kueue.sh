#!/usr/bin/env bash
# Builds Kueue's controller manager (sigs.k8s.io/kueue/cmd/kueue, pinned by hack/kueue/go.mod) from the
# Go module proxy into bin/kueue, for the Kueue end-to-end suite (make e2e-kueue). It is rebuilt only
# when hack/kueue/go.mod or go.sum changed since it was built (bin/.kueue-stamp holds their hash).
# Cold: about 5 minutes on 2 busy cores; prints a line every 30 s so that it never looks hung.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root/hack/kueue"
stamp=$(hash_files go.mod go.sum)
if fresh kueue "$stamp"; then
  exit 0
fi
echo "build-kueue: building kueue (sigs.k8s.io/kueue/cmd/kueue $(go list -m -f '{{.Version}}' sigs.k8s.io/kueue)) ..."
build_pinned build-kueue kueue sigs.k8s.io/kueue/cmd/kueue "$stamp"
