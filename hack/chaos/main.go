// Command chaos checks that the spark-operator loses nothing while its control plane misbehaves
// (`make chaos`, `make chaos-short`).
//
// On its own kwok cluster (hack/bench's machinery: hack/bench/cluster, operator, load, recorder,
// report) it runs the operator as two replicas with leader election, connected to kube-apiserver
// through a TCP proxy of its own, creates -n SparkApplications at -rate per second with a mix of
// outcomes (of every 20: 10 complete; 4 fail every attempt with restartPolicy OnFailure and 2
// retries; 3 are suspended once RUNNING and resumed once SUSPENDED, then complete; 3 are deleted while
// RUNNING), and meanwhile injects faults one at a time, in shuffled rounds of every kind (-rounds):
//
//   - operator-kill: both replicas SIGKILLed and started again at once;
//   - leader-kill: the leader SIGKILLed, started again once the other replica took over;
//   - apiserver-restart, etcd-restart: the process SIGKILLed, kept down 2-10 s, started again with the
//     same command line and data;
//   - connection-cut: every connection between the operator and the API server reset and new ones
//     refused for 1 s to -max-cut;
//   - driver-delete: up to three Running driver pods deleted;
//   - node-delete: a node deleted (kwok then recreates it), with the drivers running on it.
//
// A replica that exits on its own is started again after 1 s, as a Deployment would, and counted.
// After each fault the run measures the recovery: for the faults of the control plane and the
// operator, the time from the fault's end (the component serving again, the connections allowed
// again, the leader killed) until a canary application created then is seen SUBMITTED; for deleted
// drivers and nodes, until one of the hit applications changes state. Faults stop when the plan is
// done (and the load continues until all -n are created); then the run waits for every application
// to settle and checks, from its informers and a final list:
//
//   - lost or never terminal: an application the run created and did not delete that is gone, or not
//     COMPLETED, FAILED or SUBMISSION_FAILED by the end (-settle-timeout); deleted ones still present;
//   - two drivers at once (a driver pod created while another of the same application was live) or
//     more attempts (status.executionAttempts) than the policy allows plus the faults that hit it;
//   - stuck: a non-terminal state held longer than its policy explains (the driver's run time, the
//     retry interval, the faults active meanwhile and their recovery, plus -slack);
//   - falsely FAILED: an application meant to complete that ended FAILED or SUBMISSION_FAILED though
//     no fault hit its driver;
//
// and prints one summary line, with the recovery per kind of fault (median and max) against the 5 s
// target, and with -out puts its row into the chaos table of that Markdown file. It exits 1 on any
// violation.
//
// Usage (from the repository root):
//
//	go run ./hack/chaos -n 2000 -rate 8 -rounds 3 -out docs/benchmarks.md    # make chaos
//	go run ./hack/chaos -n 300 -rate 2.5 -rounds 1 -max-cut 20s               # make chaos-short
//
// Logs of the operator replicas and the cluster are kept in .cache/chaos/<cluster>/.
package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/sparkop/spark-operator/hack/harness"
)

// options are the command-line flags.
type options struct {
	n             int
	rate          float64
	rounds        int
	replicas      int
	nodes         int
	runDuration   time.Duration
	maxCut        time.Duration
	recoveryBound time.Duration
	settleTimeout time.Duration
	slack         time.Duration
	seed          uint64
	cluster       string
	out           string
	operatorFlags string
	keepCluster   bool
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := harness.NewFlagSet("chaos", "Runs SparkApplications on a kwok cluster while faults are injected, and checks that the operator loses nothing (see the package documentation).")
	fs.IntVar(&o.n, "n", 2000, "number of SparkApplications to create")
	fs.Float64Var(&o.rate, "rate", 8, "creations per second")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of faults, each with every kind once in random order")
	fs.IntVar(&o.replicas, "replicas", 2, "operator replicas, with leader election")
	fs.IntVar(&o.nodes, "nodes", 4, "simulated nodes")
	fs.DurationVar(&o.runDuration, "run-duration", 5*time.Second, "how long kwok runs a driver that completes")
	fs.DurationVar(&o.maxCut, "max-cut", 60*time.Second, "longest cut of the operator's connections to the API server")
	fs.DurationVar(&o.recoveryBound, "recovery-bound", 90*time.Second, "give up waiting for the recovery after a fault after this long")
	fs.DurationVar(&o.settleTimeout, "settle-timeout", 4*time.Minute, "after the faults and the load, how long every application gets to settle")
	fs.DurationVar(&o.slack, "slack", 30*time.Second, "time in a non-terminal state allowed beyond what the policy and the faults explain")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (0: from the clock; the run logs it)")
	fs.StringVar(&o.cluster, "cluster", "sparkop-chaos", "name of the kwok cluster (deleted and re-created)")
	fs.StringVar(&o.out, "out", "", "Markdown file whose chaos results table gets this run's row (e.g. docs/benchmarks.md)")
	fs.StringVar(&o.operatorFlags, "operator-flags", "--kube-api-qps=200 --kube-api-burst=400", "more flags of `spark-operator controller start`, space-separated")
	fs.BoolVar(&o.keepCluster, "keep-cluster", false, "leave the kwok cluster running at the end")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.n < 20:
		return nil, errors.New("-n must be at least 20 (one of each kind of application)")
	case o.rate <= 0:
		return nil, errors.New("-rate must be positive")
	case o.rounds < 0:
		return nil, errors.New("-rounds must not be negative")
	case o.replicas < 2:
		return nil, errors.New("-replicas must be at least 2 (the leader-kill fault needs a follower)")
	case o.nodes < 2:
		return nil, errors.New("-nodes must be at least 2 (one is deleted at times)")
	case o.maxCut < 2*time.Second:
		return nil, errors.New("-max-cut must be at least 2s")
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	return o, nil
}

func main() { harness.Main("chaos", parseFlags, run) }

// logf prints a progress line.
var logf = harness.Logf("chaos")
