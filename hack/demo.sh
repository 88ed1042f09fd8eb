#!/usr/bin/env bash
# make demo: the operator's main job on a local cluster.
#
# Builds (or reuses) the control plane and tools in bin/, starts a kwok cluster from them (real etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler; nodes and pod lifecycles simulated by
# kwok Stages: driver pods run for a few seconds, then succeed, or fail when annotated so), installs
# the CRDs, starts the operator, and submits:
#   1. examples/spark-pi.yaml, the seed SparkPi, which goes from "" to COMPLETED;
#   2. hack/demo/spark-pi-fail.yaml, whose driver exits 1: OnFailure retries it twice, then FAILED;
#   3. examples/spark-pi-scheduled.yaml (@every 30s), triggered once by hand, then run on schedule.
# It prints each state transition with its time, then the objects the operator created, then tears
# the cluster down. With --keep (make demo KEEP=1) it leaves the cluster and the operator running
# and prints how to use them.
#
# With PROCESS_NODE=1 (make demo PROCESS_NODE=1) the cluster's node is a process node instead
# (internal/testing/processnode, needs root): the pods run real Spark 3.5.3 processes, the driver's service
# account gets the RBAC of config/spark-rbac/spark_driver.yaml, spark-pi prints "Pi is roughly 3.14...",
# spark-pi-fail's driver really exits 1, and the scheduled part (a run every 30 s, which real
# Spark cannot finish in time) is left out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
keep=${KEEP:-}
[[ "${1:-}" == "--keep" ]] && keep=1
cluster=${DEMO_CLUSTER:-sparkop-demo}
real=${PROCESS_NODE:-}
# Real Spark needs more time per application than simulated pods.
app_timeout=180
[[ -n "$real" ]] && app_timeout=420
work="$root/.cache/demo"
mkdir -p "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Building the tools (cached in bin/; the first build takes about 10 minutes)"
hack/build-tools.sh
go build -o bin/spark-operator ./cmd/spark-operator

if [[ -n "$real" ]]; then
  say "Starting cluster $cluster with a process node (real Spark)"
  export SPARK_VERSIONS=${SPARK_VERSIONS:-3.5.3}
else
  say "Starting kwok cluster $cluster"
fi
hack/kwok-cluster.sh down "$cluster" >/dev/null 2>&1 || true
# kwokctl logs JSON lines; keep the demo's output readable (they are in the cluster's log dir).
# grep -v exits 1 when it filters every line; that is not a failure (pipefail still reports the script's).
hack/kwok-cluster.sh up "$cluster" 2>&1 | { grep -v '^{"time"' || true; }
export KUBECONFIG
KUBECONFIG=$(hack/kwok-cluster.sh kubeconfig "$cluster")
kubectl() { "$root/bin/kubectl" "$@"; }

operator_pid=""
cleanup() {
  status=$?
  if [[ -n "$keep" && $status -eq 0 ]]; then
    cat <<MSG

The cluster and the operator keep running (operator pid $operator_pid, log $work/operator.log).
  export KUBECONFIG=$KUBECONFIG
  bin/kubectl get sparkapplications
  bin/kubectl apply -f examples/spark-pi-python.yaml
Tear down with: kill $operator_pid; hack/kwok-cluster.sh down $cluster
MSG
    return
  fi
  [[ -n "$operator_pid" ]] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
  if [[ $status -ne 0 ]]; then
    # Keep the control plane's logs for a post-mortem; the cluster directory goes with `down`.
    rm -rf "$work/cluster-logs" && cp -r "$root/.cache/kwok/clusters/$cluster/logs" "$work/cluster-logs" 2>/dev/null || true
  fi
  hack/kwok-cluster.sh down "$cluster" >/dev/null 2>&1 || true
  if [[ $status -ne 0 ]]; then
    echo "demo: FAILED; logs of the operator and the control plane are in ${work#"$root/"}/; the operator log ends:" >&2
    tail -n 40 "$work/operator.log" >&2 || true
  fi
}
trap cleanup EXIT

say "Installing the CRDs and the Spark service accounts"
kubectl apply -f config/crd/bases/
for _ in $(seq 1 120); do
  kubectl get sparkapplications,scheduledsparkapplications >/dev/null 2>&1 && break
  sleep 0.5
done
kubectl create serviceaccount spark --dry-run=client -o yaml | kubectl apply -f -
kubectl create serviceaccount spark-operator-spark --dry-run=client -o yaml | kubectl apply -f -
if [[ -n "$real" ]]; then
  # Real drivers create their executors with their service account's token: give both accounts
  # the driver's Role.
  kubectl -n default apply -k config/spark-rbac
  kubectl create rolebinding spark-demo --role=spark-role \
    --serviceaccount=default:spark --dry-run=client -o yaml | kubectl apply -f -
fi

say "Starting the operator (log: ${work#"$root/"}/operator.log)"
bin/spark-operator controller start --metrics-bind-address=0 --health-probe-bind-address=0 \
  --zap-log-level="${OPERATOR_LOG_LEVEL:-info}" >"$work/operator.log" 2>&1 &
operator_pid=$!

