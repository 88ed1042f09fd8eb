#!/usr/bin/env bash
# Builds the Kubeflow Spark Operator (github.com/kubeflow/spark-operator/v2/cmd/operator, pinned by
# hack/kubeflow/go.mod) from the Go module proxy into bin/kubeflow-spark-operator, for the side-by-side
# benchmark (make bench-kubeflow). It is rebuilt only when hack/kubeflow/go.mod or go.sum changed since it
# was built (bin/.kubeflow-spark-operator-stamp holds their hash).
# Cold: several minutes on 2 busy cores; prints a line every 30 s so that it never looks hung.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root/hack/kubeflow"
stamp=$(hash_files go.mod go.sum)
if fresh kubeflow-spark-operator "$stamp"; then
  exit 0
fi
version=$(go list -m -f '{{.Version}}' github.com/kubeflow/spark-operator/v2)
echo "build-kubeflow: building the Kubeflow Spark Operator (github.com/kubeflow/spark-operator/v2/cmd/operator $version) ..."
build_pinned build-kubeflow kubeflow-spark-operator github.com/kubeflow/spark-operator/v2/cmd/operator "$stamp"
