// Package recovery_test checks how the operator behaves when the control plane goes away: it stops
// and restarts kube-apiserver (and etcd) of its own control plane (internal/testing/framework), so
// its tests run one after the other and share no API server with other packages.
//
// The figures the tests log ("measured: ...") are those in docs/operations.md; they come from
//
//	KUBEBUILDER_ASSETS=$PWD/bin go test -count=1 -v ./test/integration/recovery/ 2>&1 | grep measured
package recovery_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"go.uber.org/zap/zapcore"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/operatorcmd"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

var env *framework.Env

func TestMain(m *testing.M) {
	level := zapcore.Level(2)
	if os.Getenv("TEST_VERBOSE") != "" {
		level = -2
	}
	if os.Getenv("TEST_KLOG_V") != "" {
		level = -10
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))
	klog.SetLogger(ctrl.Log) // as `controller start` does
	if v := os.Getenv("TEST_KLOG_V"); v != "" {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		_ = fs.Set("v", v)
	}
	os.Exit(framework.RunMain(m, &env, framework.WithScheme(v1beta2.AddToScheme), framework.WithStartTimeout(60*time.Second)))
}

// recoveryBound is what the tests assert for "seen within 5 s of the API server's return": far below
// client-go's default back-off of a refused watch (30-60 s once an outage lasts a few tens of
// seconds), with room for a slow, loaded machine. The measured figures are logged.
const recoveryBound = 15 * time.Second

// operator is one in-process operator as `controller start` wires it, for one namespace.
type operator struct {
	mgr   ctrl.Manager
	probe *operatorcmd.APIServerProbe
	stop  func()
}

func options() sparkapplication.Options {
	return sparkapplication.Options{DriverPodCreationGracePeriod: 30 * time.Second, MaxConcurrentReconciles: 4}
}

// setup adds the SparkApplication controller (with client c, or the manager's when nil) and the API
// server probe to mgr and starts it.
func setup(t *testing.T, mgr ctrl.Manager, wrap func(client.Client) client.Client) *operator {
	t.Helper()
	c := mgr.GetClient()
	if wrap != nil {
		c = wrap(c)
	}
	r := sparkapplication.NewReconciler(c, operatortest.Recorder(t, mgr), clock.RealClock{}, options())
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	probe, err := operatorcmd.AddAPIServerProbe(mgr)
	if err != nil {
		t.Fatal(err)
	}
	return &operator{mgr: mgr, probe: probe, stop: operatortest.Start(t, mgr)}
}

func startOperator(t *testing.T, ns string, customize func(*ctrl.Options)) *operator {
	t.Helper()
	return setup(t, operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, customize), nil)
}

// outage stops kube-apiserver for d, starts it again and returns when it answers /healthz.
func outage(t *testing.T, d time.Duration, during func()) {
	t.Helper()
	start := time.Now()
	if err := env.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver stopped in %s", time.Since(start).Round(time.Millisecond))
	time.Sleep(d)
	if during != nil {
		during()
	}
	restart := time.Now()
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver down %s in all (started again in %s)", time.Since(start).Round(time.Millisecond), time.Since(restart).Round(time.Millisecond))
}

// eventually retries f (a write right after the API server's return may find a resource not
// served yet) until it succeeds or the bound passes.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	framework.WaitFor(t, 30*time.Second, what, func() (bool, string) {
		err = f()
		return err == nil, fmt.Sprint(err)
	})
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	eventually(t, "creating "+obj.GetName(), func() error {
		err := env.Client.Create(context.Background(), obj)
		if err != nil && strings.Contains(err.Error(), "already exists") {
			return nil
		}
		return err
	})
}

// waitForState waits up to timeout until the application is in state, and returns how long it took.
func waitForState(t *testing.T, ns, name string, state v1beta2.ApplicationStateType, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	framework.WaitFor(t, timeout, fmt.Sprintf("%s to be %q", name, state), func() (bool, string) {
		app := &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		return app.Status.AppState.State == state, fmt.Sprintf("state %q", app.Status.AppState.State)
	})
	return time.Since(start)
}

// setDriverStatus plays the kubelet: it writes the driver pod's phase and Spark container state.
func setDriverStatus(t *testing.T, ns, name string, phase corev1.PodPhase) {
	t.Helper()
	eventually(t, "writing the status of pod "+name, func() error {
		pod := &corev1.Pod{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
			return err
		}
		cs := corev1.ContainerStatus{Name: pod.Spec.Containers[0].Name, Image: pod.Spec.Containers[0].Image}
		if phase == corev1.PodRunning {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Now()}
			cs.Ready = true
			pod.Status.PodIP = "10.0.0.1"
		} else {
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: metav1.Now()}
		}
		pod.Status.Phase = phase
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
		return env.Client.Status().Update(context.Background(), pod)
	})
}

