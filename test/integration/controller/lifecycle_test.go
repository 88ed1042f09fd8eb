package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestHappyPath follows an application from creation to COMPLETED: driver pod, owned objects, UI
// Service, executor tracking, events, conditions, and clean-up of what belongs to the attempt.
func TestHappyPath(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("pi", ns).Obj())

	app := util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateSubmitted)
	if app.Status.SubmissionAttempts != 1 || app.Status.ExecutionAttempts != 1 || app.Status.SubmissionID == "" ||
		!strings.HasPrefix(app.Status.SparkApplicationID, "spark-") || app.Status.DriverInfo.PodName != "pi-driver" {
		t.Errorf("status after submission: %+v", app.Status)
	}
	driver := util.GetPod(t, env.Client, ns, "pi-driver")
	if !slices.Contains(driver.Finalizers, sparkapplication.DriverFinalizer) {
		t.Errorf("driver pod has no %s finalizer", sparkapplication.DriverFinalizer)
	}
	if driver.Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID || driver.Labels[v1beta2.LabelLaunchedBySparkOperator] != "true" {
		t.Errorf("driver labels = %v", driver.Labels)
	}
	for _, list := range []client.ObjectList{&corev1.ConfigMapList{}, &corev1.ServiceList{}} {
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelSubmissionID: app.Status.SubmissionID}); err != nil {
			t.Fatal(err)
		}
	}
	cms := &corev1.ConfigMapList{}
	_ = env.Client.List(context.Background(), cms, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelAppName: "pi"})
	if len(cms.Items) != 1 {
		t.Errorf("want the one ConfigMap holding spark.properties and the executor template, got %d", len(cms.Items))
	}
	for _, cm := range cms.Items {
		if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != driver.UID {
			t.Errorf("ConfigMap %s is not owned by the driver pod: %+v", cm.Name, cm.OwnerReferences)
		}
	}

	util.RunDriver(t, env.Client, ns, "pi-driver")
	app = util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateRunning)
	framework.WaitFor(t, 10*time.Second, "the UI service in driverInfo", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "pi")
		return app.Status.DriverInfo.WebUIServiceName == "pi-ui-svc" && app.Status.DriverInfo.WebUIAddress != "", app.Status.DriverInfo.WebUIServiceName
	})
	if app.Status.DriverInfo.WebUIPort != 4040 || util.Condition(app, v1beta2.ConditionRunning) != metav1.ConditionTrue {
		t.Errorf("running status: %+v", app.Status)
	}

	// The driver creates two executors; one runs, one is pending.
	app = util.GetApp(t, env.Client, ns, "pi")
	util.CreateExecutor(t, env.Client, app, driver, 1)
	util.CreateExecutor(t, env.Client, app, driver, 2)
	util.SetPodStatus(t, env.Client, ns, "pi-exec-1", corev1.PodRunning, util.Running)
	framework.WaitFor(t, 10*time.Second, "executor states", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "pi")
		st := app.Status.ExecutorState
		return st["pi-exec-1"] == v1beta2.ExecutorStateRunning && st["pi-exec-2"] == v1beta2.ExecutorStatePending, fmt.Sprint(st)
	})

	// Another controller's finalizer, added after ours, must survive the release of ours.
	const otherFinalizer = "example.com/keep"
	patchFinalizers := func(patch string) {
		t.Helper()
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: ns}}
		if err := env.Client.Patch(context.Background(), pod, client.RawPatch(types.StrategicMergePatchType, []byte(patch))); err != nil {
			t.Fatal(err)
		}
	}
	patchFinalizers(`{"metadata":{"finalizers":["` + otherFinalizer + `"]}}`)
	defer patchFinalizers(`{"metadata":{"$deleteFromPrimitiveList/finalizers":["` + otherFinalizer + `"]}}`)

	util.FinishDriver(t, env.Client, ns, "pi-driver", 0)
	app = util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateCompleted)
	if app.Status.TerminationTime.IsZero() || util.Condition(app, v1beta2.ConditionSucceeded) != metav1.ConditionTrue ||
		util.Condition(app, v1beta2.ConditionRunning) != metav1.ConditionFalse || app.Status.ObservedGeneration != app.Generation {
		t.Errorf("completed status: %+v", app.Status)
	}
	framework.WaitFor(t, 10*time.Second, "the driver finalizer to be released and the UI Service deleted", func() (bool, string) {
		pod := util.GetPod(t, env.Client, ns, "pi-driver")
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pi-ui-svc"}, &corev1.Service{})
		return slices.Equal(pod.Finalizers, []string{otherFinalizer}) && apierrors.IsNotFound(err), fmt.Sprint(pod.Finalizers, err)
	})
	// The release's UID precondition: a patch naming another UID is refused (422 on metadata.uid),
	// which the operator reads as "the pod was replaced, nothing to release".
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: ns}}
	err := env.Client.Patch(context.Background(), pod, client.RawPatch(types.StrategicMergePatchType,
		[]byte(`{"metadata":{"uid":"00000000-0000-0000-0000-000000000000","$deleteFromPrimitiveList/finalizers":["`+otherFinalizer+`"]}}`)))
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.uid") {
		t.Errorf("finalizer patch with another pod's UID: %v, want 422 on metadata.uid", err)
	}
	util.WaitForEvents(t, env.Client, ns, "pi", sparkapplication.ReasonSubmitted, sparkapplication.ReasonDriverRunning,
		sparkapplication.ReasonDriverCompleted)
}

