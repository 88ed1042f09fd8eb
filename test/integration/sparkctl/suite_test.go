// Package sparkctl_test runs the sparkctl commands, in process, against a real kube-apiserver, etcd
// and kube-controller-manager (garbage collector) from bin/ (internal/testing/framework), with the
// SparkApplication controller running in process for each test's namespace. The tests play the
// kubelet: they bind pods to a fake node and write pod status, and a fake kubelet
// (fakekubelet.Kubelet, an HTTPS server registered as that node) serves the container logs and
// port forwards that the API server asks it for, so `sparkctl log` and `sparkctl forward` take the
// same path through the API server as against a real cluster.
//
// The upload tests start an S3-compatible server in the test process: gofakes3 (Go module
// github.com/johannesboyne/gofakes3, fetched by `go mod download` from the module proxy like any
// other dependency) with its in-memory backend, on a free 127.0.0.1 port (sparkctltest.StartS3).
// Interrupted uploads go through sparkctltest.CuttingProxy, a TCP proxy that resets connections in
// the middle of a request body.
//
// Run: KUBEBUILDER_ASSETS=$PWD/bin go test ./test/integration/sparkctl/
package sparkctl_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/scheduledsparkapplication"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/sparkctl"
	"github.com/sparkop/spark-operator/internal/testing/fakekubelet"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme), framework.WithControllerManager())
}

var (
	kubeletOnce sync.Once
	theKubelet  *fakekubelet.Kubelet
	kubeletErr  error
)

// kubelet returns the fake kubelet of the test binary, started (and its node registered) on first
// use; it lives as long as the control plane.
func kubelet(t *testing.T) *fakekubelet.Kubelet {
	t.Helper()
	kubeletOnce.Do(func() {
		cs, err := kubernetes.NewForConfig(env.Config)
		if err != nil {
			kubeletErr = err
			return
		}
		theKubelet, _, kubeletErr = fakekubelet.StartKubelet(context.Background(), cs, "sparkctl-test-node")
	})
	if kubeletErr != nil {
		t.Fatalf("starting the fake kubelet: %v", kubeletErr)
	}
	return theKubelet
}

// startOperator runs the SparkApplication and ScheduledSparkApplication controllers for namespace ns
// until the test ends.
func startOperator(t *testing.T, ns string) {
	t.Helper()
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{
		SparkApplication:          &sparkapplication.Options{DriverPodCreationGracePeriod: 5 * time.Second, EnableUIService: true, MaxConcurrentReconciles: 2},
		ScheduledSparkApplication: &scheduledsparkapplication.Options{MaxConcurrentReconciles: 1},
	})
}

// result is the outcome of one sparkctl run.
type result struct {
	out, errOut string
	err         error
}

// sparkctlRun runs sparkctl in process with the test's kubeconfig and namespace, and stdin.
func sparkctlRun(t *testing.T, ns, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	root := sparkctl.NewRootCommand("sparkctl", genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	full := args
	if ns != "" {
		full = append([]string{"--kubeconfig", env.Kubeconfig}, append(args, "-n", ns)...)
	}
	root.SetArgs(full)
	err := root.ExecuteContext(ctx)
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

// sparkctlOK runs sparkctl and fails the test when it fails; it returns standard output.
func sparkctlOK(t *testing.T, ns string, args ...string) string {
	t.Helper()
	r := sparkctlRun(t, ns, "", args...)
	if r.err != nil {
		t.Fatalf("sparkctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.out, r.errOut)
	}
	logSession(t, args, r)
	return r.out
}

// logSession prints a command and its output as in a terminal (go test -v shows it; the docs'
// session comes from here).
func logSession(t *testing.T, args []string, r result) {
	t.Helper()
	errLine := ""
	if r.err != nil {
		errLine = "error: " + r.err.Error() + "\n"
	}
	t.Logf("$ sparkctl %s\n%s%s%s", strings.Join(args, " "), r.errOut, r.out, errLine)
}

// background is a sparkctl command running until it ends or is stopped (follow, watch, forward).
type background struct {
	out, errOut *util.SyncBuffer
	cancel      context.CancelFunc
	done        chan error
}

// sparkctlStart starts sparkctl in the background; it is stopped when the test ends.
func sparkctlStart(t *testing.T, ns string, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{out: &util.SyncBuffer{}, errOut: &util.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	root := sparkctl.NewRootCommand("sparkctl", genericiooptions.IOStreams{In: strings.NewReader(""), Out: b.out, ErrOut: b.errOut})
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig, "-n", ns}, args...))
	go func() { b.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() { cancel(); <-b.done }) //nolint:errcheck // the command's error after cancel does not matter
	return b
}

// stop interrupts the command (as Ctrl-C does) and returns its error.
// waitEnd waits up to 10 s for the command (what, e.g. "log --follow") to end by itself, with the
// driver's log, and fails the test when it does not or ends with an error.
func (b *background) waitEnd(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-b.done:
		b.done <- err
		if err != nil {
			t.Errorf("%s ended with %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not end with the driver's log", what)
	}
}

func (b *background) stop(t *testing.T) error {
	t.Helper()
	b.cancel()
	select {
	case err := <-b.done:
		b.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not stop after being interrupted")
		return nil
	}
}

// runDriver binds the driver pod to the fake node and makes it run.
func runDriver(t *testing.T, ns, name string) {
	t.Helper()
	if pod := util.WaitForPod(t, env.Client, ns, name); pod.Spec.NodeName == "" {
		kubelet(t).Bind(t, ns, name)
	}
	util.RunDriver(t, env.Client, ns, name)
}

// createExecutor creates executor pod id of the current attempt, as the Spark driver would, binds
// it to the fake node and sets its phase.
func createExecutor(t *testing.T, ns string, app *v1beta2.SparkApplication, id int, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	driver := util.WaitForPod(t, env.Client, ns, app.Status.DriverInfo.PodName)
	pod := util.CreateExecutor(t, env.Client, app, driver, id)
	kubelet(t).Bind(t, ns, pod.Name)
	cs := util.ContainerState{}
	if phase == corev1.PodRunning {
		cs = util.Running
	}
	util.SetPodStatus(t, env.Client, ns, pod.Name, phase, cs)
	return util.GetPod(t, env.Client, ns, pod.Name)
}

// writeManifest writes obj as YAML into a temporary file and returns its path.
func writeManifest(t *testing.T, obj any) string {
	t.Helper()
	return util.WriteYAML(t, "app.yaml", obj)
}

// manifestYAML is the YAML of obj without status and server fields.
func manifestYAML(t *testing.T, obj any) string {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mustContain fails when s lacks any of want.
func mustContain(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}