// TestAPIServerRestart: while kube-apiserver is down the operator says it is blind (probe, gauge,
// readiness); once it is back, an application created then is submitted and a driver that finished
// then is recorded well within recoveryBound.
func TestAPIServerRestart(t *testing.T) {
	ns := env.NewNamespace(t)
	op := startOperator(t, ns, nil)
	create(t, wrappers.MakeSparkApplication("before", ns).Obj())
	waitForState(t, ns, "before", v1beta2.ApplicationStateSubmitted, 30*time.Second)
	setDriverStatus(t, ns, "before-driver", corev1.PodRunning)
	waitForState(t, ns, "before", v1beta2.ApplicationStateRunning, 30*time.Second)

	// 25 s: long enough for client-go's default back-off of the refused watches to reach 12.8-25.6 s.
	outage(t, 25*time.Second, func() {
		if op.probe.Reachable() {
			t.Error("the API server probe still reports the API server reachable during the outage")
		}
		if err := op.probe.Check(nil); err == nil {
			t.Error("the readiness check passes during the outage")
		}
		if v := gauge(t, "spark_operator_apiserver_reachable"); v != 0 {
			t.Errorf("spark_operator_apiserver_reachable = %v during the outage, want 0", v)
		}
	})
	t.Logf("measured: after kube-apiserver's return (healthz OK): %s", afterReturn(t, ns))
	framework.WaitFor(t, 10*time.Second, "the probe to see the API server again", func() (bool, string) {
		return op.probe.Reachable() && op.probe.Check(nil) == nil, "unreachable"
	})
}

// afterReturn is what the outage tests do once the control plane is back: the driver of "before"
// finishes and "after" is created; it waits until "before" is COMPLETED and "after" SUBMITTED, each
// within recoveryBound, and describes when each happened.
func afterReturn(t *testing.T, ns string) string {
	t.Helper()
	back := time.Now()
	setDriverStatus(t, ns, "before-driver", corev1.PodSucceeded)
	written := time.Since(back)
	create(t, wrappers.MakeSparkApplication("after", ns).Obj())
	created := time.Since(back)
	reached := map[string]time.Duration{}
	want := map[string]v1beta2.ApplicationStateType{"before": v1beta2.ApplicationStateCompleted, "after": v1beta2.ApplicationStateSubmitted}
	framework.WaitFor(t, recoveryBound, "before COMPLETED and after SUBMITTED", func() (bool, string) {
		for name, state := range want {
			app := &v1beta2.SparkApplication{}
			if _, ok := reached[name]; !ok && env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app) == nil && app.Status.AppState.State == state {
				reached[name] = time.Since(back)
			}
		}
		return len(reached) == len(want), fmt.Sprint(reached)
	})
	ms := func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
	return fmt.Sprintf("driver status written at %s, application created at %s; finished driver recorded (COMPLETED) at %s, new application SUBMITTED at %s",
		ms(written), ms(created), ms(reached["before"]), ms(reached["after"]))
}

// TestEtcdRestart: the same with etcd stopped and started again under a running kube-apiserver.
func TestEtcdRestart(t *testing.T) {
	ns := env.NewNamespace(t)
	op := startOperator(t, ns, nil)
	create(t, wrappers.MakeSparkApplication("before", ns).Obj())
	waitForState(t, ns, "before", v1beta2.ApplicationStateSubmitted, 30*time.Second)
	setDriverStatus(t, ns, "before-driver", corev1.PodRunning)
	waitForState(t, ns, "before", v1beta2.ApplicationStateRunning, 30*time.Second)

	if err := env.StopEtcd(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Second)
	if op.probe.Reachable() {
		t.Error("the API server probe reports the API server ready while etcd is down")
	}
	if err := env.StartEtcd(); err != nil {
		t.Fatal(err)
	}
	t.Logf("measured: after etcd's return: %s", afterReturn(t, ns))
}

// TestLeaderKeepsLeaseThroughShortOutage: with leader election on, an outage shorter than the renew
// deadline does not cost the leadership (the manager does not stop, which in `controller start`
// would end the process); stopping the manager releases the Lease.
func TestLeaderKeepsLeaseThroughShortOutage(t *testing.T) {
	ns := env.NewNamespace(t)
	// A renew deadline long enough that the outage below, kube-apiserver's restart included, stays
	// within it on a loaded machine; the defaults (15 s lease, 10 s renew deadline) behave the same
	// for outages under 10 s.
	op := startOperator(t, ns, func(o *ctrl.Options) {
		o.LeaderElection = true
		o.LeaderElectionID = "spark-operator-lock"
		o.LeaderElectionNamespace = ns
		o.LeaderElectionReleaseOnCancel = true
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = ptr.To(90*time.Second), ptr.To(60*time.Second), ptr.To(2*time.Second)
	})
	lease := func() *coordinationv1.Lease { return lease(ns) }
	holder := waitForHolder(t, ns)
	outage(t, 5*time.Second, nil)
	create(t, wrappers.MakeSparkApplication("after", ns).Obj())
	took := waitForState(t, ns, "after", v1beta2.ApplicationStateSubmitted, recoveryBound)
	t.Logf("measured: leader kept the Lease through the outage; new application SUBMITTED %s after creation", took.Round(10*time.Millisecond))
	if l := lease(); l == nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
		t.Fatalf("Lease after the outage: %+v, want still held by %s", l, holder)
	}
	op.stop() // a manager error (leader election lost) fails the test in operatortest.Start
	if l := lease(); l == nil || (l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "") {
		t.Errorf("Lease not released on exit: %+v", l)
	}
}