// TestFailureWithoutRetries: a driver that exits non-zero fails a Never application, with the exit
// code in the error message.
func TestFailureWithoutRetries(t *testing.T) {
	ns := parallelWithOperator(t)
	util.CreateRunning(t, env.Client, wrappers.MakeSparkApplication("fail", ns).Obj())
	util.FinishDriver(t, env.Client, ns, "fail-driver", 1)
	app := util.WaitForState(t, env.Client, ns, "fail", v1beta2.ApplicationStateFailed)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "driver container failed with ExitCode: 1, Reason: Error") || app.Status.ExecutionAttempts != 1 ||
		util.Condition(app, v1beta2.ConditionFailed) != metav1.ConditionTrue {
		t.Errorf("failed status: %+v", app.Status)
	}
}

// TestFailureWithRetries: OnFailure with one retry runs the application twice, then fails it; the
// second attempt has a new submission id and waits for the first driver to be gone.
func TestFailureWithRetries(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("retry", ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 1).Obj())
	first := util.WaitForState(t, env.Client, ns, "retry", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "retry-driver")
	util.FinishDriver(t, env.Client, ns, "retry-driver", 1)

	var second *v1beta2.SparkApplication
	framework.WaitFor(t, 30*time.Second, "the second attempt", func() (bool, string) {
		second = util.GetApp(t, env.Client, ns, "retry")
		return second.Status.ExecutionAttempts == 2 && second.Status.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(second.Status.AppState, second.Status.ExecutionAttempts)
	})
	if second.Status.SubmissionID == first.Status.SubmissionID || second.Status.SubmissionAttempts != 2 {
		t.Errorf("second attempt reuses the first's identity: %+v", second.Status)
	}
	pod := util.WaitForPod(t, env.Client, ns, "retry-driver")
	if pod.Labels[v1beta2.LabelSubmissionID] != second.Status.SubmissionID {
		t.Errorf("driver pod belongs to submission %s, want %s", pod.Labels[v1beta2.LabelSubmissionID], second.Status.SubmissionID)
	}
	util.RunDriver(t, env.Client, ns, "retry-driver")
	util.FinishDriver(t, env.Client, ns, "retry-driver", 2)
	app := util.WaitForState(t, env.Client, ns, "retry", v1beta2.ApplicationStateFailed)
	if app.Status.ExecutionAttempts != 2 || !strings.Contains(app.Status.AppState.ErrorMessage, "driver container failed with ExitCode: 2") {
		t.Errorf("final status: %+v", app.Status)
	}
}

// TestSubmissionFailureRetries: an application the submitter refuses (a local main file) is retried as
// onSubmissionFailureRetries says, then FAILED with the reason; fixing the spec resubmits it.
func TestSubmissionFailureRetries(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("bad", ns).MainApplicationFile("/opt/app.jar").RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(2, 1).Obj())
	states := util.WaitForStates(t, env.Client, ns, "bad", v1beta2.ApplicationStateFailed)
	app := util.GetApp(t, env.Client, ns, "bad")
	if app.Status.SubmissionAttempts != 3 || app.Status.ExecutionAttempts != 0 ||
		!strings.Contains(app.Status.AppState.ErrorMessage, "spec.mainApplicationFile") {
		t.Errorf("status after exhausted submission retries: %+v (states %v)", app.Status, states)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "bad-driver"}, &corev1.Pod{}); !apierrors.IsNotFound(err) {
		t.Errorf("a driver pod exists for a refused submission: %v", err)
	}
	util.UpdateApp(t, env.Client, ns, "bad", func(a *v1beta2.SparkApplication) { a.Spec.MainApplicationFile = ptr.To(wrappers.DefaultMainFile) })
	app = util.WaitForState(t, env.Client, ns, "bad", v1beta2.ApplicationStateSubmitted)
	if app.Status.SubmissionAttempts != 1 {
		t.Errorf("after the fix: %+v", app.Status)
	}
}

// TestQuotaRefusal: the API server refusing the driver pod (an exhausted ResourceQuota) is a submission
// failure whose message names the quota.
func TestQuotaRefusal(t *testing.T) {
	ns := env.ParallelNamespace(t)
	exhaustedQuota(t, ns, "no-pods", corev1.ResourcePods)
	startOperator(t, ns, defaultOptions())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("quota", ns).Obj())
	app := util.WaitForState(t, env.Client, ns, "quota", v1beta2.ApplicationStateFailed)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "no-pods") || !strings.Contains(app.Status.AppState.ErrorMessage, "exceeded quota") {
		t.Errorf("error message does not name the quota: %q", app.Status.AppState.ErrorMessage)
	}
	util.WaitForEvents(t, env.Client, ns, "quota", sparkapplication.ReasonSubmissionFailed)
}

