package controller_test

// Taking over from Kubeflow's operator: the applications Kubeflow v2.5 submitted are left as its
// controller and spark-submit leave them (the status fields its controller writes, a driver pod
// created by spark-submit from Kubeflow's driver template with its owner reference and labels, the
// driver's headless Service and conf ConfigMap owned by that pod, Kubeflow's UI Service, executors),
// then our operator starts on them. It must follow each to its end: no second driver for an attempt
// Kubeflow started, no false FAILED, and Kubeflow's retry counts carried on.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// kubeflowAttempt describes the attempt Kubeflow's operator left behind.
type kubeflowAttempt struct {
	state v1beta2.ApplicationStateType
	// submissionAttempts and executionAttempts are Kubeflow's counters (both include this attempt).
	submissionAttempts, executionAttempts int32
	// driver says whether the driver pod (and what spark-submit created with it) exists, and its
	// phase as the kubelet reported it ("" leaves the pod Pending without status).
	driver      bool
	driverPhase corev1.PodPhase
	exitCode    *int32
	// appIDKnown says whether Kubeflow had read the driver's spark-app-selector into the status yet
	// (it does so only on the reconcile after the submission).
	appIDKnown bool
	// submittedAgo is how long ago Kubeflow ran spark-submit (status.lastSubmissionAttemptTime).
	submittedAgo time.Duration
	// executors is the number of running executor pods.
	executors int
	// errorMessage is Kubeflow's status.applicationState.errorMessage.
	errorMessage string
}

// kubeflowState is what takeOver created, to check against.
type kubeflowState struct {
	submissionID, sparkAppID string
	driver                   *corev1.Pod
}

// sparkUniqueID is spark-submit's KubernetesUtils.uniqueID(): 6 hex of random bytes then the
// current time in milliseconds in hex (spark-submit-on-kubernetes.md section 2.1).
func sparkUniqueID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) + fmt.Sprintf("%x", time.Now().UnixMilli()&0xFFFFFFFFFF)
}

// leaveKubeflowAttempt builds, for the already created application app, the state Kubeflow's
// controller and spark-submit leave for one attempt, and writes Kubeflow's status.
func leaveKubeflowAttempt(t *testing.T, app *v1beta2.SparkApplication, a kubeflowAttempt) kubeflowState {
	t.Helper()
	ctx := context.Background()
	ns := app.Namespace
	ks := kubeflowState{submissionID: string(uuid.NewUUID()), sparkAppID: "spark-" + strings.ReplaceAll(string(uuid.NewUUID()), "-", "")}
	prefix := app.Name + "-" + sparkUniqueID()
	driverName := app.Name + "-driver"
	if a.driver {
		ks.driver = createKubeflowDriver(t, app, ks, driverName, prefix)
		if a.driverPhase != "" {
			util.SetPodStatus(t, env.Client, ns, driverName, a.driverPhase, util.ContainerState{Running: a.driverPhase == corev1.PodRunning, ExitCode: a.exitCode})
		}
		for i := 1; i <= a.executors; i++ {
			createKubeflowExecutor(t, app, ks, i)
		}
	}
	// Kubeflow's UI Service, created before spark-submit ran: owned by the application.
	ui := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: app.Name + "-ui-svc", Namespace: ns,
			Labels:          map[string]string{v1beta2.LabelAppName: app.Name, v1beta2.LabelSubmissionID: ks.submissionID},
			OwnerReferences: []metav1.OwnerReference{kubeflowOwnerRef(app, true)},
		},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{v1beta2.LabelAppName: app.Name, v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver},
			Ports:    []corev1.ServicePort{{Name: "spark-driver-ui-port", Port: 4040, TargetPort: intstr.FromInt32(4040), Protocol: corev1.ProtocolTCP}},
		},
	}
	util.Create(t, env.Client, ui)

	cur := util.GetApp(t, env.Client, ns, app.Name)
	st := &cur.Status
	st.SubmissionID = ks.submissionID
	st.LastSubmissionAttemptTime = metav1.NewTime(time.Now().Add(-a.submittedAgo))
	st.SubmissionAttempts, st.ExecutionAttempts = a.submissionAttempts, a.executionAttempts
	st.AppState = v1beta2.ApplicationState{State: a.state, ErrorMessage: a.errorMessage}
	if a.state != v1beta2.ApplicationStatePendingRerun {
		st.DriverInfo = v1beta2.DriverInfo{PodName: driverName, WebUIServiceName: ui.Name, WebUIPort: 4040, WebUIAddress: fmt.Sprintf("%s:4040", ui.Spec.ClusterIP)}
	}
	if a.appIDKnown {
		st.SparkApplicationID = ks.sparkAppID
	}
	if a.executors > 0 {
		st.ExecutorState = map[string]v1beta2.ExecutorState{}
		for i := 1; i <= a.executors; i++ {
			st.ExecutorState[fmt.Sprintf("%s-exec-%d", prefix, i)] = v1beta2.ExecutorStateRunning
		}
	}
	switch a.state {
	case v1beta2.ApplicationStateFailing, v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed:
		st.TerminationTime = metav1.NewTime(time.Now().Add(-time.Second))
	}
	if err := env.Client.Status().Update(ctx, cur); err != nil {
		t.Fatalf("writing Kubeflow's status: %v", err)
	}
	return ks
}

