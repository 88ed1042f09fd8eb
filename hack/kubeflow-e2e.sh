#!/usr/bin/env bash
# Runs Kubeflow Spark Operator's own end-to-end suite (its repository's test/e2e, a Go module of its
# own that is not published on the module proxy) against this operator: the suite's chart install,
# CRD install and webhook waits are skipped, and it runs against a cluster where our chart is
# installed (test/e2e with SPARK_E2E_KEEP=1; see docs/kubeflow-compatibility.md for the whole recipe).
#
#   hack/kubeflow-e2e.sh KUBEFLOW_SOURCE [KUBECONFIG] [-- test binary flags...]
#   hack/kubeflow-e2e.sh --build KUBEFLOW_SOURCE     only copy, patch and compile the suite
#
# KUBEFLOW_SOURCE is a checkout of github.com/kubeflow/spark-operator or a (bare) git directory of
# it, whose HEAD is used (docs/kubeflow-compatibility.md names the commit last run). It is copied
# to .cache/kubeflow-e2e/repo and patched there; nothing of it enters this repository. KUBECONFIG
# defaults to the e2e cluster's. Flags after -- go to the suite, e.g. -ginkgo.focus='Spark UI'.
# Output: .cache/kubeflow-e2e/run.log (the whole log), report.json (Ginkgo's JSON report) and
# summary.md (one line per spec: state, time, first line of the failure), which is also printed.
# The exit status is the suite's.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: hack/kubeflow-e2e.sh [--build] KUBEFLOW_SOURCE [KUBECONFIG] [-- test flags...]"
build_only=""
[[ "${1:-}" == "--build" ]] && { build_only=1; shift; }
src=${1:?$usage}
shift
kubeconfig="$root/.cache/kwok/clusters/sparkop-e2e/kubeconfig.yaml"
if [[ $# -gt 0 && "$1" != "--" ]]; then kubeconfig=$1; shift; fi
[[ "${1:-}" == "--" ]] && shift

work="$root/.cache/kubeflow-e2e"
repo="$work/repo"
rm -rf "$repo"
mkdir -p "$repo"
if [[ -f "$src/test/e2e/suite_test.go" ]]; then
  commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo "unknown (not a git checkout)")
  cp -a "$src/." "$repo/"
elif git --git-dir="$src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  commit=$(git --git-dir="$src" rev-parse HEAD)
  git --git-dir="$src" archive HEAD | tar -x -C "$repo"
else
  echo "kubeflow-e2e: $src is neither a checkout with test/e2e/suite_test.go nor a git directory" >&2
  exit 2
fi
[[ -f "$repo/test/e2e/suite_test.go" ]] || { echo "kubeflow-e2e: $src has no test/e2e/suite_test.go" >&2; exit 2; }
echo "$commit" >"$work/commit"

suite="$repo/test/e2e/suite_test.go"
# The chart, the CRDs and the webhooks are ours, already in the cluster: skip installing theirs.
python3 - "$suite" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'CRDDirectoryPaths:\s*\[\]string\{[^}]*\},', 'CRDDirectoryPaths: nil,', s)
s = s.replace('ErrorIfCRDPathMissing: true,', 'ErrorIfCRDPathMissing: false,')
for fn in ('installViaHelm', 'uninstallViaHelm'):
    s = s.replace('func %s() {\n' % fn, 'func %s() {\n\tif os.Getenv("SKIP_INSTALL") != "" {\n\t\treturn\n\t}\n' % fn, 1)
for fn in ('waitForMutatingWebhookReady', 'waitForValidatingWebhookReady'):
    s = re.sub(r'(func %s\([^)]*\) error \{\n)' % fn, r'\1\tif os.Getenv("SKIP_INSTALL") != "" {\n\t\treturn nil\n\t}\n', s, count=1)
open(p, 'w').write(s)
PY
[[ $(grep -c 'SKIP_INSTALL' "$suite") -ge 4 ]] || { echo "kubeflow-e2e: could not patch $suite (its set-up changed)" >&2; exit 1; }

cd "$repo/test/e2e"
# The compiled suite is reused while the commit and the patched set-up are the same (linking it
# takes minutes on a loaded machine).
stamp="$commit $(sha256sum "$suite" | cut -c1-16)"
if [[ -x "$work/e2e.test" && "$(cat "$work/e2e.test.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "kubeflow-e2e: reusing the suite compiled for ${commit:0:12}" >&2
else
  echo "kubeflow-e2e: compiling the suite of ${commit:0:12} (downloads its dependencies the first time)" >&2
  rm -f "$work/e2e.test.stamp"
  go test -c -o "$work/e2e.test" .
  echo "$stamp" >"$work/e2e.test.stamp"
fi
[[ -n "$build_only" ]] && exit 0
[[ -f "$kubeconfig" ]] || { echo "kubeflow-e2e: no kubeconfig at $kubeconfig (start the cluster first)" >&2; exit 2; }

echo "kubeflow-e2e: running ${commit:0:12}'s test/e2e against $kubeconfig" >&2
rm -f "$work/report.json"
status=0
# kubectl (the SparkConnect spec execs into a pod) is ours, from bin/.
PATH="$root/bin:$PATH" KUBECONFIG=$kubeconfig SKIP_INSTALL=1 \
  "$work/e2e.test" -test.timeout 90m -ginkgo.v -ginkgo.json-report="$work/report.json" "$@" 2>&1 |
  tee "$work/run.log" || status=$?

# One line per spec from Ginkgo's JSON report.
if [[ -f "$work/report.json" ]]; then
  python3 - "$work/report.json" "$commit" >"$work/summary.md" <<'PY'
import json, sys
reports = json.load(open(sys.argv[1]))
counts = {}
print("Kubeflow commit %s\n" % sys.argv[2])
print("| spec | state | time | failure |")
print("|---|---|---|---|")
for r in reports:
    for s in r.get("SpecReports") or []:
        if s.get("LeafNodeType") != "It":
            continue
        name = " / ".join(s.get("ContainerHierarchyTexts") or []) + " / " + s.get("LeafNodeText", "")
        state = s.get("State", "?")
        counts[state] = counts.get(state, 0) + 1
        lines = [l.strip() for l in (s.get("Failure") or {}).get("Message", "").splitlines() if l.strip()]
        msg = " ".join(lines[:3]).replace("|", "\\|")[:240]
        print("| %s | %s | %.0f s | %s |" % (name, state, s.get("RunTime", 0) / 1e9, msg))
print("\n" + ", ".join("%d %s" % (n, st) for st, n in sorted(counts.items())))
PY
  cat "$work/summary.md"
fi
exit "$status"