// TestRuntimeBadInput: a driver whose image name is invalid, or whose secret is missing, ends the
// attempt as SUBMISSION_FAILED with the kubelet's reason and what to fix.
func TestRuntimeBadInput(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ reason, message, want string }{
		"missing-secret": {"CreateContainerConfigError", `secret "db-password" not found`, `secret "db-password" not found`},
		"bad-image":      {"InvalidImageName", `invalid reference format`, "spec.image"},
		"pull-fails":     {"ImagePullBackOff", `Back-off pulling image "nope:1"`, "imagePullSecrets"},
	}
	ns := env.NewNamespace(t)
	startOperator(t, ns, defaultOptions())
	for name, tc := range cases {
		util.Create(t, env.Client, wrappers.MakeSparkApplication(name, ns).Obj())
		util.WaitForPod(t, env.Client, ns, name+"-driver")
		util.SetPodStatus(t, env.Client, ns, name+"-driver", corev1.PodPending, util.ContainerState{Waiting: tc.reason, Message: tc.message})
	}
	for name, tc := range cases {
		app := util.WaitForState(t, env.Client, ns, name, v1beta2.ApplicationStateFailed)
		if !strings.Contains(app.Status.AppState.ErrorMessage, tc.reason) || !strings.Contains(app.Status.AppState.ErrorMessage, tc.want) {
			t.Errorf("%s: error message %q does not explain %s", name, app.Status.AppState.ErrorMessage, tc.want)
		}
		util.WaitForPodGone(t, env.Client, ns, name+"-driver")
	}
}

// TestAlways: restartPolicy Always submits again after success.
func TestAlways(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("always", ns).RestartPolicy(v1beta2.RestartPolicyAlways).Obj())
	util.WaitForState(t, env.Client, ns, "always", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "always-driver")
	util.FinishDriver(t, env.Client, ns, "always-driver", 0)
	framework.WaitFor(t, 30*time.Second, "a second run", func() (bool, string) {
		app := util.GetApp(t, env.Client, ns, "always")
		return app.Status.ExecutionAttempts == 2 && app.Status.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(app.Status.AppState, app.Status.ExecutionAttempts)
	})
}

// TestSpecChange: changing the spec of a running application stops the attempt and submits it again
// with the new spec and fresh attempt counters; changing only suspend-unrelated fields such as
// timeToLiveSeconds does not restart it.
func TestSpecChange(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("edit", ns).Obj())
	first := util.WaitForState(t, env.Client, ns, "edit", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "edit-driver")
	util.WaitForState(t, env.Client, ns, "edit", v1beta2.ApplicationStateRunning)

	util.UpdateApp(t, env.Client, ns, "edit", func(a *v1beta2.SparkApplication) { a.Spec.TimeToLiveSeconds = ptr.To[int64](3600) })
	time.Sleep(2 * time.Second)
	if app := util.GetApp(t, env.Client, ns, "edit"); app.Status.AppState.State != v1beta2.ApplicationStateRunning || app.Status.SubmissionID != first.Status.SubmissionID {
		t.Fatalf("a timeToLiveSeconds change restarted the application: %+v", app.Status.AppState)
	}

	util.UpdateApp(t, env.Client, ns, "edit", func(a *v1beta2.SparkApplication) { a.Spec.Driver.Memory = ptr.To("2g") })
	var app *v1beta2.SparkApplication
	framework.WaitFor(t, 30*time.Second, "resubmission with the new spec", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "edit")
		return app.Status.SubmissionID != first.Status.SubmissionID && app.Status.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(app.Status.AppState)
	})
	if app.Status.SubmissionAttempts != 1 || app.Status.ExecutionAttempts != 1 {
		t.Errorf("attempts not reset: %+v", app.Status)
	}
	pod := util.WaitForPod(t, env.Client, ns, "edit-driver")
	if pod.Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID {
		t.Fatalf("driver pod is from submission %s", pod.Labels[v1beta2.LabelSubmissionID])
	}
	mem := pod.Spec.Containers[len(pod.Spec.Containers)-1].Resources.Requests[corev1.ResourceMemory]
	if mem.String() != "2432Mi" {
		t.Errorf("new driver memory = %s, want 2432Mi (2g + 384Mi)", mem.String())
	}
	util.WaitForEvents(t, env.Client, ns, "edit", sparkapplication.ReasonInvalidated)
}