# watch APP TERMINAL...: prints every state change of APP until it reaches a terminal state.
watch_app() {
  local app=$1 last="none" start=$SECONDS
  while (( SECONDS - start < app_timeout )); do
    local line state attempts
    line=$(kubectl get sparkapplication "$app" -o jsonpath='{.status.applicationState.state}|{.status.executionAttempts}|{.status.applicationState.errorMessage}' 2>/dev/null || true)
    state=${line%%|*}; attempts=$(cut -d'|' -f2 <<<"$line"); msg=${line#*|*|}
    if [[ "$state" != "$last" ]]; then
      printf '  %6.1fs  %-18s attempts=%s %s\n' "$(( SECONDS - start ))" "${state:-\"\" (new)}" "${attempts:-0}" "${msg:+ -- $msg}"
      last=$state
    fi
    case "$state" in COMPLETED|FAILED) echo "$state"  >"$work/$app.state"; return 0 ;; esac
    sleep 0.2
  done
  echo "demo: $app did not finish within ${app_timeout}s" >&2
  return 1
}

say "Submitting examples/spark-pi.yaml (the seed SparkPi)"
kubectl apply -f examples/spark-pi.yaml
watch_app spark-pi
say "What the operator created for spark-pi"
kubectl get pods,services,configmaps -l sparkoperator.k8s.io/app-name=spark-pi
kubectl get sparkapplication spark-pi
if [[ -n "$real" ]]; then
  say "The real driver's log (kubectl logs spark-pi-driver, served by the process node)"
  # The log is read once, then searched: "kubectl logs | grep -q" fails under pipefail when grep -q
  # exits at the first match and kubectl, still writing, dies of SIGPIPE (a false failure).
  driver_log=$(kubectl logs spark-pi-driver)
  grep -E "Pi is roughly|Registered executor|Successfully stopped SparkContext" <<<"$driver_log" || true
  grep -q "Pi is roughly 3.14" <<<"$driver_log" || { echo "demo: spark-pi's driver did not print \"Pi is roughly 3.14\"" >&2; exit 1; }
fi

say "Submitting hack/demo/spark-pi-fail.yaml (driver exits 1; restartPolicy OnFailure, 2 retries)"
kubectl apply -f hack/demo/spark-pi-fail.yaml
watch_app spark-pi-fail
kubectl get sparkapplications
kubectl get events --field-selector involvedObject.name=spark-pi-fail --sort-by=.metadata.creationTimestamp -o custom-columns=REASON:.reason,MESSAGE:.message | tail -n 12

if [[ -n "$real" ]]; then
  [[ "$(cat "$work/spark-pi.state")" == COMPLETED && "$(cat "$work/spark-pi-fail.state")" == FAILED ]] || exit 1
  attempts=$(kubectl get sparkapplication spark-pi-fail -o jsonpath='{.status.executionAttempts}')
  [[ "$attempts" == 3 ]] || { echo "demo: spark-pi-fail ran $attempts times, want 3" >&2; exit 1; }
  say "Demo passed with real Spark: spark-pi COMPLETED; spark-pi-fail FAILED after 3 attempts (the schedule is left out)"
  exit 0
fi

say "Submitting examples/spark-pi-scheduled.yaml (@every 30s) and triggering one run by hand"
kubectl apply -f examples/spark-pi-scheduled.yaml
kubectl annotate scheduledsparkapplication spark-pi-scheduled sparkoperator.k8s.io/trigger-run=demo --overwrite
start=$SECONDS; seen=""; completed=0
while (( SECONDS - start < 90 )); do
  runs=$(kubectl get sparkapplications -l sparkoperator.k8s.io/scheduled-app-name=spark-pi-scheduled \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.applicationState.state}{" "}{end}')
  for run in $runs; do
    if [[ " $seen " != *" $run "* ]]; then
      printf '  %6.1fs  run %s\n' "$(( SECONDS - start ))" "$run"
      seen="$seen $run"
      # Count runs that completed (history keeps only the newest one, so count them as they come).
      [[ "$run" == *=COMPLETED ]] && completed=$(( completed + 1 ))
    fi
  done
  (( completed >= 2 )) && break
  sleep 0.5
done
kubectl get scheduledsparkapplication spark-pi-scheduled
echo "$completed" >"$work/scheduled.completed"

ok=1
(( $(cat "$work/scheduled.completed") >= 2 )) || { echo "demo: the schedule did not complete a manual and a scheduled run" >&2; ok=""; }
[[ "$(cat "$work/spark-pi.state")" == COMPLETED ]] || { echo "demo: spark-pi did not complete" >&2; ok=""; }
[[ "$(cat "$work/spark-pi-fail.state")" == FAILED ]] || { echo "demo: spark-pi-fail did not fail" >&2; ok=""; }
attempts=$(kubectl get sparkapplication spark-pi-fail -o jsonpath='{.status.executionAttempts}')
[[ "$attempts" == 3 ]] || { echo "demo: spark-pi-fail ran $attempts times, want 3" >&2; ok=""; }
[[ -n "$ok" ]] || exit 1
say "Demo passed: spark-pi COMPLETED; spark-pi-fail FAILED after 3 attempts; the schedule ran by hand and on time"