// kubeflowOwnerRef is util.GetOwnerReference of Kubeflow: a controller reference that blocks the
// owner's deletion on the driver (controller true), a plain one on executors (controller false).
func kubeflowOwnerRef(app *v1beta2.SparkApplication, controller bool) metav1.OwnerReference {
	ref := metav1.OwnerReference{APIVersion: v1beta2.GroupVersion.String(), Kind: "SparkApplication", Name: app.Name, UID: app.UID}
	if controller {
		ref.Controller, ref.BlockOwnerDeletion = ptr.To(true), ptr.To(true)
	}
	return ref
}

// createKubeflowDriver creates the driver pod as spark-submit does from Kubeflow's arguments (the
// labels of spark.kubernetes.driver.label.*, Spark's own labels, the owner reference of Kubeflow's
// driver template, no finalizer), then its headless Service and conf ConfigMap owned by it.
func createKubeflowDriver(t *testing.T, app *v1beta2.SparkApplication, ks kubeflowState, name, prefix string) *corev1.Pod {
	t.Helper()
	ns := app.Namespace
	selector := map[string]string{
		v1beta2.LabelSparkAppName: app.Name, v1beta2.LabelSparkAppSelector: ks.sparkAppID,
		v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver, v1beta2.LabelSparkVersion: "3.5.5",
	}
	labels := map[string]string{
		v1beta2.LabelAppName: app.Name, v1beta2.LabelLaunchedBySparkOperator: "true",
		v1beta2.LabelSubmissionID: ks.submissionID, v1beta2.LabelMutatedBySparkOperator: "true",
	}
	for k, v := range selector {
		labels[k] = v
	}
	cmName := "spark-drv-" + sparkUniqueID() + "-conf-map"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{kubeflowOwnerRef(app, true)},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: "spark",
			Containers: []corev1.Container{{
				Name: "spark-kubernetes-driver", Image: wrappers.DefaultImage,
				Args: []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class", wrappers.DefaultMainClass, wrappers.DefaultMainFile, "1000"},
				Ports: []corev1.ContainerPort{
					{Name: "driver-rpc-port", ContainerPort: 7078}, {Name: "blockmanager", ContainerPort: 7079}, {Name: "spark-ui", ContainerPort: 4040},
				},
				Env:          []corev1.EnvVar{{Name: "SPARK_APPLICATION_ID", Value: ks.sparkAppID}, {Name: "SPARK_CONF_DIR", Value: "/opt/spark/conf"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "spark-conf-volume-driver", MountPath: "/opt/spark/conf"}},
			}},
			Volumes: []corev1.Volume{{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: cmName},
			}}}},
		},
	}
	util.Create(t, env.Client, pod)
	byDriver := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: ptr.To(true)}}
	util.Create(t, env.Client, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: prefix + "-driver-svc", Namespace: ns, Labels: map[string]string{v1beta2.LabelSparkAppSelector: ks.sparkAppID}, OwnerReferences: byDriver},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: selector, Ports: []corev1.ServicePort{
			{Name: "driver-rpc-port", Port: 7078, TargetPort: intstr.FromInt32(7078)},
			{Name: "blockmanager", Port: 7079, TargetPort: intstr.FromInt32(7079)},
			{Name: "spark-ui", Port: 4040, TargetPort: intstr.FromInt32(4040)},
		}},
	})
	util.Create(t, env.Client, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cmName, Namespace: ns, OwnerReferences: byDriver},
		Immutable:  ptr.To(true),
		Data:       map[string]string{"spark.properties": "spark.app.id=" + ks.sparkAppID + "\n", "spark.kubernetes.namespace": ns},
	})
	return pod
}

