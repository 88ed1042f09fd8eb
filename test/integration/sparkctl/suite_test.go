// Package sparkctl_test runs the sparkctl commands, in process, against a real kube-apiserver, etcd
// and kube-controller-manager (garbage collector) from bin/ (internal/testing/framework), with the
// SparkApplication controller running in process for each test's namespace. The tests play the
// kubelet: they bind pods to a fake node and write pod status, and a fake kubelet
// (sparkctltest.Kubelet, an HTTPS server registered as that node) serves the container logs and
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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"go.uber.org/zap/zapcore"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/scheduledsparkapplication"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/sparkctl"
	"github.com/sparkop/spark-operator/internal/sparkctl/sparkctltest"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
)

var env *framework.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	os.Exit(framework.RunMain(m, &env, framework.WithScheme(v1beta2.AddToScheme), framework.WithControllerManager()))
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2
	}
	return 2
}

var (
	kubeletOnce sync.Once
	theKubelet  *sparkctltest.Kubelet
	kubeletErr  error
)

// kubelet returns the fake kubelet of the test binary, started (and its node registered) on first
// use; it lives as long as the control plane.
func kubelet(t *testing.T) *sparkctltest.Kubelet {
	t.Helper()
	kubeletOnce.Do(func() {
		cs, err := kubernetes.NewForConfig(env.Config)
		if err != nil {
			kubeletErr = err
			return
		}
		theKubelet, _, kubeletErr = sparkctltest.StartKubelet(context.Background(), cs, "sparkctl-test-node")
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
	opts := sparkapplication.Options{DriverPodCreationGracePeriod: 5 * time.Second, EnableUIService: true, MaxConcurrentReconciles: 2}
	recorder := operatortest.Recorder(t, mgr)
	r := sparkapplication.NewReconciler(mgr.GetClient(), recorder, clock.RealClock{}, opts)
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	sr := scheduledsparkapplication.NewReconciler(mgr.GetClient(), recorder, clock.RealClock{}, scheduledsparkapplication.Options{MaxConcurrentReconciles: 1})
	if err := sr.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	operatortest.Start(t, mgr)
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

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reading test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// background is a sparkctl command running until it ends or is stopped (follow, watch, forward).
type background struct {
	out, errOut *syncBuffer
	cancel      context.CancelFunc
	done        chan error
}

// sparkctlStart starts sparkctl in the background; it is stopped when the test ends.
func sparkctlStart(t *testing.T, ns string, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	root := sparkctl.NewRootCommand("sparkctl", genericiooptions.IOStreams{In: strings.NewReader(""), Out: b.out, ErrOut: b.errOut})
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig, "-n", ns}, args...))
	go func() { b.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() { cancel(); <-b.done })
	return b
}

// stop interrupts the command (as Ctrl-C does) and returns its error.
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

// waitFor polls cond until it holds or timeout passes (framework.WaitFor).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	framework.WaitFor(t, timeout, what, cond)
}

func getApp(t *testing.T, ns, name string) *v1beta2.SparkApplication {
	t.Helper()
	app := &v1beta2.SparkApplication{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
		t.Fatalf("getting SparkApplication %s: %v", name, err)
	}
	return app
}

// waitForState waits until the application is in state and returns it.
func waitForState(t *testing.T, ns, name string, state v1beta2.ApplicationStateType) *v1beta2.SparkApplication {
	t.Helper()
	var app *v1beta2.SparkApplication
	waitFor(t, 30*time.Second, fmt.Sprintf("%s to be %q", name, state), func() (bool, string) {
		app = &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		return app.Status.AppState.State == state, fmt.Sprintf("state %q (%s)", app.Status.AppState.State, app.Status.AppState.ErrorMessage)
	})
	return app
}

// waitForPod waits until the pod exists and returns it.
func waitForPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	waitFor(t, 20*time.Second, "pod "+name, func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		return err == nil, fmt.Sprint(err)
	})
	return pod
}

// setDriverStatus plays the kubelet for the driver pod: phase and Spark container state.
func setDriverStatus(t *testing.T, ns, name string, phase corev1.PodPhase, exitCode *int32) {
	t.Helper()
	for range 10 {
		pod := waitForPod(t, ns, name)
		status := corev1.ContainerStatus{Name: "spark-kubernetes-driver", Image: pod.Spec.Containers[0].Image}
		switch {
		case exitCode != nil:
			reason := "Completed"
			if *exitCode != 0 {
				reason = "Error"
			}
			status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: *exitCode, Reason: reason, FinishedAt: metav1.Now()}
		case phase == corev1.PodRunning:
			status.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Now()}
			status.Ready = true
		default:
			status.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		pod.Status.Phase = phase
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{status}
		pod.Status.PodIP = "10.0.0.1"
		err := env.Client.Status().Update(context.Background(), pod)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("setting the status of pod %s: %v", name, err)
		}
	}
	t.Fatalf("setting the status of pod %s: too many conflicts", name)
}

// runDriver binds the driver pod to the fake node and makes it run.
func runDriver(t *testing.T, ns, name string) {
	t.Helper()
	pod := waitForPod(t, ns, name)
	if pod.Spec.NodeName == "" {
		kubelet(t).Bind(t, ns, name)
	}
	setDriverStatus(t, ns, name, corev1.PodRunning, nil)
}

func finishDriver(t *testing.T, ns, name string, exitCode int32) {
	t.Helper()
	phase := corev1.PodSucceeded
	if exitCode != 0 {
		phase = corev1.PodFailed
	}
	setDriverStatus(t, ns, name, phase, &exitCode)
}

// createExecutor creates executor pod id of the current attempt, as the Spark driver would, and
// sets its phase.
func createExecutor(t *testing.T, ns string, app *v1beta2.SparkApplication, id int, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	driver := waitForPod(t, ns, app.Status.DriverInfo.PodName)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-exec-%d", app.Name, id), Namespace: ns,
			Labels: map[string]string{
				v1beta2.LabelAppName:                 app.Name,
				v1beta2.LabelLaunchedBySparkOperator: "true",
				v1beta2.LabelSubmissionID:            app.Status.SubmissionID,
				v1beta2.LabelSparkRole:               v1beta2.SparkRoleExecutor,
				v1beta2.LabelSparkExecID:             fmt.Sprint(id),
				v1beta2.LabelSparkAppSelector:        app.Status.SparkApplicationID,
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: driver.Name, UID: driver.UID, Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-executor", Image: "spark:3.5.3"}}},
	}
	if err := env.Client.Create(context.Background(), pod); err != nil {
		t.Fatalf("creating executor %d: %v", id, err)
	}
	kubelet(t).Bind(t, ns, pod.Name)
	pod = waitForPod(t, ns, pod.Name)
	pod.Status.Phase = phase
	if phase == corev1.PodRunning {
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-executor", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	}
	if err := env.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatalf("setting the status of executor %d: %v", id, err)
	}
	return pod
}

// writeManifest writes obj as YAML into a temporary file and returns its path.
func writeManifest(t *testing.T, obj any) string {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
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
