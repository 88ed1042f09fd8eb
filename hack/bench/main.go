// Command bench measures the spark-operator at scale on a local kwok cluster (`make bench`).
//
// It brings up its own kwok cluster from the binaries in bin/ (real etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler; nodes and pods simulated by kwok, whose Stages in
// hack/kwok/stages/ make every driver pod succeed -run-duration after it started running; no QPS
// limits in the control plane and a /12 Service range unless -kwok-defaults), installs
// the CRDs, creates the namespaces and their `spark` service account, starts the operator as one or
// two separate processes, creates N SparkApplications at a given rate (or all at once), and
// measures everything from the outside:
//
//   - a client with its own high QPS creates the applications from concurrent workers, paced by a
//     schedule of -rate per second, and records when each create request was sent;
//   - informers on SparkApplications and on driver pods (label spark-role=driver) record, per
//     application, when the driver pod was first seen, and when the states SUBMITTED, RUNNING and
//     COMPLETED were first seen;
//   - the operator's CPU time (utime+stime in /proc/<pid>/stat, plus cutime+cstime: the children it
//     waited for, Kubeflow's spark-submit) and peak RSS (VmHWM in /proc/<pid>/status, or the largest
//     summed RSS of its process tree, sampled every 250 ms) are read once every application has
//     finished (a killed replica's come from its rusage).
//
// It prints one summary line per run: submission throughput (applications per second, from the
// first creation to the last driver pod created), end-to-end throughput to COMPLETED, p50/p90/p99 of
// creation->driver pod created, ->SUBMITTED and ->RUNNING, operator CPU milliseconds per application
// and peak RSS, plus the checks: every application COMPLETED, one driver pod and
// status.executionAttempts == 1 each (no double submission). With -out it also replaces (same
// command) or appends the run's row in the results table of that Markdown file.
//
// With -replicas 2 the operator runs twice with leader election; -kill-leader-after kills the
// current leader (kill -9; found through the Lease's holder identity, which controller-runtime makes
// "<hostname>_<uuid>": the first replica is started alone and its identity read from the Lease
// before the second starts, so the two are told apart) once that many applications were created,
// and the run reports the failover gap: the longest interval after the kill during which no
// application changed state.
//
// Usage (from the repository root):
//
//	go run ./hack/bench -n 1000 -rate 0                      # 1000 applications at once
//	go run ./hack/bench -n 500 -rate 50 -out docs/benchmarks.md
//	go run ./hack/bench -n 2000 -rate 100 -replicas 2 -kill-leader-after 50%
//	go run ./hack/bench -n 10000 -rate 200 -namespaces 10    # peak RSS with 10,000 applications cached
//	go run ./hack/bench -n 1000 -raw                         # the API server alone, no operator
//	go run ./hack/bench -n 1000 -raw -bare                   # ... and no controllers reacting either
//	go run ./hack/bench -n 40 -kubeflow bin/kubeflow-spark-operator -out docs/benchmarks.md   # make bench-kubeflow
//	go run ./hack/bench -rate 2 -duration 1h -ttl 30s -out docs/benchmarks.md                # soak
//
// -kubeflow runs ours and then Kubeflow's operator (package kubeflow: its CRDs from its module's
// chart, spark-submit from PyPI's Spark, no webhook) on fresh clusters of the same set-up with the
// same applications and writes both rows and their ratios. -duration is the steady mode (package
// soak): a fixed rate for a fixed time with a TTL on every application, the operator's RSS and live
// heap sampled, and at the end their slopes, the p99 latency trend and a leak audit.
//
// The operator is built from ./cmd/spark-operator into .cache/bench/ unless -operator names a
// binary; -pprof builds it with net/http/pprof (hack/bench/pprofoperator) and saves CPU profiles of
// the operator and of kube-apiserver during the load and a heap profile of the operator at the end.
// Besides the summary line the run logs the CPU time of every process (operator, control plane,
// benchmark, the rest of the machine) and the API writes per application by verb and resource; -audit
// adds the writes per application by client (package audit: a kube-apiserver audit log of the
// writes, which costs the API server CPU, so it is off by default); -raw
// measures what the API server alone takes (the benchmark creates what a submission creates).
// See docs/benchmarks.md. Logs of the operator and the cluster are kept in
// .cache/bench/<cluster>/. Everything started is stopped at the end, also on failure or Ctrl-C;
// -keep-cluster leaves the cluster up (the operator is always stopped).
//
// The machinery is in packages of its own, for other load runs (hack/chaos) to reuse: cluster (the
// kwok cluster), operator (build, replicas, Lease), load (clients, the application, paced creation),
// recorder (informers recording each application's life), scraper (API server request counters,
// /proc CPU and memory), audit (writes by client from the audit log) and report (quantiles, command lines, results tables in Markdown).
package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/kubeflow"
	"github.com/sparkop/spark-operator/hack/bench/soak"
	"github.com/sparkop/spark-operator/hack/harness"
)