// createKubeflowExecutor creates a running executor pod as the driver does for Kubeflow's
// application: owned by the driver pod, with Kubeflow's template owner reference (not a controller)
// and the labels of spark.kubernetes.executor.label.*.
func createKubeflowExecutor(t *testing.T, app *v1beta2.SparkApplication, ks kubeflowState, id int) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-%s-exec-%d", app.Name, sparkUniqueID(), id), Namespace: app.Namespace,
			Labels: map[string]string{
				v1beta2.LabelAppName: app.Name, v1beta2.LabelLaunchedBySparkOperator: "true", v1beta2.LabelSubmissionID: ks.submissionID,
				v1beta2.LabelSparkRole: v1beta2.SparkRoleExecutor, v1beta2.LabelSparkExecID: fmt.Sprint(id),
				v1beta2.LabelSparkAppSelector: ks.sparkAppID, v1beta2.LabelSparkAppName: app.Name, v1beta2.LabelSparkVersion: "3.5.5",
			},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "Pod", Name: ks.driver.Name, UID: ks.driver.UID, Controller: ptr.To(true)},
				kubeflowOwnerRef(app, false),
			},
		},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "spark-kubernetes-executor", Image: wrappers.DefaultImage}}},
	}
	util.Create(t, env.Client, pod)
	util.SetPodStatus(t, env.Client, app.Namespace, pod.Name, corev1.PodRunning, util.Running)
}

// driverPods watches the driver pods of a namespace from before the operator starts, and records
// the UID of every one that ever existed.
type driverPods struct {
	mu   sync.Mutex
	uids []types.UID
}

func watchDriverPods(t *testing.T, ns string) *driverPods {
	t.Helper()
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.Watch(ctx, &corev1.PodList{}, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	d := &driverPods{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Error {
				continue
			}
			d.mu.Lock()
			if !slices.Contains(d.uids, pod.UID) {
				d.uids = append(d.uids, pod.UID)
			}
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	return d
}

// count is the number of distinct driver pods seen so far.
func (d *driverPods) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.uids)
}

// createKubeflowApp creates the application with no operator running and returns it with its UID.
// takeOver is how most takeover tests begin: the application of w is left as Kubeflow's operator
// would have after attempt a (createKubeflowApp, leaveKubeflowAttempt), the driver pods of its
// namespace are watched (watchDriverPods) and our operator starts there.
func takeOver(t *testing.T, w *wrappers.SparkApplicationWrapper, a kubeflowAttempt) (*v1beta2.SparkApplication, kubeflowState, *driverPods) {
	t.Helper()
	app := createKubeflowApp(t, w)
	ks := leaveKubeflowAttempt(t, app, a)
	drivers := watchDriverPods(t, app.Namespace)
	startOperator(t, app.Namespace, defaultOptions())
	return app, ks, drivers
}

