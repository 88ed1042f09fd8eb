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
#
# PROCESS_NODE=1 replaces the simulated nodes with a process node (internal/testing/processnode, run as root):
# a Node whose pods run as real local processes, so that real Spark runs. It installs pyspark for
# each version in SPARK_VERSIONS (default "3.5.3 4.0.1"; hack/spark-install.sh), compiles the
# stand-in examples jar for each (hack/spark-examples-jar.sh), and runs spark:<version> images from
# them; bin/spark-operator serves */spark-operator images, and busybox images run host programs.
# Its log is .cache/kwok/clusters/<name>/logs/processnode.log; `down` stops it. PROCESSNODE_ARGS adds
# flags to it (e.g. PROCESSNODE_ARGS="--pod-network namespaces").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
cmd=${1:-}
name=${2:-sparkop}
process_node=${PROCESS_NODE:-}
nodes=${KWOK_NODES:-3}
[[ -n "$process_node" ]] && nodes=0

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
  # Prometheus, Jaeger, dashboard) are off by default for the binary runtime. With a process node
  # the kwok controller is left out: its Stages would "complete" the real pods.
  local kwok_args=(--kwok-controller-binary "$bin/kwok" --enable-crds Stage)
  [[ -n "$process_node" ]] && kwok_args=(--disable kwok-controller)
  "$bin/kwokctl" create cluster \
    --name "$name" \
    --runtime binary \
    --kubeconfig "" \
    --etcd-binary "$bin/etcd" \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    "${kwok_args[@]}" \
    --wait 2m

  if [[ -z "$process_node" ]]; then
    log "applying stages from hack/kwok/stages/"
    kubectl apply -f "$root/hack/kwok/stages/" >&2
  fi

  local have
  # A cluster not answering yet has no nodes; under pipefail a failing kubectl would end the script.
  have=$({ kubectl get nodes --no-headers 2>/dev/null || true; } | wc -l)
  if (( have < nodes )); then
    log "creating $nodes simulated nodes"
    "$bin/kwokctl" scale node --name "$name" --replicas "$nodes" >&2
  fi
  [[ -n "$process_node" ]] && start_process_node
  log "waiting for nodes to be Ready"
  for _ in $(seq 1 60); do
    [[ -n "$(kubectl get nodes --no-headers 2>/dev/null)" ]] && break
    if [[ -n "$process_node" ]] && ! kill -0 "$(cat "$KWOK_WORKDIR/clusters/$name/processnode.pid")" 2>/dev/null; then
      log "the process node exited; its log ends:"
      tail -n 20 "$KWOK_WORKDIR/clusters/$name/logs/processnode.log" >&2
      exit 1
    fi
    sleep 1
  done
  kubectl wait --for=condition=Ready node --all --timeout=120s >&2
  kubectl get nodes >&2

  log "cluster $name is up in $(( SECONDS - start ))s. Use it with:"
  if [[ -n "$process_node" ]]; then
    cat >&2 <<EOF

  export KUBECONFIG=$kubeconfig KUBECACHEDIR=$KUBECACHEDIR
  bin/kubectl get nodes
  bin/kubectl run demo --image=busybox --restart=Never -- sh -c 'cat /etc/hosts'   # a real process
  bin/kubectl logs demo

  Pods run as processes of the process node; spark:3.5.x and spark:4.0.x images are real Spark.
  Logs: ${KWOK_WORKDIR}/clusters/$name/logs/   Stop: hack/kwok-cluster.sh down $name
EOF
    return
  fi
  cat >&2 <<EOF

  export KUBECONFIG=$kubeconfig KUBECACHEDIR=$KUBECACHEDIR
  bin/kubectl get nodes
  bin/kubectl run demo --image=busybox --restart=Never   # kwok marks it Running at once

  Spark driver pods (label spark-role=driver) succeed 5s after Running; annotate them with
  kwok.sparkop.dev/run-duration: "30s" to change that, kwok.sparkop.dev/exit-code: "1" to fail.

  Logs: ${KWOK_WORKDIR}/clusters/$name/logs/   Stop: hack/kwok-cluster.sh down $name
EOF
}

# start_process_node builds and starts bin/processnode for this cluster (see PROCESS_NODE above).
start_process_node() {
  local dir="$KWOK_WORKDIR/clusters/$name" args=() v home jar
  log "building bin/processnode and bin/spark-operator"
  (cd "$root" && go build -o "$bin/processnode" ./hack/processnode && go build -o "$bin/spark-operator" ./cmd/spark-operator)
  for v in ${SPARK_VERSIONS:-3.5.3 4.0.1}; do
    home=$("$root/hack/spark-install.sh" "$v")
    jar=$("$root/hack/spark-examples-jar.sh" "$home")
    args+=(--spark-home "$v=$home" --spark-examples-jar "$v=$jar")
  done
  # Kubeflow's operator (make kubeflow-operator) runs as its chart's image, for test/e2e's migration.
  [[ -x "$bin/kubeflow-spark-operator" ]] && args+=(--image-binary "*/kubeflow/spark-operator/controller=$bin/kubeflow-spark-operator")
  # PROCESSNODE_ARGS: more flags for bin/processnode, e.g. "--pod-network namespaces".
  read -ra extra <<<"${PROCESSNODE_ARGS:-}"
  args+=("${extra[@]}")
  log "starting the process node (log: ${dir#"$root/"}/logs/processnode.log)"
  mkdir -p "$dir/logs"
  "$bin/processnode" --kubeconfig "$kubeconfig" --state-dir "$dir/processnode" \
    --image-binary "spark-operator=$bin/spark-operator" --host-image busybox \
    "${args[@]}" >"$dir/logs/processnode.log" 2>&1 &
  echo $! >"$dir/processnode.pid"
}

stop_process_node() {
  local pidfile="$KWOK_WORKDIR/clusters/$name/processnode.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

down() {
  stop_process_node
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
