//go:build tools

// Package kubeflow pins the Kubeflow Spark Operator's binary (github.com/kubeflow/spark-operator/v2/cmd/operator),
// built into bin/kubeflow-spark-operator by hack/build-kubeflow.sh for the side-by-side benchmark
// (make bench-kubeflow, docs/benchmarks.md). It is a module of its own so that Kubeflow's dependency
// versions never touch the operator's go.mod nor hack/tools (the shared control plane).
package kubeflow

import _ "github.com/kubeflow/spark-operator/v2/cmd/operator"