func createKubeflowApp(t *testing.T, w *wrappers.SparkApplicationWrapper) *v1beta2.SparkApplication {
	t.Helper()
	app := w.Obj()
	util.Create(t, env.Client, app)
	return util.GetApp(t, env.Client, app.Namespace, app.Name)
}

// stays checks for d that the application keeps state (no false failure, no resubmission).
func stays(t *testing.T, ns, name string, state v1beta2.ApplicationStateType, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if app := util.GetApp(t, env.Client, ns, name); app.Status.AppState.State != state {
			t.Fatalf("state went from %s to %s (%s)", state, app.Status.AppState.State, app.Status.AppState.ErrorMessage)
		}
	}
}

// TestTakeoverRunning: a RUNNING application of Kubeflow is followed to COMPLETED on its own driver,
// with its executors tracked and its identity kept.
func TestTakeoverRunning(t *testing.T) {
	ns := env.ParallelNamespace(t)
	_, ks, drivers := takeOver(t, wrappers.MakeSparkApplication("kf-run", ns), kubeflowAttempt{
		state: v1beta2.ApplicationStateRunning, submissionAttempts: 1, executionAttempts: 1,
		driver: true, driverPhase: corev1.PodRunning, appIDKnown: true, submittedAgo: time.Minute, executors: 2,
	})

	// Past the driver pod creation grace period, the application is still RUNNING on Kubeflow's driver.
	stays(t, ns, "kf-run", v1beta2.ApplicationStateRunning, 3*time.Second)
	framework.WaitFor(t, 10*time.Second, "the executors tracked", func() (bool, string) {
		st := util.GetApp(t, env.Client, ns, "kf-run").Status
		return st.ExecutorCounts[v1beta2.ExecutorStateRunning] == 2, fmt.Sprint(st.ExecutorState, st.ExecutorCounts)
	})
	util.FinishDriver(t, env.Client, ns, "kf-run-driver", 0)
	got := util.WaitForState(t, env.Client, ns, "kf-run", v1beta2.ApplicationStateCompleted)
	if st := got.Status; st.SubmissionID != ks.submissionID || st.SparkApplicationID != ks.sparkAppID ||
		st.SubmissionAttempts != 1 || st.ExecutionAttempts != 1 || st.TerminationTime.IsZero() {
		t.Errorf("completed status: %+v", st)
	}
	if n := drivers.count(); n != 1 {
		t.Errorf("%d driver pods existed, want Kubeflow's only", n)
	}
	if pod := util.GetPod(t, env.Client, ns, "kf-run-driver"); pod.UID != ks.driver.UID || len(pod.Finalizers) != 0 {
		t.Errorf("driver pod replaced or given finalizers %v", pod.Finalizers)
	}
}

// TestTakeoverSubmitted: a SUBMITTED application whose driver is still pending, submitted long
// before the takeover and whose application id Kubeflow had not read yet, runs and completes on
// its own driver.
func TestTakeoverSubmitted(t *testing.T) {
	ns := env.ParallelNamespace(t)
	_, ks, drivers := takeOver(t, wrappers.MakeSparkApplication("kf-sub", ns), kubeflowAttempt{
		state: v1beta2.ApplicationStateSubmitted, submissionAttempts: 1, executionAttempts: 1,
		driver: true, submittedAgo: time.Minute,
	})
	stays(t, ns, "kf-sub", v1beta2.ApplicationStateSubmitted, 3*time.Second)

	util.RunDriver(t, env.Client, ns, "kf-sub-driver")
	got := util.WaitForState(t, env.Client, ns, "kf-sub", v1beta2.ApplicationStateRunning)
	framework.WaitFor(t, 10*time.Second, "the application id read from the driver", func() (bool, string) {
		got = util.GetApp(t, env.Client, ns, "kf-sub")
		return got.Status.SparkApplicationID == ks.sparkAppID, got.Status.SparkApplicationID
	})
	util.FinishDriver(t, env.Client, ns, "kf-sub-driver", 0)
	got = util.WaitForState(t, env.Client, ns, "kf-sub", v1beta2.ApplicationStateCompleted)
	if got.Status.SubmissionID != ks.submissionID || got.Status.ExecutionAttempts != 1 {
		t.Errorf("completed status: %+v", got.Status)
	}
	if n := drivers.count(); n != 1 {
		t.Errorf("%d driver pods existed, want Kubeflow's only", n)
	}
}