// TestSuspendResume: suspending a running application deletes its driver (with the pod's grace
// period) and resuming submits it again.
func TestSuspendResume(t *testing.T) {
	ns := parallelWithOperator(t)
	util.CreateRunning(t, env.Client, wrappers.MakeSparkApplication("nap", ns).DriverTerminationGracePeriod(45).Obj())
	if got := util.GetPod(t, env.Client, ns, "nap-driver").Spec.TerminationGracePeriodSeconds; got == nil || *got != 45 {
		t.Errorf("driver terminationGracePeriodSeconds = %v, want 45", got)
	}

	util.UpdateApp(t, env.Client, ns, "nap", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(true) })
	app := util.WaitForState(t, env.Client, ns, "nap", v1beta2.ApplicationStateSuspended)
	util.WaitForPodGone(t, env.Client, ns, "nap-driver")
	if util.Condition(app, v1beta2.ConditionSuspended) != metav1.ConditionTrue || app.Status.DriverInfo.PodName != "" {
		t.Errorf("suspended status: %+v", app.Status)
	}

	util.UpdateApp(t, env.Client, ns, "nap", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(false) })
	app = util.WaitForState(t, env.Client, ns, "nap", v1beta2.ApplicationStateSubmitted)
	if app.Status.ExecutionAttempts != 2 {
		t.Errorf("resume: %+v", app.Status)
	}
	util.WaitForEvents(t, env.Client, ns, "nap", sparkapplication.ReasonSuspending, sparkapplication.ReasonSuspended, sparkapplication.ReasonResuming)
}

// TestCreatedSuspended: an application created suspended (as Kueue creates them) never gets a
// driver until it is unsuspended.
func TestCreatedSuspended(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("queued", ns).Suspend(true).Obj())
	util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateSuspended)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "queued-driver"}, &corev1.Pod{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a suspended application got a driver: %v", err)
	}
	// Kueue sets a node selector while admitting, then unsuspends.
	util.UpdateApp(t, env.Client, ns, "queued", func(a *v1beta2.SparkApplication) {
		a.Spec.Driver.NodeSelector = map[string]string{"pool": "spark"}
		a.Spec.Suspend = ptr.To(false)
	})
	util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateSubmitted)
	if got := util.GetPod(t, env.Client, ns, "queued-driver").Spec.NodeSelector["pool"]; got != "spark" {
		t.Errorf("driver node selector pool=%q, want spark", got)
	}
}

// TestTTL: a terminated application is deleted once its time to live has passed, and not before it
// terminated. (The COMPLETED state can be too short-lived to poll, so the events tell the order.)
func TestTTL(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("short", ns).TimeToLive(2).Obj())
	util.WaitForState(t, env.Client, ns, "short", v1beta2.ApplicationStateSubmitted)
	time.Sleep(3 * time.Second)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "short"}, &v1beta2.SparkApplication{}); err != nil {
		t.Fatalf("a running application was deleted by its TTL: %v", err)
	}
	util.FinishDriver(t, env.Client, ns, "short-driver", 0)
	framework.WaitFor(t, 20*time.Second, "the application to be deleted", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "short"}, &v1beta2.SparkApplication{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	framework.WaitFor(t, 10*time.Second, "DriverCompleted, then TTLExpired", func() (bool, string) {
		got := util.EventReasons(t, env.Client, ns, "short")
		c, e := slices.Index(got, sparkapplication.ReasonDriverCompleted), slices.Index(got, sparkapplication.ReasonTTLExpired)
		return c >= 0 && e > c, fmt.Sprint(got)
	})
}

// TestDeleteRunningApplication: deleting a running application deletes its driver and, through the
// garbage collector, its executors and the objects the driver owns.
func TestDeleteRunningApplication(t *testing.T) {
	ns := parallelWithOperator(t)
	app := util.CreateRunning(t, env.Client, wrappers.MakeSparkApplication("gone", ns).Obj())
	driver := util.GetPod(t, env.Client, ns, "gone-driver")
	util.CreateExecutor(t, env.Client, app, driver, 1)
	if err := env.Client.Delete(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	util.WaitForPodGone(t, env.Client, ns, "gone-driver")
	util.WaitForPodGone(t, env.Client, ns, "gone-exec-1")
	framework.WaitFor(t, 20*time.Second, "the driver's ConfigMaps and Services to be collected", func() (bool, string) {
		of := []client.ListOption{client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelAppName: "gone"}}
		cms, svcs := util.Count(env.Client, &corev1.ConfigMapList{}, of...), util.Count(env.Client, &corev1.ServiceList{}, of...)
		return cms == 0 && svcs == 0, fmt.Sprint(cms, svcs)
	})
}

// TestDriverDeletedWhileRunning: a driver pod deleted while running is reported as failed once its
// container is killed, and the finalizer keeps it readable until then.
func TestDriverDeletedWhileRunning(t *testing.T) {
	ns := parallelWithOperator(t)
	util.CreateRunning(t, env.Client, wrappers.MakeSparkApplication("killed", ns).Obj())
	if err := env.Client.Delete(context.Background(), util.GetPod(t, env.Client, ns, "killed-driver")); err != nil {
		t.Fatal(err)
	}
	// The finalizer keeps the pod while the kubelet stops it.
	time.Sleep(500 * time.Millisecond)
	util.SetPodStatus(t, env.Client, ns, "killed-driver", corev1.PodFailed, util.Exited(143))
	app := util.WaitForState(t, env.Client, ns, "killed", v1beta2.ApplicationStateFailed)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "143") || !strings.Contains(app.Status.AppState.ErrorMessage, "deleted") {
		t.Errorf("error message = %q", app.Status.AppState.ErrorMessage)
	}
	util.WaitForPodGone(t, env.Client, ns, "killed-driver")
}

