package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/cluster"
)

// faultKind is a kind of fault the run injects.
type faultKind string

const (
	faultOperatorKill faultKind = "operator-kill"     // both replicas SIGKILLed and started again at once
	faultLeaderKill   faultKind = "leader-kill"       // the leader SIGKILLed; started again after the failover
	faultAPIServer    faultKind = "apiserver-restart" // kube-apiserver SIGKILLed, down 2-10 s, started again
	faultEtcd         faultKind = "etcd-restart"      // etcd SIGKILLed, down 2-10 s, started again
	faultCut          faultKind = "connection-cut"    // the operator's connections to the API server cut, held down
	faultDriverDelete faultKind = "driver-delete"     // a few running driver pods deleted
	faultNodeDelete   faultKind = "node-delete"       // a node with running drivers deleted (then recreated)
)

// faultKinds are all kinds, in the order of the report.
var faultKinds = []faultKind{faultOperatorKill, faultLeaderKill, faultAPIServer, faultEtcd, faultCut, faultDriverDelete, faultNodeDelete}

// fault is one injected fault: from start to end it was active (end: the component was started
// again, the connections allowed again, the pod or node deleted); recovered is when the operator
// was seen acting again (see recover), zero if not within the bound.
type fault struct {
	kind       faultKind
	start, end time.Time
	detail     string
	recovered  time.Time
	// acting is the first state change of any application the run saw after the end: the operator
	// acting again (filled in after the run).
	acting time.Time
	exits  int // operator replicas that exited on their own from start to recovery
	err    error
}

// recovery is the time from the end of the fault to the operator acting again.
func (f *fault) recovery() (time.Duration, bool) {
	if f.recovered.IsZero() {
		return 0, false
	}
	return max(0, f.recovered.Sub(f.end)), true
}

// injector injects faults one at a time and measures the recovery after each.
type injector struct {
	o   *options
	cl  *cluster.Cluster
	cp  *controlPlane
	cs  kubernetes.Interface
	sup *supervisor
	px  *proxy
	tr  *tracker
	rng *rand.Rand
	// canary creates an application and returns its key (kindCanary), to time the recovery from
	// faults of the cluster and the operator: SUBMITTED seen = recovered.
	canary func(ctx context.Context) (string, error)
	faults []*fault
}

// plan is the order of faults: rounds of every kind, each round shuffled.
func (in *injector) plan(rounds int) []faultKind {
	var kinds []faultKind
	for range rounds {
		round := append([]faultKind(nil), faultKinds...)
		in.rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		kinds = append(kinds, round...)
	}
	return kinds
}

// run injects the planned faults, with a random pause of 1-4 s after each recovery, until done or
// ctx ends.
func (in *injector) run(ctx context.Context, kinds []faultKind) {
	for _, k := range kinds {
		if ctx.Err() != nil {
			return
		}
		f := in.inject(ctx, k)
		in.faults = append(in.faults, f)
		if f.err != nil {
			logf("fault %s: %v", k, f.err)
		} else if d, ok := f.recovery(); ok {
			logf("fault %s (%s): recovered %.1fs after it ended", k, f.detail, d.Seconds())
		} else {
			logf("fault %s (%s): no recovery seen within %s", k, f.detail, in.o.recoveryBound)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second + time.Duration(in.rng.Int64N(int64(3*time.Second)))):
		}
	}
}

