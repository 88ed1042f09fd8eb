#!/usr/bin/env bash
# Builds golangci-lint with kube-api-linter compiled in (the module hack/golangci-lint, pinned by its
# go.mod) from the Go module proxy into bin/golangci-lint, for make lint. It is rebuilt only when
# hack/golangci-lint's go.mod, go.sum or main.go changed since it was built (bin/.golangci-lint-stamp
# holds their hash). Prints a line every 30 s so that a cold build never looks hung.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root/hack/golangci-lint"
stamp=$(hash_files go.mod go.sum main.go)
if fresh golangci-lint "$stamp"; then
  exit 0
fi
echo "build-golangci-lint: building golangci-lint $(go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2) with kube-api-linter $(go list -m -f '{{.Version}}' sigs.k8s.io/kube-api-linter) ..."
build_pinned build-golangci-lint golangci-lint . "$stamp"