// TestShortJobDeletedBeforeSeen: a driver that succeeded and was deleted while the operator was down
// is still reported COMPLETED (Kubeflow reports FAILED, "driver pod not found").
func TestShortJobDeletedBeforeSeen(t *testing.T) {
	ns := env.ParallelNamespace(t)
	op := startOperator(t, ns, defaultOptions())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("quick", ns).Obj())
	util.WaitForState(t, env.Client, ns, "quick", v1beta2.ApplicationStateSubmitted)
	op.Stop()
	util.FinishDriver(t, env.Client, ns, "quick-driver", 0)
	if err := env.Client.Delete(context.Background(), util.GetPod(t, env.Client, ns, "quick-driver")); err != nil {
		t.Fatal(err)
	}
	startOperator(t, ns, defaultOptions())
	util.WaitForState(t, env.Client, ns, "quick", v1beta2.ApplicationStateCompleted)
	util.WaitForPodGone(t, env.Client, ns, "quick-driver")
}

// TestDriverStartTimeout: a driver pod that stays Pending past a configured timeout (the operator's
// --driver-start-timeout, or the application's sparkoperator.k8s.io/driver-start-timeout annotation)
// fails the attempt with the reason; without one, a driver its scheduler holds waits, saying why.
func TestDriverStartTimeout(t *testing.T) {
	t.Parallel()
	t.Run("operator-wide", func(t *testing.T) {
		ns := parallelWithOperator(t, func(o *testOptions) { o.DriverStartTimeout = 2 * time.Second })
		util.Create(t, env.Client, wrappers.MakeSparkApplication("stuck", ns).Obj())
		app := util.WaitForState(t, env.Client, ns, "stuck", v1beta2.ApplicationStateFailed)
		if !strings.Contains(app.Status.AppState.ErrorMessage, "did not start within 2s") || !strings.Contains(app.Status.AppState.ErrorMessage, "not scheduled") {
			t.Errorf("error message = %q", app.Status.AppState.ErrorMessage)
		}
		util.WaitForEvents(t, env.Client, ns, "stuck", sparkapplication.ReasonDriverTimeout)
		util.WaitForPodGone(t, env.Client, ns, "stuck-driver")
	})
	t.Run("per application", func(t *testing.T) {
		ns := env.ParallelNamespace(t)
		startOperator(t, ns, defaultOptions()) // no operator-wide timeout
		util.Create(t, env.Client, wrappers.MakeSparkApplication("stuck", ns).Annotation(v1beta2.AnnotationDriverStartTimeout, "2s").Obj())
		app := util.WaitForState(t, env.Client, ns, "stuck", v1beta2.ApplicationStateFailed)
		if !strings.Contains(app.Status.AppState.ErrorMessage, "did not start within 2s") {
			t.Errorf("error message = %q", app.Status.AppState.ErrorMessage)
		}
		util.WaitForPodGone(t, env.Client, ns, "stuck-driver")
	})
	t.Run("annotation not a duration", func(t *testing.T) {
		ns := parallelWithOperator(t)
		util.Create(t, env.Client, wrappers.MakeSparkApplication("typo", ns).Annotation(v1beta2.AnnotationDriverStartTimeout, "soon").Obj())
		app := util.WaitForState(t, env.Client, ns, "typo", v1beta2.ApplicationStateFailed)
		if !strings.Contains(app.Status.AppState.ErrorMessage, v1beta2.AnnotationDriverStartTimeout) {
			t.Errorf("error message = %q", app.Status.AppState.ErrorMessage)
		}
	})
	// Waiting is not failing: without a configured timeout, a driver that a scheduler holds stays
	// SUBMITTED past the figure the other cases time out at, with the scheduler's message in the
	// DriverScheduled condition, and completes once it is scheduled.
	t.Run("waits by default", func(t *testing.T) {
		ns := parallelWithOperator(t)
		util.Create(t, env.Client, wrappers.MakeSparkApplication("queued", ns).Obj())
		util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateSubmitted)
		const held = "0/3 nodes are available: 3 Insufficient cpu."
		util.HoldPod(t, env.Client, ns, "queued-driver", held)
		framework.WaitFor(t, 20*time.Second, "the scheduler's message in the status", func() (bool, string) {
			c := meta.FindStatusCondition(util.GetApp(t, env.Client, ns, "queued").Status.Conditions, v1beta2.ConditionDriverScheduled)
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "Unschedulable" && strings.Contains(c.Message, held), fmt.Sprint(c)
		})
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
			if st := util.GetApp(t, env.Client, ns, "queued").Status.AppState.State; st != v1beta2.ApplicationStateSubmitted {
				t.Fatalf("a driver held by its scheduler became %s", st)
			}
		}
		util.WaitForEvents(t, env.Client, ns, "queued", sparkapplication.ReasonDriverWaiting)
		util.RunDriver(t, env.Client, ns, "queued-driver")
		app := util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateRunning)
		if c := meta.FindStatusCondition(app.Status.Conditions, v1beta2.ConditionDriverScheduled); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("DriverScheduled = %+v, want True", c)
		}
		util.FinishDriver(t, env.Client, ns, "queued-driver", 0)
		util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateCompleted)
	})
}