// options are the command-line flags.
type options struct {
	n               int
	rate            float64
	runDuration     time.Duration
	namespaces      int
	operatorFlags   string
	operatorEnv     string
	operatorBinary  string
	replicas        int
	killLeaderAfter string
	keepCluster     bool
	out             string
	cluster         string
	workers         int
	timeout         time.Duration
	settle          time.Duration
	kwokDefaults    bool
	nodes           int
	pprof           bool
	raw             bool
	bare            bool
	audit           bool

	// -kubeflow: the comparison with Kubeflow's operator (modes.go, package kubeflow).
	kubeflowBinary string
	kubeflowFlags  string
	kubeflow       *kubeflow.Leg // set on the run of Kubeflow's operator
	// -duration: the steady mode (modes.go, package soak).
	duration       time.Duration
	ttl            time.Duration
	sampleInterval time.Duration
	// onSummary, when set, receives the run's summary (compare collects both runs).
	onSummary func(*summary)
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := harness.NewFlagSet("bench", "Benchmarks the spark-operator on its own local kwok cluster (see the package documentation).")
	fs.IntVar(&o.n, "n", 200, "number of SparkApplications to create")
	fs.Float64Var(&o.rate, "rate", 0, "creations per second (0: all at once, as fast as the workers go)")
	fs.DurationVar(&o.runDuration, "run-duration", 5*time.Second, "how long kwok runs each driver pod (annotation kwok.sparkop.dev/run-duration)")
	fs.IntVar(&o.namespaces, "namespaces", 1, "spread the applications over this many namespaces (bench-0, bench-1, ...)")
	fs.StringVar(&o.operatorFlags, "operator-flags", "--kube-api-qps=1000 --kube-api-burst=2000",
		"flags of `spark-operator controller start`, space-separated (the bench adds --metrics-bind-address=0 --health-probe-bind-address=0 and, with 2 replicas, the leader election flags)")
	fs.StringVar(&o.operatorEnv, "operator-env", "", "environment variables added to the operator's, space-separated NAME=VALUE (e.g. GOMEMLIMIT=250MiB or GOGC=50: the Go runtime's settings for the operator alone, not for the control plane)")
	fs.StringVar(&o.operatorBinary, "operator", "", "operator binary to run (default: build ./cmd/spark-operator into .cache/bench/)")
	fs.IntVar(&o.replicas, "replicas", 1, "operator replicas: 1, or 2 with leader election")
	fs.StringVar(&o.killLeaderAfter, "kill-leader-after", "", "with -replicas 2: kill -9 the leader once this many applications were created (a number or a percentage of -n, e.g. 50%)")
	fs.BoolVar(&o.keepCluster, "keep-cluster", false, "leave the kwok cluster running at the end (the operator is stopped)")
	fs.StringVar(&o.out, "out", "", "Markdown file whose results table gets this run's row (e.g. docs/benchmarks.md)")
	fs.StringVar(&o.cluster, "cluster", "sparkop-bench", "name of the kwok cluster (deleted and re-created)")
	fs.IntVar(&o.workers, "workers", 32, "concurrent create requests")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up waiting for the applications after this long (default: 3m + n/10 s + run-duration)")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "wait this long after the last application finished before reading the operator's CPU and memory")
	fs.BoolVar(&o.kwokDefaults, "kwok-defaults", false, "start the cluster with `hack/kwok-cluster.sh up` as is, keeping the QPS limits of kube-scheduler, kube-controller-manager and the API server's inflight limits (default: kwokctl --disable-qps-limits)")
	fs.IntVar(&o.nodes, "nodes", 3, "simulated nodes")
	fs.BoolVar(&o.pprof, "pprof", false, "run the operator with net/http/pprof (hack/bench/pprofoperator) and save CPU and heap profiles in .cache/bench/<cluster>/")
	fs.BoolVar(&o.bare, "bare", false, "with -raw: a cluster of etcd and kube-apiserver only (no kube-controller-manager, kube-scheduler, kwok or nodes), so nothing reacts to the created objects: what a bare client gets from the API server")
	fs.BoolVar(&o.raw, "raw", false, "no operator: the benchmark itself creates, per application, what a submission creates (the SparkApplication, the driver pod, its two ConfigMaps and its Service, rendered by internal/submission), to measure what the API server alone can take on this machine right now")
	fs.BoolVar(&o.audit, "audit", false, "start the cluster with a kube-apiserver audit log of the writes (package audit) and report the API writes per application by client and resource (with -out, in the audit table); auditing costs the API server CPU, so the CPU figures of such a run are not comparable with others")
	fs.StringVar(&o.kubeflowBinary, "kubeflow", "", "also run Kubeflow's operator, this binary (make kubeflow-operator builds bin/kubeflow-spark-operator), with spark-submit from PyPI's Spark "+kubeflow.SparkVersion+", after ours on a fresh cluster of the same set-up and load; -out gets both rows and the comparison")
	fs.StringVar(&o.kubeflowFlags, "kubeflow-flags", "", "flags of Kubeflow's `controller start` besides --metrics-bind-address=0 --health-probe-bind-address=0 (default: none, Kubeflow's defaults: 10 controller threads)")
	fs.DurationVar(&o.duration, "duration", 0, "steady mode: create applications at -rate for this long (N = rate x duration; -n is ignored), then audit for leaks and report the operator's RSS, heap and p99 latency trends")
	fs.DurationVar(&o.ttl, "ttl", 0, "spec.timeToLiveSeconds of the applications (rounded to seconds; default 0: none, 30s in the steady mode)")
	fs.DurationVar(&o.sampleInterval, "sample-interval", 10*time.Second, "steady mode: how often the operator's RSS and live heap are sampled")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.n < 1:
		return nil, errors.New("-n must be at least 1")
	case o.rate < 0:
		return nil, errors.New("-rate must not be negative")
	case o.namespaces < 1:
		return nil, errors.New("-namespaces must be at least 1")
	case o.replicas != 1 && o.replicas != 2:
		return nil, errors.New("-replicas must be 1 or 2")
	case o.killLeaderAfter != "" && o.replicas != 2:
		return nil, errors.New("-kill-leader-after needs -replicas 2")
	case o.workers < 1:
		return nil, errors.New("-workers must be at least 1")
	case o.pprof && o.operatorBinary != "":
		return nil, errors.New("-pprof builds its own operator; do not combine it with -operator")
	case !validEnv(o.operatorEnv):
		return nil, fmt.Errorf("-operator-env %q: want space-separated NAME=VALUE", o.operatorEnv)
	case o.raw && o.replicas != 1:
		return nil, errors.New("-raw runs no operator: no -replicas 2 or -kill-leader-after")
	case o.audit && o.kwokDefaults:
		return nil, errors.New("-audit needs the benchmark's own cluster set-up: no -kwok-defaults")
	case o.bare && (!o.raw || o.kwokDefaults):
		return nil, errors.New("-bare needs -raw (nothing would run the applications) and cannot be combined with -kwok-defaults")
	}
	if o.duration > 0 {
		switch {
		case o.rate <= 0:
			return nil, errors.New("-duration needs a -rate above 0 (the steady mode creates at a fixed rate)")
		case o.raw || o.kubeflowBinary != "" || o.replicas != 1:
			return nil, errors.New("-duration cannot be combined with -raw, -kubeflow or -replicas 2")
		}
		o.n = max(1, soak.Count(o.rate, o.duration))
		if o.ttl == 0 {
			o.ttl = 30 * time.Second
		}
	}
	switch {
	case o.ttl < 0 || o.sampleInterval <= 0:
		return nil, errors.New("-ttl must not be negative and -sample-interval must be positive")
	case o.kubeflowBinary != "" && (o.raw || o.replicas != 1 || o.pprof || o.operatorBinary != ""):
		return nil, errors.New("-kubeflow compares one replica of each operator: no -raw, -replicas 2, -pprof or -operator")
	}
	if _, err := o.killThreshold(); err != nil {
		return nil, err
	}
	if o.timeout == 0 {
		o.timeout = 3*time.Minute + time.Duration(o.n)*100*time.Millisecond + o.runDuration
		if o.duration > 0 {
			o.timeout = 3*time.Minute + o.duration + o.runDuration
		}
	}
	return o, nil
}

// validEnv says whether env is a space-separated list of NAME=VALUE.
func validEnv(env string) bool {
	for _, kv := range strings.Fields(env) {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return false
		}
	}
	return true
}

// killThreshold is the number of created applications after which the leader is killed; 0 means never.
func (o *options) killThreshold() (int, error) {
	s := strings.TrimSpace(o.killLeaderAfter)
	if s == "" {
		return 0, nil
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil || p <= 0 || p > 100 {
			return 0, fmt.Errorf("-kill-leader-after %q: want a percentage in (0, 100]", s)
		}
		return max(1, int(float64(o.n)*p/100)), nil
	}
	k, err := strconv.Atoi(s)
	if err != nil || k < 1 || k > o.n {
		return 0, fmt.Errorf("-kill-leader-after %q: want a number in [1, n] or a percentage", s)
	}
	return k, nil
}

func main() {
	harness.Main("bench", parseFlags, func(ctx context.Context, opts *options, command string) error {
		if opts.kubeflowBinary != "" {
			return compare(ctx, opts, command)
		}
		return run(ctx, opts, command)
	})
}

// logf prints a progress line with the time since start.
var logf = harness.Logf("bench")
