#!/usr/bin/env bash
# Builds the Kubeflow Spark Operator (github.com/kubeflow/spark-operator/v2/cmd/operator, pinned by
# hack/kubeflow/go.mod) from the Go module proxy into bin/kubeflow-spark-operator, for the side-by-side
# benchmark (make bench-kubeflow). It is rebuilt only when hack/kubeflow/go.mod or go.sum changed since it
# was built (bin/.kubeflow-spark-operator-stamp holds their hash).
# Cold: several minutes on 2 busy cores; prints a line every 30 s so that it never looks hung.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
out="$bin/kubeflow-spark-operator"
mkdir -p "$bin"
cd "$root/hack/kubeflow"
stamp=$(cat go.mod go.sum | sha256sum | cut -c1-16)
if [[ -x "$out" && -f "$bin/.kubeflow-spark-operator-stamp" && "$(cat "$bin/.kubeflow-spark-operator-stamp")" == "$stamp" ]]; then
  exit 0
fi
start=$(date +%s)
version=$(go list -m -f '{{.Version}}' github.com/kubeflow/spark-operator/v2)
echo "build-kubeflow: building the Kubeflow Spark Operator (github.com/kubeflow/spark-operator/v2/cmd/operator $version) ..."
( while sleep 30; do echo "build-kubeflow:   still building kubeflow-spark-operator ($(( $(date +%s) - start ))s)"; done ) &
beat=$!
trap 'kill $beat 2>/dev/null || true' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" github.com/kubeflow/spark-operator/v2/cmd/operator
mv "$out.tmp" "$out"
echo "$stamp" > "$bin/.kubeflow-spark-operator-stamp"
echo "build-kubeflow: built kubeflow-spark-operator in $(( $(date +%s) - start ))s"