// TestRestartMidSubmission: a controller that created the driver pod and died before recording the
// submission adopts that pod on restart: exactly one driver for the attempt.
func TestRestartMidSubmission(t *testing.T) {
	ns := env.ParallelNamespace(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("crash", ns).Obj())
	app := util.GetApp(t, env.Client, ns, "crash")
	// What the crashed controller got done: the driver pod of attempt 1, nothing else.
	sub, driver := createOrphanDriver(t, app, 1)

	startOperator(t, ns, defaultOptions())
	app = util.WaitForState(t, env.Client, ns, "crash", v1beta2.ApplicationStateSubmitted)
	if app.Status.SubmissionID != sub.ID || app.Status.SubmissionAttempts != 1 {
		t.Errorf("status %+v: want the adopted submission %s", app.Status, sub.ID)
	}
	pods := &corev1.PodList{}
	if err := env.Client.List(context.Background(), pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].UID != driver.UID {
		t.Errorf("want exactly the original driver pod, got %d pods", len(pods.Items))
	}
	framework.WaitFor(t, 10*time.Second, "the owned ConfigMap of the adopted pod", func() (bool, string) {
		cms := &corev1.ConfigMapList{}
		_ = env.Client.List(context.Background(), cms, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelSubmissionID: sub.ID})
		return len(cms.Items) == 1, fmt.Sprint(len(cms.Items))
	})
}

// TestExecutorStateBounded: status.executorState lists at most the configured number of executors,
// the lowest ids, while executorCounts counts all of them.
func TestExecutorStateBounded(t *testing.T) {
	ns := parallelWithOperator(t, func(o *testOptions) { o.MaxTrackedExecutors = 2 })
	util.Create(t, env.Client, wrappers.MakeSparkApplication("wide", ns).ExecutorInstances(5).Obj())
	app := util.WaitForState(t, env.Client, ns, "wide", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "wide-driver")
	driver := util.GetPod(t, env.Client, ns, "wide-driver")
	for id := 1; id <= 5; id++ {
		util.CreateExecutor(t, env.Client, app, driver, id)
	}
	framework.WaitFor(t, 10*time.Second, "bounded executor state", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "wide")
		_, has1 := app.Status.ExecutorState["wide-exec-1"]
		_, has2 := app.Status.ExecutorState["wide-exec-2"]
		return len(app.Status.ExecutorState) == 2 && has1 && has2 && app.Status.ExecutorCounts[v1beta2.ExecutorStatePending] == 5,
			fmt.Sprint(app.Status.ExecutorState, app.Status.ExecutorCounts)
	})
}

// TestRestartMidResubmission: a retry whose driver pod was created but not recorded (the status write
// of that reconcile was lost) is adopted, not deleted as a leftover of the previous attempt.
func TestRestartMidResubmission(t *testing.T) {
	ns := env.ParallelNamespace(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("again", ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(3, 1).Obj())
	app := util.GetApp(t, env.Client, ns, "again")
	// The state a controller leaves after attempt 1 failed: PENDING_RERUN, one attempt recorded.
	app.Status = v1beta2.SparkApplicationStatus{
		AppState:           v1beta2.ApplicationState{State: v1beta2.ApplicationStatePendingRerun},
		SubmissionAttempts: 1, ExecutionAttempts: 1,
		SubmittedSpecHash: sparkapplication.SpecHash(app), ObservedGeneration: app.Generation,
	}
	if err := env.Client.Status().Update(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	// ... and what it then got done of attempt 2: the driver pod, not the status.
	sub, driver := createOrphanDriver(t, app, 2)

	startOperator(t, ns, defaultOptions())
	app = util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateSubmitted)
	if app.Status.SubmissionID != sub.ID || app.Status.SubmissionAttempts != 2 {
		t.Errorf("status %+v: want attempt 2 adopted (%s)", app.Status, sub.ID)
	}
	time.Sleep(time.Second)
	if pod := util.GetPod(t, env.Client, ns, "again-driver"); pod.UID != driver.UID || pod.DeletionTimestamp != nil {
		t.Errorf("the adopted driver pod was replaced or deleted (deleting: %v)", pod.DeletionTimestamp != nil)
	}
}

// TestRerun: setting the rerun annotation on a finished application submits it again, as a new
// submission with fresh counters; setting the same token again does nothing.
func TestRerun(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("again", ns).Obj())
	first := util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateSubmitted)
	util.FinishDriver(t, env.Client, ns, "again-driver", 1)
	util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateFailed)

	util.UpdateApp(t, env.Client, ns, "again", func(a *v1beta2.SparkApplication) {
		a.Annotations = map[string]string{v1beta2.AnnotationRerun: "2026-01-01T00:00:00Z"}
	})
	var app *v1beta2.SparkApplication
	framework.WaitFor(t, 30*time.Second, "the rerun", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "again")
		return app.Status.AppState.State == v1beta2.ApplicationStateSubmitted && app.Status.SubmissionID != first.Status.SubmissionID,
			fmt.Sprint(app.Status.AppState, app.Status.SubmissionID)
	})
	if app.Status.SubmissionAttempts != 1 || app.Status.ExecutionAttempts != 1 {
		t.Errorf("rerun counters: %+v", app.Status)
	}
	if pod := util.WaitForPod(t, env.Client, ns, "again-driver"); pod.Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID {
		t.Errorf("driver pod is from submission %s, want %s", pod.Labels[v1beta2.LabelSubmissionID], app.Status.SubmissionID)
	}
	util.FinishDriver(t, env.Client, ns, "again-driver", 0)
	done := util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateCompleted)
	util.UpdateApp(t, env.Client, ns, "again", func(a *v1beta2.SparkApplication) { a.Labels = map[string]string{"touched": "yes"} })
	time.Sleep(2 * time.Second)
	if app := util.GetApp(t, env.Client, ns, "again"); app.Status.AppState.State != v1beta2.ApplicationStateCompleted || app.Status.SubmissionID != done.Status.SubmissionID {
		t.Errorf("an unrelated update with the same rerun token reran the application: %+v", app.Status.AppState)
	}
}