func (in *injector) inject(ctx context.Context, k faultKind) *fault {
	f := &fault{kind: k, start: time.Now()}
	var affected []string // applications whose next state change marks the recovery
	switch k {
	case faultOperatorKill:
		var pids []int
		for i := range in.o.replicas {
			pid, err := in.sup.kill(i, true)
			if err != nil {
				f.err = err
			}
			pids = append(pids, pid)
		}
		f.detail = fmt.Sprintf("pids %v", pids)
	case faultLeaderKill:
		l := in.sup.leader()
		if l < 0 {
			f.err = fmt.Errorf("no leader to kill")
			break
		}
		pid, _ := in.sup.kill(l, false)
		f.detail = fmt.Sprintf("replica %d, pid %d", l, pid)
		f.end = time.Now()
		f.recovered = in.waitCanary(ctx, f.end)
		// The killed replica comes back as a follower.
		in.sup.mu.Lock()
		f.err = in.sup.start(l)
		in.sup.mu.Unlock()
		f.exits = in.sup.exitsBetween(f.start, time.Now())
		return f
	case faultAPIServer, faultEtcd:
		name := "kube-apiserver"
		if k == faultEtcd {
			name = "etcd"
		}
		down := 2*time.Second + time.Duration(in.rng.Int64N(int64(8*time.Second)))
		f.detail = fmt.Sprintf("down %.0fs", down.Seconds())
		if err := in.cp.restart(ctx, name, down); err != nil {
			f.err = err
			break
		}
		// The end: the API server answers /readyz again (with etcd down it does not).
		f.err = untilDone(ctx, 3*time.Minute, never, func(ctx context.Context) error {
			return in.cs.CoreV1().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
		})
	case faultCut:
		d := time.Duration(in.rng.Int64N(int64(in.o.maxCut-time.Second))) + time.Second
		f.detail = fmt.Sprintf("down %.0fs", d.Seconds())
		in.px.cut(d)
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	case faultDriverDelete:
		pods, err := in.runningDrivers(ctx, "")
		if err != nil {
			f.err = err
			break
		}
		in.rng.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
		for _, p := range pods[:min(3, len(pods))] {
			key := p.Namespace + "/" + p.Labels[v1beta2.LabelAppName]
			in.tr.disrupt(key)
			if err := in.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				f.err = err
			}
			affected = append(affected, key)
		}
		f.detail = fmt.Sprintf("%d driver pods", len(affected))
	case faultNodeDelete:
		nodes, err := in.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) == 0 {
			f.err = fmt.Errorf("listing nodes: %v (%d)", err, len(nodes.Items))
			break
		}
		node := nodes.Items[in.rng.IntN(len(nodes.Items))].Name
		// Rather a node with running drivers, when there is one.
		if pods, err := in.runningDrivers(ctx, ""); err == nil && len(pods) > 0 {
			node = pods[in.rng.IntN(len(pods))].Spec.NodeName
		}
		affected = in.tr.onNode(node)
		for _, key := range affected {
			in.tr.disrupt(key)
		}
		if err := in.cs.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{}); err != nil {
			f.err = err
			break
		}
		f.detail = fmt.Sprintf("%s with %d running drivers", node, len(affected))
		// kwok recreates the missing node.
		if err := in.cl.Command(ctx, in.cl.Bin("kwokctl"), "scale", "node", "--name", in.cl.Name, "--replicas", strconv.Itoa(in.o.nodes)); err != nil {
			f.err = err
		}
	}
	if f.end.IsZero() {
		f.end = time.Now()
	}
	if f.err == nil {
		if len(affected) > 0 {
			f.recovered = in.waitChange(ctx, f.end, affected)
		} else {
			f.recovered = in.waitCanary(ctx, f.end)
		}
	}
	f.exits = in.sup.exitsBetween(f.start, time.Now())
	return f
}

// waitCanary creates a canary application and waits until the operator has submitted it
// (SUBMITTED or later seen), returning when, or zero after recoveryBound.
func (in *injector) waitCanary(ctx context.Context, since time.Time) time.Time {
	key, err := in.canary(ctx)
	if err != nil {
		logf("canary: %v", err)
		return time.Time{}
	}
	deadline := time.Now().Add(in.o.recoveryBound)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if t := in.tr.reached(key, since, v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateRunning,
			v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed,
			v1beta2.ApplicationStateFailing, v1beta2.ApplicationStateFailedSubmission); !t.IsZero() {
			return t
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Time{}
}

// waitChange waits until one of the applications changes state after since.
func (in *injector) waitChange(ctx context.Context, since time.Time, keys []string) time.Time {
	deadline := time.Now().Add(in.o.recoveryBound)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if t := in.tr.changedAfter(since, keys...); !t.IsZero() {
			return t
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Time{}
}

// runningDrivers lists the Running driver pods (on node, when given).
func (in *injector) runningDrivers(ctx context.Context, node string) ([]corev1.Pod, error) {
	opts := metav1.ListOptions{LabelSelector: v1beta2.LabelSparkRole + "=" + v1beta2.SparkRoleDriver, FieldSelector: "status.phase=Running"}
	if node != "" {
		opts.FieldSelector += ",spec.nodeName=" + node
	}
	list, err := in.cs.CoreV1().Pods("").List(ctx, opts)
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}
