// Package controller_test runs the SparkApplication controller against a real kube-apiserver, etcd and
// kube-controller-manager (garbage collector), playing the kubelet by writing pod status.
package controller_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	volcanov1beta1 "volcano.sh/apis/pkg/apis/scheduling/v1beta1"

	"go.uber.org/zap/zapcore"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
)

var env *framework.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	os.Exit(framework.RunMain(m, &env, framework.WithScheme(v1beta2.AddToScheme, volcanov1beta1.AddToScheme), framework.WithControllerManager()))
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2
	}
	return 2
}

// operator is one instance of the controller, watching one namespace, for one test.
type operator struct {
	stop func() // stops the manager and waits for it; idempotent
}

// testOptions are the controller options plus what the command line would build from flags.
type testOptions struct {
	sparkapplication.Options
	// NamespaceSelector is --namespace-selector.
	NamespaceSelector string
}

// defaultOptions are the controller options of the tests: short timeouts so they run quickly.
func defaultOptions() testOptions {
	return testOptions{Options: sparkapplication.Options{
		DriverPodCreationGracePeriod: 2 * time.Second,
		ImagePullTimeout:             2 * time.Second,
		EnableUIService:              true,
		MaxConcurrentReconciles:      4,
	}}
}

// startOperator runs the controller for namespace ns until the test ends (or Stop).
func startOperator(t *testing.T, ns string, opts testOptions) *operator {
	t.Helper()
	return startOperatorFor(t, []string{ns}, opts)
}

// startOperatorFor runs the controller with a cache over the given namespaces (nil: all of them).
func startOperatorFor(t *testing.T, cacheNamespaces []string, opts testOptions) *operator {
	t.Helper()
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, cacheNamespaces, nil)
	if opts.NamespaceSelector != "" {
		var err error
		if opts.Namespaces, err = namespaces.New(mgr.GetClient(), nil, opts.NamespaceSelector); err != nil {
			t.Fatal(err)
		}
	}
	r := sparkapplication.NewReconciler(mgr.GetClient(), operatortest.Recorder(t, mgr), clock.RealClock{}, opts.Options)
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	return &operator{stop: operatortest.Start(t, mgr)}
}

// Stop stops the operator and waits for it.
func (o *operator) Stop() { o.stop() }

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
	framework.WaitFor(t, 30*time.Second, fmt.Sprintf("%s to be %q", name, state), func() (bool, string) {
		app = &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		return app.Status.AppState.State == state, fmt.Sprintf("state %q (%s), attempts %d/%d", app.Status.AppState.State,
			app.Status.AppState.ErrorMessage, app.Status.SubmissionAttempts, app.Status.ExecutionAttempts)
	})
	return app
}

// waitForStates records every state the application passes through until it reaches final, and
// returns them.
func waitForStates(t *testing.T, ns, name string, final v1beta2.ApplicationStateType) []v1beta2.ApplicationStateType {
	t.Helper()
	var seen []v1beta2.ApplicationStateType
	framework.WaitFor(t, 40*time.Second, fmt.Sprintf("%s to reach %q", name, final), func() (bool, string) {
		app := &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		st := app.Status.AppState.State
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		return st == final, fmt.Sprintf("states %v", seen)
	})
	return seen
}

func getPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
		t.Fatalf("getting pod %s: %v", name, err)
	}
	return pod
}

// waitForPod waits until a pod named name exists and returns it.
func waitForPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	framework.WaitFor(t, 20*time.Second, "pod "+name, func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		return err == nil, fmt.Sprint(err)
	})
	return pod
}

// waitForPodGone waits until the pod (of that UID, when given) no longer exists.
func waitForPodGone(t *testing.T, ns, name string) {
	t.Helper()
	framework.WaitFor(t, 20*time.Second, "pod "+name+" to be gone", func() (bool, string) {
		pod := &corev1.Pod{}
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		return false, fmt.Sprintf("pod exists (deleting: %v, finalizers %v)", pod.DeletionTimestamp != nil, pod.Finalizers)
	})
}

// kubelet plays the kubelet for one pod: it writes the phase and the Spark container's state.
type containerState struct {
	running  bool
	exitCode *int32
	waiting  string
	message  string
}