// lease is the operator's leader election Lease in ns, or nil.
func lease(ns string) *coordinationv1.Lease {
	l := &coordinationv1.Lease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spark-operator-lock"}, l); err != nil {
		return nil
	}
	return l
}

// waitForHolder waits until the Lease in ns has a holder and returns its identity.
func waitForHolder(t *testing.T, ns string) string {
	t.Helper()
	var holder string
	framework.WaitFor(t, 60*time.Second, "the operator to hold the Lease", func() (bool, string) {
		l := lease(ns)
		if l == nil || l.Spec.HolderIdentity == nil {
			return false, "no holder"
		}
		holder = *l.Spec.HolderIdentity
		return holder != "", holder
	})
	return holder
}

// TestStartWhileAPIServerDown: started while kube-apiserver is down, the operator waits (answering
// /healthz, failing /readyz) and starts once it is back, instead of exiting.
func TestStartWhileAPIServerDown(t *testing.T) {
	ns := env.NewNamespace(t)
	healthAddr := freeAddr(t)
	if err := env.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	type result struct {
		mgr ctrl.Manager
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		mgr, err := operatorcmd.NewManagerWhenReachable(ctx, ctrl.Log.WithName("setup"), env.Config, healthAddr,
			operatortest.ManagerOptions(env.Scheme, []string{ns}, nil))
		done <- result{mgr, err}
	}()
	time.Sleep(5 * time.Second)
	select {
	case r := <-done:
		t.Fatalf("NewManagerWhenReachable returned while kube-apiserver was down: %v", r.err)
	default:
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable} {
		resp, err := http.Get("http://" + healthAddr + path)
		if err != nil {
			// The interim probe server closes for each attempt; one more try.
			time.Sleep(200 * time.Millisecond)
			resp, err = http.Get("http://" + healthAddr + path)
		}
		if err != nil {
			t.Errorf("%s while waiting: %v", path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s while waiting: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("NewManagerWhenReachable did not return within 30 s of kube-apiserver's return")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	setup(t, r.mgr, nil)
	create(t, wrappers.MakeSparkApplication("pi", ns).Obj())
	waitForState(t, ns, "pi", v1beta2.ApplicationStateSubmitted, recoveryBound)
	t.Logf("measured: started while kube-apiserver was down; application SUBMITTED %s after kube-apiserver's return", time.Since(back).Round(10*time.Millisecond))
}

// TestReconcilePanic: a reconcile that panics is recovered (the manager keeps running), counted in
// controller_runtime_reconcile_panics_total and reported on the application with an event; the
// application is retried and goes on.
func TestReconcilePanic(t *testing.T) {
	ns := env.NewNamespace(t)
	before := panics(t)
	var panicked atomic.Bool
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	setup(t, mgr, func(c client.Client) client.Client {
		return interceptor.NewClient(noWatch{c}, interceptor.Funcs{
			// The first driver pod's creation (status writes do not go through this client).
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if _, ok := obj.(*corev1.Pod); ok && panicked.CompareAndSwap(false, true) {
					panic("injected by TestReconcilePanic")
				}
				return c.Create(ctx, obj, opts...)
			},
		})
	})
	create(t, wrappers.MakeSparkApplication("pi", ns).Obj())
	waitForState(t, ns, "pi", v1beta2.ApplicationStateSubmitted, 30*time.Second)
	if after := panics(t); after < before+1 {
		t.Errorf("controller_runtime_reconcile_panics_total went from %v to %v, want +1", before, after)
	}
	framework.WaitFor(t, 10*time.Second, "the "+sparkapplication.ReasonReconcilePanic+" event", func() (bool, string) {
		list := &eventsv1.EventList{}
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.Name == "pi" && e.Reason == sparkapplication.ReasonReconcilePanic && e.Type == corev1.EventTypeWarning &&
				strings.Contains(e.Note, "injected by TestReconcilePanic") {
				return true, ""
			}
			reasons = append(reasons, e.Reason)
		}
		return false, fmt.Sprint(reasons)
	})
}

// noWatch makes the manager's client a client.WithWatch for interceptor.NewClient; the reconciler
// never watches through its client.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, fmt.Errorf("not supported")
}

// panics reads controller_runtime_reconcile_panics_total{controller="sparkapplication"}.
func panics(t *testing.T) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_panics_total" {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "controller" && l.GetValue() == "sparkapplication" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// gauge reads a gauge without labels from controller-runtime's registry.
func gauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.Metric) == 1 {
			return f.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
