#!/usr/bin/env bash
# Runs a local Kubernetes cluster whose nodes and pods are simulated by kwok: a real etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler, plus the kwok controller that makes
# pods "run" on fake nodes. No container runtime and no network are needed: every binary comes from
# bin/ (`make tools`), and all state lives in .cache/kwok/ (git-ignored), never in $HOME.
#
#   hack/kwok-cluster.sh up [name]          create and start the cluster, with 3 Ready nodes
#   hack/kwok-cluster.sh down [name]        stop and delete it
#   hack/kwok-cluster.sh kubeconfig [name]  print the path of its kubeconfig
#
# The name defaults to "sparkop". Pod behaviour comes from the Stage objects in hack/kwok/stages/,
# applied at start-up (kwok runs with Stage CRDs, so `bin/kubectl apply` of a changed Stage takes
# effect at once): kwok's defaults, plus Spark driver pods that succeed or fail after a while (see
# spark-pod-complete.yaml and spark-pod-fail.yaml).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
cmd=${1:-}
name=${2:-sparkop}
nodes=${KWOK_NODES:-3}

# kwokctl keeps clusters, logs and its download cache under $KWOK_WORKDIR (default ~/.kwok).
export KWOK_WORKDIR="$root/.cache/kwok"
# kwokctl runs kubectl (found on PATH first, else downloaded): make it ours.
export KWOK_KUBECTL_BINARY="$bin/kubectl"
export PATH="$bin:$PATH"
# kubectl's discovery cache (default ~/.kube/cache).
export KUBECACHEDIR="$KWOK_WORKDIR/kubectl-cache"
# Generate component flags for the Kubernetes version we built (see hack/tools/go.mod).
export KWOK_KUBE_VERSION=${KWOK_KUBE_VERSION:-v1.36.3}

kubeconfig="$KWOK_WORKDIR/clusters/$name/kubeconfig.yaml"

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

log() { echo "kwok-cluster: $*" >&2; }

require_tools() {
  local missing=()
  for tool in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl; do
    [[ -x "$bin/$tool" ]] || missing+=("bin/$tool")
  done
  if (( ${#missing[@]} )); then
    log "missing ${missing[*]}: run \`make tools\` first (builds them from the Go module proxy)"
    exit 1
  fi
}

kubectl() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

up() {
  require_tools
  mkdir -p "$KWOK_WORKDIR"
  local start=$SECONDS
  log "creating cluster $name (state in ${KWOK_WORKDIR#"$root/"}/clusters/$name)"
  # Every binary is given explicitly so that kwokctl never tries to download one; --kubeconfig=""
  # keeps it from adding a context to ~/.kube/config. Optional components (metrics-server,
  # Prometheus, Jaeger, dashboard) are off by default for the binary runtime.
  "$bin/kwokctl" create cluster \
    --name "$name" \
    --runtime binary \
    --kubeconfig "" \
    --etcd-binary "$bin/etcd" \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --kwok-controller-binary "$bin/kwok" \
    --enable-crds Stage \
    --wait 2m

  log "applying stages from hack/kwok/stages/"
  kubectl apply -f "$root/hack/kwok/stages/" >&2

  local have
  have=$(kubectl get nodes --no-headers 2>/dev/null | wc -l)
  if (( have < nodes )); then
    log "creating $nodes simulated nodes"
    "$bin/kwokctl" scale node --name "$name" --replicas "$nodes" >&2
  fi
  log "waiting for nodes to be Ready"
  kubectl wait --for=condition=Ready node --all --timeout=120s >&2
  kubectl get nodes >&2

  log "cluster $name is up in $(( SECONDS - start ))s. Use it with:"
  cat >&2 <<EOF

  export KUBECONFIG=$kubeconfig KUBECACHEDIR=$KUBECACHEDIR
  bin/kubectl get nodes
  bin/kubectl run demo --image=busybox --restart=Never   # kwok marks it Running at once

  Spark driver pods (label spark-role=driver) succeed 5s after Running; annotate them with
  kwok.sparkop.dev/run-duration: "30s" to change that, kwok.sparkop.dev/exit-code: "1" to fail.

  Logs: ${KWOK_WORKDIR}/clusters/$name/logs/   Stop: hack/kwok-cluster.sh down $name
EOF
}

down() {
  if [[ ! -d "$KWOK_WORKDIR/clusters/$name" ]]; then
    log "no cluster $name"
    return 0
  fi
  [[ -x "$bin/kwokctl" ]] || { log "bin/kwokctl is missing: run \`make tools\`"; exit 1; }
  # kwokctl removes the cluster's context from --kubeconfig, which must not be empty: point it at
  # the cluster's own kubeconfig, which goes away with the cluster, so that ~/.kube is left alone.
  "$bin/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  kubeconfig)
    [[ -f "$kubeconfig" ]] || { log "no cluster $name: run hack/kwok-cluster.sh up $name"; exit 1; }
    echo "$kubeconfig"
    ;;
  *) usage ;;
esac