// TestNamespaceSelector: with --namespace-selector the operator watches every namespace but serves
// only those whose labels match; labelling a namespace later brings its applications in.
func TestNamespaceSelector(t *testing.T) {
	t.Parallel()
	key := "spark-selected-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[:8]
	served, ignored := env.NewNamespace(t), env.NewNamespace(t)
	label := func(ns string) {
		n := &corev1.Namespace{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: ns}, n); err != nil {
			t.Fatal(err)
		}
		n.Labels[key] = "enabled"
		if err := env.Client.Update(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	label(served)
	opts := defaultOptions()
	opts.NamespaceSelector = key + "=enabled"
	startOperatorFor(t, nil, opts)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("in", served).Obj())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("out", ignored).Obj())
	util.WaitForState(t, env.Client, served, "in", v1beta2.ApplicationStateSubmitted)
	time.Sleep(2 * time.Second)
	if app := util.GetApp(t, env.Client, ignored, "out"); app.Status.AppState.State != v1beta2.ApplicationStateNew {
		t.Fatalf("an application in an unselected namespace was processed: %+v", app.Status.AppState)
	}
	// Labelling the namespace later, then touching the application, brings it in.
	label(ignored)
	util.UpdateApp(t, env.Client, ignored, "out", func(a *v1beta2.SparkApplication) { a.Annotations = map[string]string{"touch": "1"} })
	util.WaitForState(t, env.Client, ignored, "out", v1beta2.ApplicationStateSubmitted)
}

// TestUIIngress: with an ingress URL format the UI gets an Ingress (host from the format, a sub-path
// rewritten), each driverIngressOptions port a Service and an Ingress, all recorded in driverInfo and
// deleted when the attempt ends. Both Ingresses take the operator's --ingress-annotations and
// --ingress-tls when the application gives none (for driver ingresses: Kubeflow's main after v2.5.2).
func TestUIIngress(t *testing.T) {
	tlsDefault := []networkingv1.IngressTLS{{Hosts: []string{"*.example.com"}, SecretName: "wildcard"}}
	ns := parallelWithOperator(t, func(o *testOptions) {
		o.IngressURLFormat = "spark.example.com/{{$appNamespace}}/{{$appName}}"
		o.IngressClassName = "nginx"
		o.IngressAnnotations = map[string]string{"example.com/default": "yes"}
		o.IngressTLS = tlsDefault
	})
	util.Create(t, env.Client, wrappers.MakeSparkApplication("web", ns).DriverIngress(8080, "metrics", "{{$appName}}-metrics.example.com").Obj())
	util.WaitForState(t, env.Client, ns, "web", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "web-driver")
	var app *v1beta2.SparkApplication
	framework.WaitFor(t, 15*time.Second, "the UI Ingress in driverInfo", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "web")
		return app.Status.DriverInfo.WebUIIngressName != "", fmt.Sprint(app.Status.DriverInfo)
	})
	if got, want := app.Status.DriverInfo.WebUIIngressAddress, "http://spark.example.com/"+ns+"/web"; got != want {
		t.Errorf("webUIIngressAddress = %q, want %q", got, want)
	}
	ing := &networkingv1.Ingress{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-ui-ingress"}, ing); err != nil {
		t.Fatal(err)
	}
	rule := ing.Spec.Rules[0]
	if rule.Host != "spark.example.com" || rule.HTTP.Paths[0].Path != "/"+ns+"/web(/|$)(.*)" ||
		ing.Annotations["nginx.ingress.kubernetes.io/rewrite-target"] != "/$2" || ptr.Deref(ing.Spec.IngressClassName, "") != "nginx" ||
		rule.HTTP.Paths[0].Backend.Service.Name != "web-ui-svc" || ing.Annotations["example.com/default"] != "yes" ||
		!reflect.DeepEqual(ing.Spec.TLS, tlsDefault) {
		t.Errorf("UI Ingress: %+v, annotations %v", ing.Spec, ing.Annotations)
	}
	driverIng := &networkingv1.Ingress{}
	framework.WaitFor(t, 10*time.Second, "the driver ingress of port 8080", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-ing-8080"}, driverIng)
		return err == nil, fmt.Sprint(err)
	})
	if driverIng.Spec.Rules[0].Host != "web-metrics.example.com" || driverIng.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != "web-driver-8080" ||
		driverIng.Annotations["example.com/default"] != "yes" || !reflect.DeepEqual(driverIng.Spec.TLS, tlsDefault) {
		t.Errorf("driver ingress: %+v, annotations %v", driverIng.Spec, driverIng.Annotations)
	}
	svc := &corev1.Service{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-driver-8080"}, svc); err != nil || svc.Spec.Ports[0].Port != 8080 {
		t.Errorf("driver ingress Service: %v %+v", err, svc.Spec.Ports)
	}
	util.FinishDriver(t, env.Client, ns, "web-driver", 0)
	util.WaitForState(t, env.Client, ns, "web", v1beta2.ApplicationStateCompleted)
	framework.WaitFor(t, 10*time.Second, "the UI objects to be deleted", func() (bool, string) {
		ings := util.Count(env.Client, &networkingv1.IngressList{}, client.InNamespace(ns))
		svcs := util.Count(env.Client, &corev1.ServiceList{}, client.InNamespace(ns), client.MatchingLabels{sparkapplication.LabelComponent: "ui"})
		return ings == 0 && svcs == 0, fmt.Sprint(ings, svcs)
	})
}

