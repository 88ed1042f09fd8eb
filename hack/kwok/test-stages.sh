#!/usr/bin/env bash
# End-to-end check of hack/kwok-cluster.sh and the stages in hack/kwok/stages/: brings up a kwok
# cluster (name "stages-test" unless given), checks that a plain pod runs, that Spark driver pods
# succeed or fail as their annotations say, with the expected container exit codes, that a deleted
# Running pod held by a finalizer is stopped first, and deletes the
# cluster again (also on failure).
#
#   hack/kwok/test-stages.sh [name]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:-stages-test}
cluster="$root/hack/kwok-cluster.sh"

trap '"$cluster" down "$name" >/dev/null 2>&1 || true' EXIT
# Only grep's "no line left" is forgiven; a failing "up" still fails the script (pipefail).
"$cluster" up "$name" 2>&1 | { grep -v '^{' || true; }
export KUBECONFIG
KUBECONFIG=$("$cluster" kubeconfig "$name")
export KUBECACHEDIR="$root/.cache/kwok/kubectl-cache"
kubectl() { "$root/bin/kubectl" "$@"; }

fail() { echo "test-stages: FAIL: $*" >&2; kubectl get pods -o wide >&2 || true; exit 1; }

# waitfor POD JSONPATH WANT SECONDS: polls until the pod's field equals WANT.
waitfor() {
  local got=""
  for (( i = 0; i < $4 * 2; i++ )); do
    got=$(kubectl get pod "$1" -o "jsonpath=$2" 2>/dev/null || true)
    [[ "$got" == "$3" ]] && return 0
    sleep 0.5
  done
  fail "pod $1: $2 = '$got', want '$3' within $4s"
}

kubectl run plain --image=busybox --restart=Never >/dev/null
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: driver-ok
  labels: {spark-role: driver}
  annotations: {kwok.sparkop.dev/run-duration: "3s"}
spec:
  containers: [{name: spark-kubernetes-driver, image: spark}]
---
apiVersion: v1
kind: Pod
metadata:
  name: driver-fail
  labels: {spark-role: driver}
  annotations: {kwok.sparkop.dev/exit-code: "1", kwok.sparkop.dev/run-duration: "3s"}
spec:
  containers:
  - {name: sidecar, image: envoy}
  - {name: spark-kubernetes-driver, image: spark}
---
apiVersion: v1
kind: Pod
metadata:
  name: executor
  labels: {spark-role: executor}
spec:
  containers: [{name: spark-kubernetes-executor, image: spark}]
EOF

waitfor plain '{.status.phase}' Running 30
waitfor driver-ok '{.status.phase}' Running 30
waitfor driver-ok '{.status.phase}' Succeeded 30
waitfor driver-ok '{.status.containerStatuses[0].state.terminated.exitCode}' 0 5
waitfor driver-fail '{.status.phase}' Failed 30
waitfor driver-fail '{.status.containerStatuses[?(@.name=="spark-kubernetes-driver")].state.terminated.exitCode}' 1 5
waitfor driver-fail '{.status.containerStatuses[?(@.name=="sidecar")].state.terminated.exitCode}' 0 5
# Only drivers finish by themselves.
sleep 2
waitfor executor '{.status.phase}' Running 5
waitfor plain '{.status.phase}' Running 5
kubectl delete pod plain --timeout=30s >/dev/null || fail "pod plain was not deleted"
# A Running pod held by a finalizer is stopped (exit 143, Failed) when deleted, and goes once the
# finalizer is released, as the operator's driver pods do.
kubectl patch pod executor --type=merge -p '{"metadata":{"finalizers":["sparkoperator.k8s.io/driver-state"]}}' >/dev/null
kubectl delete pod executor --wait=false >/dev/null
waitfor executor '{.status.phase}' Failed 30
waitfor executor '{.status.containerStatuses[0].state.terminated.exitCode}' 143 5
kubectl patch pod executor --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
kubectl wait --for=delete pod/executor --timeout=30s >/dev/null || fail "pod executor was not deleted once its finalizer was released"
kubectl get pods -o wide
echo "test-stages: PASS"