// TestTakeoverSpecChange: a spec change to an application running on Kubeflow's driver is noticed
// as Kubeflow would (the attempt is invalidated and the application submitted again).
func TestTakeoverSpecChange(t *testing.T) {
	ns := env.ParallelNamespace(t)
	app := createKubeflowApp(t, wrappers.MakeSparkApplication("kf-spec", ns))
	ks := leaveKubeflowAttempt(t, app, kubeflowAttempt{
		state: v1beta2.ApplicationStateRunning, submissionAttempts: 1, executionAttempts: 1,
		driver: true, driverPhase: corev1.PodRunning, appIDKnown: true, submittedAgo: time.Minute,
	})
	startOperator(t, ns, defaultOptions())
	stays(t, ns, "kf-spec", v1beta2.ApplicationStateRunning, 2*time.Second)
	util.UpdateApp(t, env.Client, ns, "kf-spec", func(a *v1beta2.SparkApplication) { a.Spec.Arguments = []string{"10"} })
	framework.WaitFor(t, 30*time.Second, "a new submission with the new spec", func() (bool, string) {
		st := util.GetApp(t, env.Client, ns, "kf-spec").Status
		return st.SubmissionID != ks.submissionID && st.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(st.AppState, st.SubmissionID)
	})
	if pod := util.WaitForPod(t, env.Client, ns, "kf-spec-driver"); pod.UID == ks.driver.UID || !slices.Contains(pod.Spec.Containers[0].Args, "10") {
		t.Errorf("driver pod not replaced by one with the new spec: %v", pod.Spec.Containers[0].Args)
	}
}