// TestStopHonoursGracePeriod: stopping an attempt (here by suspending it) deletes the driver with its
// terminationGracePeriodSeconds, so Spark's shutdown and a streaming checkpoint can finish.
func TestStopHonoursGracePeriod(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("stream", ns).DriverTerminationGracePeriod(90).Obj())
	util.WaitForState(t, env.Client, ns, "stream", v1beta2.ApplicationStateSubmitted)
	// Schedule the driver to a node, as the scheduler would: only then is deletion graceful.
	pod := util.GetPod(t, env.Client, ns, "stream-driver")
	binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: ns}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
	if err := env.Client.SubResource("binding").Create(context.Background(), pod, binding); err != nil {
		t.Fatal(err)
	}
	util.RunDriver(t, env.Client, ns, "stream-driver")
	util.WaitForState(t, env.Client, ns, "stream", v1beta2.ApplicationStateRunning)
	util.UpdateApp(t, env.Client, ns, "stream", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(true) })
	framework.WaitFor(t, 15*time.Second, "a graceful deletion of the driver", func() (bool, string) {
		p := util.GetPod(t, env.Client, ns, "stream-driver")
		return p.DeletionTimestamp != nil, fmt.Sprint(p.DeletionGracePeriodSeconds)
	})
	if got := util.GetPod(t, env.Client, ns, "stream-driver").DeletionGracePeriodSeconds; got == nil || *got != 90 {
		t.Errorf("driver deleted with a grace period of %v s, want 90", got)
	}
	// The kubelet would now stop Spark; play it, then the attempt ends.
	if err := env.Client.Delete(context.Background(), util.GetPod(t, env.Client, ns, "stream-driver"), client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	util.WaitForState(t, env.Client, ns, "stream", v1beta2.ApplicationStateSuspended)
}

// TestUIServiceFailureIsNotFatal: a UI Service the API server refuses (here a quota on load balancers)
// is reported and retried, but the application is submitted, runs and completes all the same.
func TestUIServiceFailureIsNotFatal(t *testing.T) {
	ns := env.ParallelNamespace(t)
	exhaustedQuota(t, ns, "no-load-balancers", corev1.ResourceServicesLoadBalancers)
	startOperator(t, ns, defaultOptions())
	lb := corev1.ServiceTypeLoadBalancer
	util.Create(t, env.Client, wrappers.MakeSparkApplication("noui", ns).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.SparkUIOptions = &v1beta2.SparkUIConfiguration{ServiceType: &lb}
	}).Obj())
	util.WaitForState(t, env.Client, ns, "noui", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "noui-driver")
	util.WaitForState(t, env.Client, ns, "noui", v1beta2.ApplicationStateRunning)
	util.FinishDriver(t, env.Client, ns, "noui-driver", 0)
	app := util.WaitForState(t, env.Client, ns, "noui", v1beta2.ApplicationStateCompleted)
	if app.Status.SubmissionAttempts != 1 || app.Status.DriverInfo.WebUIServiceName != "" {
		t.Errorf("status: %+v", app.Status)
	}
	util.WaitForEvents(t, env.Client, ns, "noui", sparkapplication.ReasonUIFailed)
}