func setPodStatus(t *testing.T, ns, name string, phase corev1.PodPhase, cs containerState) {
	t.Helper()
	pod := getPod(t, ns, name)
	containerName := pod.Spec.Containers[len(pod.Spec.Containers)-1].Name
	for _, c := range pod.Spec.Containers {
		if strings.HasPrefix(c.Name, "spark-kubernetes-") {
			containerName = c.Name
		}
	}
	status := corev1.ContainerStatus{Name: containerName, Image: pod.Spec.Containers[0].Image}
	switch {
	case cs.exitCode != nil:
		status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: *cs.exitCode, Reason: map[bool]string{true: "Completed", false: "Error"}[*cs.exitCode == 0], Message: cs.message, FinishedAt: metav1.Now()}
	case cs.waiting != "":
		status.State.Waiting = &corev1.ContainerStateWaiting{Reason: cs.waiting, Message: cs.message}
	case cs.running:
		status.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Now()}
		status.Ready = true
	}
	pod.Status.Phase = phase
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{status}
	if phase == corev1.PodRunning {
		pod.Status.PodIP = "10.0.0.1"
	}
	if err := env.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatalf("setting status of pod %s: %v", name, err)
	}
}

func runDriver(t *testing.T, ns, name string) {
	t.Helper()
	setPodStatus(t, ns, name, corev1.PodRunning, containerState{running: true})
}

func finishDriver(t *testing.T, ns, name string, exitCode int32) {
	t.Helper()
	phase := corev1.PodSucceeded
	if exitCode != 0 {
		phase = corev1.PodFailed
	}
	setPodStatus(t, ns, name, phase, containerState{exitCode: &exitCode})
}

// createExecutor creates an executor pod as the Spark driver would: owned by the driver, with the
// operator's labels that Spark copies from spark.kubernetes.executor.label.*.
func createExecutor(t *testing.T, ns string, app *v1beta2.SparkApplication, driver *corev1.Pod, id int) *corev1.Pod {
	t.Helper()
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
		t.Fatalf("creating executor: %v", err)
	}
	return pod
}

// eventReasons lists the reasons of the events recorded for the application, oldest first.
func eventReasons(t *testing.T, ns, name string) []string {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list.Items, func(a, b eventsv1.Event) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "SparkApplication" {
			out = append(out, e.Reason)
		}
	}
	return out
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}

func update(t *testing.T, ns, name string, mutate func(*v1beta2.SparkApplication)) {
	t.Helper()
	for range 10 {
		app := getApp(t, ns, name)
		mutate(app)
		err := env.Client.Update(context.Background(), app)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("updating %s: %v", name, err)
		}
	}
	t.Fatalf("updating %s: too many conflicts", name)
}

func condition(app *v1beta2.SparkApplication, typ string) metav1.ConditionStatus {
	for _, c := range app.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// fmt_ describes values for a waitFor message.
func fmt_(values ...any) string { return fmt.Sprint(values...) }

// waitForEvents waits until events with all the given reasons were recorded for the application
// (events are written asynchronously, after the status).
func waitForEvents(t *testing.T, ns, name string, reasons ...string) {
	t.Helper()
	framework.WaitFor(t, 10*time.Second, fmt.Sprintf("events %v", reasons), func() (bool, string) {
		got := eventReasons(t, ns, name)
		for _, r := range reasons {
			if !slices.Contains(got, r) {
				return false, fmt_(got)
			}
		}
		return true, ""
	})
}

// exhaustedQuota creates a ResourceQuota allowing none of resource in ns, with its status filled in
// as the quota controller would (admission needs it).
func exhaustedQuota(t *testing.T, ns, name string, resource corev1.ResourceName) {
	t.Helper()
	none := corev1.ResourceList{resource: apiresource.MustParse("0")}
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ResourceQuotaSpec{Hard: none}}
	create(t, quota)
	quota.Status = corev1.ResourceQuotaStatus{Hard: none, Used: none}
	if err := env.Client.Status().Update(context.Background(), quota); err != nil {
		t.Fatal(err)
	}
}

// createOrphanDriver creates the driver pod of submission attempt attempt of app, as a controller
// that crashed (or lost its status write) right after creating it would have left it, and returns
// the submission and the pod.
func createOrphanDriver(t *testing.T, app *v1beta2.SparkApplication, attempt int32) (submission.Submission, *corev1.Pod) {
	t.Helper()
	sub := submission.NewSubmission(app.UID, sparkapplication.Revision(app), attempt, time.Now())
	res, err := submission.Render(app, sub, submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res.DriverPod.Finalizers = []string{sparkapplication.DriverFinalizer}
	create(t, res.DriverPod)
	return sub, res.DriverPod
}