// TestTakeoverRetries: with restartPolicy OnFailure, the retries Kubeflow already spent are not
// granted again.
func TestTakeoverRetries(t *testing.T) {
	t.Parallel()
	t.Run("one retry left", func(t *testing.T) {
		ns := env.ParallelNamespace(t)
		// Two retries allowed; Kubeflow's second execution (one retry spent) is running.
		_, ks, drivers := takeOver(t, wrappers.MakeSparkApplication("kf-retry", ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(2, 1), kubeflowAttempt{
			state: v1beta2.ApplicationStateRunning, submissionAttempts: 2, executionAttempts: 2,
			driver: true, driverPhase: corev1.PodRunning, appIDKnown: true, submittedAgo: time.Minute, executors: 1,
		})
		stays(t, ns, "kf-retry", v1beta2.ApplicationStateRunning, 2*time.Second)
		util.FinishDriver(t, env.Client, ns, "kf-retry-driver", 1)

		var third *v1beta2.SparkApplication
		framework.WaitFor(t, 30*time.Second, "the third execution", func() (bool, string) {
			third = util.GetApp(t, env.Client, ns, "kf-retry")
			return third.Status.ExecutionAttempts == 3 && third.Status.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(third.Status.AppState, third.Status.ExecutionAttempts)
		})
		if third.Status.SubmissionAttempts != 3 || third.Status.SubmissionID == ks.submissionID {
			t.Errorf("third attempt: %+v", third.Status)
		}
		pod := util.WaitForPod(t, env.Client, ns, "kf-retry-driver")
		if pod.UID == ks.driver.UID || pod.Labels[v1beta2.LabelSubmissionID] != third.Status.SubmissionID ||
			!slices.Contains(pod.Finalizers, sparkapplication.DriverFinalizer) {
			t.Errorf("driver of the third attempt: uid %s labels %v finalizers %v", pod.UID, pod.Labels, pod.Finalizers)
		}
		util.RunDriver(t, env.Client, ns, "kf-retry-driver")
		util.FinishDriver(t, env.Client, ns, "kf-retry-driver", 1)
		final := util.WaitForState(t, env.Client, ns, "kf-retry", v1beta2.ApplicationStateFailed)
		if final.Status.ExecutionAttempts != 3 {
			t.Errorf("final status: %+v", final.Status)
		}
		if n := drivers.count(); n != 2 {
			t.Errorf("%d driver pods existed, want Kubeflow's and one retry", n)
		}
	})
	t.Run("retries spent", func(t *testing.T) {
		ns := env.ParallelNamespace(t)
		// One retry allowed and spent: the failure of Kubeflow's second execution is final.
		_, _, drivers := takeOver(t, wrappers.MakeSparkApplication("kf-spent", ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 1), kubeflowAttempt{
			state: v1beta2.ApplicationStateRunning, submissionAttempts: 2, executionAttempts: 2,
			driver: true, driverPhase: corev1.PodRunning, appIDKnown: true, submittedAgo: time.Minute,
		})
		stays(t, ns, "kf-spent", v1beta2.ApplicationStateRunning, 2*time.Second)
		util.FinishDriver(t, env.Client, ns, "kf-spent-driver", 1)
		final := util.WaitForState(t, env.Client, ns, "kf-spent", v1beta2.ApplicationStateFailed)
		if final.Status.ExecutionAttempts != 2 || !strings.Contains(final.Status.AppState.ErrorMessage, "ExitCode: 1") {
			t.Errorf("final status: %+v", final.Status)
		}
		stays(t, ns, "kf-spent", v1beta2.ApplicationStateFailed, 2*time.Second)
		if n := drivers.count(); n != 1 {
			t.Errorf("%d driver pods existed, want Kubeflow's only", n)
		}
	})
}

// TestTakeoverBetweenAttempts: applications Kubeflow left between two attempts (FAILING with a retry
// due, PENDING_RERUN, SUBMISSION_FAILED with a retry due) are submitted again by us, once, with the
// counters carried on; FAILING with no retry left ends FAILED with Kubeflow's message.
func TestTakeoverBetweenAttempts(t *testing.T) {
	t.Parallel()
	exit1 := ptr.To[int32](1)
	cases := []struct {
		name    string
		app     *wrappers.SparkApplicationWrapper
		attempt kubeflowAttempt
		// want is the final state; wantAttempts the submission and execution attempts then.
		want                         v1beta2.ApplicationStateType
		wantSubmissions, wantExecute int32
		// onKubeflowDriver says the final state is reached on Kubeflow's driver, with no new one.
		onKubeflowDriver bool
	}{{
		name: "unknown", app: wrappers.MakeSparkApplication("kf-unknown", ""),
		attempt: kubeflowAttempt{state: v1beta2.ApplicationStateUnknown, submissionAttempts: 1, executionAttempts: 1, driver: true,
			driverPhase: corev1.PodRunning, appIDKnown: true, submittedAgo: time.Minute},
		want: v1beta2.ApplicationStateRunning, wantSubmissions: 1, wantExecute: 1, onKubeflowDriver: true,
	}, {
		name: "succeeding", app: wrappers.MakeSparkApplication("kf-succeeding", ""),
		attempt: kubeflowAttempt{state: v1beta2.ApplicationStateSucceeding, submissionAttempts: 1, executionAttempts: 1, driver: true,
			driverPhase: corev1.PodSucceeded, exitCode: ptr.To[int32](0), appIDKnown: true, submittedAgo: time.Minute},
		want: v1beta2.ApplicationStateCompleted, wantSubmissions: 1, wantExecute: 1, onKubeflowDriver: true,
	}, {
		name: "failing", app: wrappers.MakeSparkApplication("kf-failing", "").RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(2, 1),
		attempt: kubeflowAttempt{state: v1beta2.ApplicationStateFailing, submissionAttempts: 1, executionAttempts: 1, driver: true,
			driverPhase: corev1.PodFailed, exitCode: exit1, appIDKnown: true, submittedAgo: time.Minute,
			errorMessage: "driver container failed with ExitCode: 1, Reason: Error"},
		want: v1beta2.ApplicationStateSubmitted, wantSubmissions: 2, wantExecute: 2,
	}, {
		name: "failing-final", app: wrappers.MakeSparkApplication("kf-failing-final", "").RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 1),
		attempt: kubeflowAttempt{state: v1beta2.ApplicationStateFailing, submissionAttempts: 2, executionAttempts: 2, driver: true,
			driverPhase: corev1.PodFailed, exitCode: exit1, appIDKnown: true, submittedAgo: time.Minute,
			errorMessage: "driver container failed with ExitCode: 1, Reason: Error"},
		want: v1beta2.ApplicationStateFailed, wantSubmissions: 2, wantExecute: 2,
	}, {
		name: "pending-rerun", app: wrappers.MakeSparkApplication("kf-rerun", "").RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(3, 1),
		attempt: kubeflowAttempt{state: v1beta2.ApplicationStatePendingRerun, submissionAttempts: 1, executionAttempts: 1, driver: true,
			driverPhase: corev1.PodFailed, exitCode: exit1, submittedAgo: time.Minute},
		want: v1beta2.ApplicationStateSubmitted, wantSubmissions: 2, wantExecute: 2,
	}, {
		name: "submission-failed", app: wrappers.MakeSparkApplication("kf-subfail", "").RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(2, 1),
		attempt: kubeflowAttempt{state: v1beta2.ApplicationStateFailedSubmission, submissionAttempts: 1, submittedAgo: time.Minute,
			errorMessage: "failed to submit spark application: exit status 1"},
		want: v1beta2.ApplicationStateSubmitted, wantSubmissions: 2, wantExecute: 1,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := env.ParallelNamespace(t)
			app, ks, drivers := takeOver(t, c.app.Namespace(ns), c.attempt)
			util.WaitForState(t, env.Client, ns, app.Name, c.want)
			stays(t, ns, app.Name, c.want, 2*time.Second)
			got := util.GetApp(t, env.Client, ns, app.Name)
			if got.Status.SubmissionAttempts != c.wantSubmissions || got.Status.ExecutionAttempts != c.wantExecute {
				t.Errorf("attempts %d/%d, want %d/%d", got.Status.SubmissionAttempts, got.Status.ExecutionAttempts, c.wantSubmissions, c.wantExecute)
			}
			wantDrivers := 0
			if c.attempt.driver {
				wantDrivers++
			}
			switch {
			case c.onKubeflowDriver:
				if got.Status.SubmissionID != ks.submissionID {
					t.Errorf("submission id %s, want Kubeflow's %s", got.Status.SubmissionID, ks.submissionID)
				}
			case c.want == v1beta2.ApplicationStateFailed:
				if got.Status.AppState.ErrorMessage != c.attempt.errorMessage {
					t.Errorf("error message %q, want Kubeflow's %q", got.Status.AppState.ErrorMessage, c.attempt.errorMessage)
				}
			default:
				wantDrivers++
				pod := util.WaitForPod(t, env.Client, ns, app.Name+"-driver")
				if pod.Labels[v1beta2.LabelSubmissionID] != got.Status.SubmissionID || got.Status.SubmissionID == ks.submissionID ||
					(ks.driver != nil && pod.UID == ks.driver.UID) {
					t.Errorf("driver %s of submission %s, status %s", pod.UID, pod.Labels[v1beta2.LabelSubmissionID], got.Status.SubmissionID)
				}
			}
			if n := drivers.count(); n != wantDrivers {
				t.Errorf("%d driver pods existed, want %d", n, wantDrivers)
			}
		})
	}
}

// TestTakeoverTerminated: an application Kubeflow completed is left as it is (its driver pod kept,
// nothing submitted) until its time to live passes, then deleted; a spec change submits it again.
func TestTakeoverTerminated(t *testing.T) {
	ns := env.ParallelNamespace(t)
	zero := ptr.To[int32](0)
	keep := createKubeflowApp(t, wrappers.MakeSparkApplication("kf-done", ns))
	done := leaveKubeflowAttempt(t, keep, kubeflowAttempt{state: v1beta2.ApplicationStateCompleted, submissionAttempts: 1, executionAttempts: 1,
		driver: true, driverPhase: corev1.PodSucceeded, exitCode: zero, appIDKnown: true, submittedAgo: time.Minute})
	ttl := createKubeflowApp(t, wrappers.MakeSparkApplication("kf-ttl", ns).TimeToLive(4))
	leaveKubeflowAttempt(t, ttl, kubeflowAttempt{state: v1beta2.ApplicationStateCompleted, submissionAttempts: 1, executionAttempts: 1,
		driver: true, driverPhase: corev1.PodSucceeded, exitCode: zero, appIDKnown: true, submittedAgo: time.Minute})
	drivers := watchDriverPods(t, ns)
	startOperator(t, ns, defaultOptions())

	stays(t, ns, "kf-done", v1beta2.ApplicationStateCompleted, 2*time.Second)
	framework.WaitFor(t, 20*time.Second, "kf-ttl deleted after its time to live", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "kf-ttl"}, &v1beta2.SparkApplication{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	stays(t, ns, "kf-done", v1beta2.ApplicationStateCompleted, time.Second)
	if pod := util.GetPod(t, env.Client, ns, "kf-done-driver"); pod.UID != done.driver.UID {
		t.Errorf("Kubeflow's driver pod of a completed application was replaced")
	}
	if n := drivers.count(); n != 2 {
		t.Errorf("%d driver pods existed, want Kubeflow's two", n)
	}

	// A spec change submits the completed application again, as for one of ours.
	util.UpdateApp(t, env.Client, ns, "kf-done", func(a *v1beta2.SparkApplication) { a.Spec.Arguments = []string{"10"} })
	framework.WaitFor(t, 30*time.Second, "kf-done submitted again with its new spec", func() (bool, string) {
		st := util.GetApp(t, env.Client, ns, "kf-done").Status
		return st.SubmissionID != done.submissionID && st.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(st.AppState, st.SubmissionID)
	})
}

// TestTakeoverDelete: deleting (in the foreground) an application running on Kubeflow's driver
// deletes the driver and the application, as for one of ours.
func TestTakeoverDelete(t *testing.T) {
	ns := env.ParallelNamespace(t)
	app := createKubeflowApp(t, wrappers.MakeSparkApplication("kf-del", ns))
	leaveKubeflowAttempt(t, app, kubeflowAttempt{
		state: v1beta2.ApplicationStateRunning, submissionAttempts: 1, executionAttempts: 1,
		driver: true, driverPhase: corev1.PodRunning, appIDKnown: true, submittedAgo: time.Minute, executors: 1,
	})
	startOperator(t, ns, defaultOptions())
	stays(t, ns, "kf-del", v1beta2.ApplicationStateRunning, time.Second)
	if err := env.Client.Delete(context.Background(), util.GetApp(t, env.Client, ns, "kf-del"), client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, 30*time.Second, "the application and its driver to be gone", func() (bool, string) {
		errApp := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "kf-del"}, &v1beta2.SparkApplication{})
		errPod := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "kf-del-driver"}, &corev1.Pod{})
		return apierrors.IsNotFound(errApp) && apierrors.IsNotFound(errPod), fmt.Sprint(errApp, errPod)
	})
}
