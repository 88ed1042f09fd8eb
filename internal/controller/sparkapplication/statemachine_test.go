package sparkapplication_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// The state machine of docs/state-machine.md, one reconcile at a time, against controller-runtime's
// fake client and a fake clock: each row brings application "pi" to the state it starts from
// (through the reconciler itself where it can, so the status is the one the controller writes),
// then runs the reconcile under test and checks the state, the events of that reconcile, when it
// asks to run again, and what it did to the pods and Services.

const ns = "jobs"

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// driver is the driver pod name of application "pi".
const driver = "pi-driver"

// harness is one reconciler with its fake client, clock and event recorder.
type harness struct {
	t     *testing.T
	c     client.WithWatch
	clock *clocktesting.FakeClock
	rec   *util.Recorder
	r     *sparkapplication.Reconciler
	// held, when set, is what the client's Get returns for the application (a cache that has not
	// seen the last status write).
	held *v1beta2.SparkApplication
}

// smRow is one row of the state machine table.
type smRow struct {
	name string
	app  *wrappers.SparkApplicationWrapper
	// objs are stored besides the application.
	objs []client.Object
	// opts are the controller's options (the UI Service is always on).
	opts sparkapplication.Options
	// funcs intercept the client's calls (API errors); h.held is set by given when needed.
	funcs func(h *harness) interceptor.Funcs
	// given brings the application to the state the row starts from.
	given func(h *harness)
	// advance moves the clock before the reconcile under test.
	advance time.Duration
	// want is the state after the reconcile under test; wantErr a substring of its error.
	want    v1beta2.ApplicationStateType
	wantErr string
	// wantEvents are the reasons that reconcile records, in order.
	wantEvents []string
	// noEventCheck skips the check of wantEvents (for the rows whose check looks at them).
	noEventCheck bool
	// wantRequeue is its RequeueAfter; noRequeueCheck skips the check.
	wantRequeue    time.Duration
	noRequeueCheck bool
	// check looks at the rest.
	check func(t *testing.T, h *harness, app *v1beta2.SparkApplication)
}

func newHarness(t *testing.T, tc smRow) *harness {
	t.Helper()
	h := &harness{t: t, clock: clocktesting.NewFakeClock(t0), rec: &util.Recorder{}}
	var funcs interceptor.Funcs
	if tc.funcs != nil {
		funcs = tc.funcs(h)
	}
	get := funcs.Get
	funcs.Get = func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if app, ok := obj.(*v1beta2.SparkApplication); ok && h.held != nil && key == client.ObjectKeyFromObject(h.held) {
			h.held.DeepCopyInto(app)
			return nil
		}
		if get != nil {
			return get(ctx, c, key, obj, opts...)
		}
		return c.Get(ctx, key, obj, opts...)
	}
	tc.opts.EnableUIService = true
	app := tc.app.Obj()
	h.c = util.NewFakeClient(h.clock, funcs, append([]client.Object{app}, tc.objs...)...)
	h.r = sparkapplication.NewReconciler(h.c, h.rec, h.clock, tc.opts)
	return h
}

func (h *harness) reconcile() (ctrl.Result, error) {
	return h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "pi"}})
}

// step reconciles and fails the test on error, or when the state is not want afterwards.
func (h *harness) step(want v1beta2.ApplicationStateType) ctrl.Result {
	h.t.Helper()
	res, err := h.reconcile()
	if err != nil {
		h.t.Fatalf("reconcile towards %q: %v", want, err)
	}
	if got := h.app().Status.AppState.State; got != want {
		h.t.Fatalf("given: state %q (%s), want %q", got, h.app().Status.AppState.ErrorMessage, want)
	}
	return res
}

func (h *harness) app() *v1beta2.SparkApplication {
	h.t.Helper()
	return util.GetApp(h.t, h.c, ns, "pi")
}

// pod returns pod name, or nil when there is none.
func (h *harness) pod(name string) *corev1.Pod {
	h.t.Helper()
	pod := &corev1.Pod{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		h.t.Fatal(err)
	}
	return pod
}

func (h *harness) exists(obj client.Object, name string) bool {
	h.t.Helper()
	err := h.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if err != nil && !apierrors.IsNotFound(err) {
		h.t.Fatal(err)
	}
	return err == nil
}

// submitted submits the application: SUBMITTED, its driver pod Pending.
func (h *harness) submitted() { h.t.Helper(); h.step(v1beta2.ApplicationStateSubmitted) }

// running submits the application and runs its driver: RUNNING.
func (h *harness) running() {
	h.t.Helper()
	h.submitted()
	util.SetPodStatus(h.t, h.c, ns, driver, corev1.PodRunning, util.ContainerState{Running: true, At: h.clock.Now()})
	h.step(v1beta2.ApplicationStateRunning)
}

// pendingWith submits the application and leaves its driver Pending with the Spark container waiting
// for reason.
func (h *harness) pendingWith(reason string) {
	h.t.Helper()
	h.submitted()
	util.SetPodStatus(h.t, h.c, ns, driver, corev1.PodPending, util.ContainerState{Waiting: reason, Message: "from the kubelet"})
}

// exited submits, runs and ends the driver with code, now by the fake clock.
func (h *harness) exited(code int32) {
	h.t.Helper()
	h.running()
	phase := corev1.PodSucceeded
	if code != 0 {
		phase = corev1.PodFailed
	}
	util.SetPodStatus(h.t, h.c, ns, driver, phase, util.ContainerState{ExitCode: &code, At: h.clock.Now()})
}

// updateSpec changes the stored application as `kubectl edit` would: the spec and the generation.
func (h *harness) updateSpec(mutate func(*v1beta2.SparkApplication)) {
	h.t.Helper()
	util.UpdateApp(h.t, h.c, ns, "pi", func(a *v1beta2.SparkApplication) {
		before := a.Spec.DeepCopy()
		mutate(a)
		if !equalSpec(before, &a.Spec) {
			a.Generation++
		}
	})
}

func equalSpec(a, b *v1beta2.SparkApplicationSpec) bool {
	x := &v1beta2.SparkApplication{Spec: *a}
	y := &v1beta2.SparkApplication{Spec: *b}
	return sparkapplication.SpecHash(x) == sparkapplication.SpecHash(y) &&
		ptr.Equal(a.Suspend, b.Suspend) && ptr.Equal(a.TimeToLiveSeconds, b.TimeToLiveSeconds)
}

// pi is the application of the rows: SparkPi with a UID, as the API server would give it.
func pi() *wrappers.SparkApplicationWrapper {
	return wrappers.MakeSparkApplication("pi", ns).UID("uid-pi").Generation(1)
}

var (
	errQuota       = apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, driver, errors.New(`exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0`))
	errUnavailable = apierrors.NewServiceUnavailable("etcd is restarting")
)

// refuseCreate makes the client refuse to create objects of obj's type named name with err.
func refuseCreate(name string, err error) func(h *harness) interceptor.Funcs {
	return func(*harness) interceptor.Funcs {
		return interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if obj.GetName() == name {
				return err
			}
			return c.Create(ctx, obj, opts...)
		}}
	}
}

// uiLabels are the labels of application pi's UI objects.
func uiLabels() map[string]string {
	l := sparkapplication.UIObjectLabels()
	l[v1beta2.LabelAppName] = "pi"
	return l
}

// TestStateMachine runs every row of docs/state-machine.md's table.
func TestStateMachine(t *testing.T) {
	rows := []smRow{
		// "" (new)
		{
			name: `"": submits: the driver pod (with the finalizer), its ConfigMap and Service -> SUBMITTED`,
			app:  pi(), want: v1beta2.ApplicationStateSubmitted,
			wantEvents:  []string{sparkapplication.ReasonSubmitted},
			wantRequeue: 10 * time.Second, // the driver pod creation grace period
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				pod := h.pod(driver)
				if pod == nil || !slices.Contains(pod.Finalizers, sparkapplication.DriverFinalizer) || pod.Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID {
					t.Fatalf("driver pod %+v", pod)
				}
				st := app.Status
				if st.SubmissionAttempts != 1 || st.ExecutionAttempts != 1 || !st.LastSubmissionAttemptTime.Time.Equal(t0) ||
					st.DriverInfo.PodName != driver || st.SubmittedSpecHash != sparkapplication.SpecHash(app) || st.ObservedGeneration != 1 {
					t.Errorf("status %+v", st)
				}
				if util.Condition(app, v1beta2.ConditionSubmitted) != metav1.ConditionTrue {
					t.Errorf("conditions %+v", st.Conditions)
				}
				cms := &corev1.ConfigMapList{}
				if err := h.c.List(context.Background(), cms, client.InNamespace(ns)); err != nil || len(cms.Items) == 0 {
					t.Errorf("ConfigMaps %d, %v", len(cms.Items), err)
				}
			},
		},
		{
			name: `"": adopts the driver pod an interrupted reconcile created for the same attempt`,
			app:  pi(),
			given: func(h *harness) {
				app := h.app()
				res, err := submission.Render(app, submission.NewSubmission(app.UID, sparkapplication.Revision(app), 1, t0), submission.Options{})
				if err != nil {
					h.t.Fatal(err)
				}
				res.DriverPod.Finalizers = []string{sparkapplication.DriverFinalizer}
				res.DriverPod.Annotations = map[string]string{"created-by": "the interrupted reconcile"}
				util.Create(h.t, h.c, res.DriverPod)
			},
			want:        v1beta2.ApplicationStateSubmitted,
			wantEvents:  []string{sparkapplication.ReasonSubmitted},
			wantRequeue: 10 * time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if pod := h.pod(driver); pod.Annotations["created-by"] == "" || app.Status.SubmissionAttempts != 1 {
					t.Errorf("the pod was not adopted: %v, attempts %d", pod.Annotations, app.Status.SubmissionAttempts)
				}
			},
		},
		{
			name: `"": refused by the submitter -> SUBMISSION_FAILED with the field to fix`,
			app:  pi().MainApplicationFile("file:/home/me/pi.jar").OnSubmissionFailureRetries(1, 30).RestartPolicy(v1beta2.RestartPolicyOnFailure),
			want: v1beta2.ApplicationStateFailedSubmission, wantEvents: []string{sparkapplication.ReasonSubmissionFailed},
			wantRequeue: time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !strings.Contains(app.Status.AppState.ErrorMessage, "spec.mainApplicationFile") || h.pod(driver) != nil || app.Status.SubmissionAttempts != 1 {
					t.Errorf("status %+v", app.Status)
				}
			},
		},
		{
			name:  `"": refused by the API server (quota) -> SUBMISSION_FAILED with its message`,
			app:   pi(),
			funcs: refuseCreate(driver, errQuota),
			want:  v1beta2.ApplicationStateFailed, // restartPolicy Never: no retry, in the same reconcile
			wantEvents: []string{sparkapplication.ReasonSubmissionFailed,
				sparkapplication.ReasonFailed},
			wantRequeue: time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !strings.Contains(app.Status.AppState.ErrorMessage, "exceeded quota") || app.Status.TerminationTime.IsZero() {
					t.Errorf("status %+v", app.Status)
				}
				if util.Condition(app, v1beta2.ConditionFailed) != metav1.ConditionTrue {
					t.Errorf("conditions %+v", app.Status.Conditions)
				}
			},
		},
		{
			// Requeued 2-4 s later with no error, past the workqueue's rate limiter
			// (TestRetryWhenUnavailable checks the interval).
			name:  `"": the API server unavailable: requeued soon, nothing written`,
			app:   pi(),
			funcs: refuseCreate(driver, errUnavailable),
			want:  v1beta2.ApplicationStateNew, noRequeueCheck: true,
		},
		{
			name:  "unknown state string: treated as new",
			app:   pi().State("SOMETHING_ELSE"),
			want:  v1beta2.ApplicationStateSubmitted,
			given: func(*harness) {}, wantEvents: []string{sparkapplication.ReasonSubmitted},
			wantRequeue: 10 * time.Second,
		},

		// SUBMITTED
		{
			name: "SUBMITTED: driver running -> RUNNING, with the UI Service",
			app:  pi(), given: func(h *harness) { h.submitted(); util.RunDriver(h.t, h.c, ns, driver) },
			want: v1beta2.ApplicationStateRunning, wantEvents: []string{sparkapplication.ReasonDriverRunning},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !h.exists(&corev1.Service{}, "pi-ui-svc") || app.Status.DriverInfo.WebUIServiceName != "pi-ui-svc" {
					t.Errorf("UI Service: driverInfo %+v", app.Status.DriverInfo)
				}
				if util.Condition(app, v1beta2.ConditionRunning) != metav1.ConditionTrue {
					t.Errorf("conditions %+v", app.Status.Conditions)
				}
			},
		},
		{
			name: "SUBMITTED: InvalidImageName -> driver deleted, SUBMISSION_FAILED",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(1, 300),
			given: func(h *harness) {
				h.pendingWith("InvalidImageName")
			},
			want: v1beta2.ApplicationStateFailedSubmission, wantEvents: []string{sparkapplication.ReasonSubmissionFailed},
			wantRequeue: 300 * time.Second, // the submission retry interval
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !strings.Contains(app.Status.AppState.ErrorMessage, "InvalidImageName") || h.pod(driver) != nil {
					t.Errorf("message %q, driver %v", app.Status.AppState.ErrorMessage, h.pod(driver))
				}
			},
		},
		{
			name: "SUBMITTED: CreateContainerConfigError (missing secret) -> SUBMISSION_FAILED",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(1, 300),
			given: func(h *harness) {
				h.pendingWith("CreateContainerConfigError")
			},
			want: v1beta2.ApplicationStateFailedSubmission, wantEvents: []string{sparkapplication.ReasonSubmissionFailed},
			wantRequeue: 300 * time.Second,
		},
		{
			name:    "SUBMITTED: ErrImagePull for less than --image-pull-timeout: waits for the rest of it",
			app:     pi(),
			given:   func(h *harness) { h.pendingWith("ErrImagePull") },
			advance: 30 * time.Second,
			want:    v1beta2.ApplicationStateSubmitted, wantRequeue: 90 * time.Second, // 2m default
		},
		{
			name: "SUBMITTED: ErrImagePull for --image-pull-timeout -> driver deleted, SUBMISSION_FAILED",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(1, 300),
			given: func(h *harness) {
				h.pendingWith("ImagePullBackOff")
			},
			advance: 2 * time.Minute,
			want:    v1beta2.ApplicationStateFailedSubmission, wantEvents: []string{sparkapplication.ReasonSubmissionFailed},
			wantRequeue: 180 * time.Second, // 300 s after the submission, 120 s ago
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !strings.Contains(app.Status.AppState.ErrorMessage, "not pulled after 2m0s") || h.pod(driver) != nil {
					t.Errorf("message %q", app.Status.AppState.ErrorMessage)
				}
			},
		},
		{
			name:    "SUBMITTED: Pending within --driver-start-timeout: waits for the rest of it",
			app:     pi(),
			opts:    sparkapplication.Options{DriverStartTimeout: 10 * time.Minute},
			given:   func(h *harness) { h.submitted() },
			advance: 4 * time.Minute,
			want:    v1beta2.ApplicationStateSubmitted, wantRequeue: 6 * time.Minute,
		},
		{
			name: "SUBMITTED: Pending past --driver-start-timeout -> driver deleted, FAILING with the reason",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 20),
			opts: sparkapplication.Options{DriverStartTimeout: 10 * time.Minute},
			given: func(h *harness) {
				h.submitted()
				pod := h.pod(driver)
				pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Message: "0/3 nodes are available: 3 Insufficient cpu."}}
				if err := h.c.Status().Update(context.Background(), pod); err != nil {
					h.t.Fatal(err)
				}
			},
			advance: 10 * time.Minute,
			want:    v1beta2.ApplicationStateFailing, wantEvents: []string{sparkapplication.ReasonDriverTimeout},
			wantRequeue: 20 * time.Second, // onFailureRetryInterval x 1 attempt, from now
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "did not start within 10m0s") || !strings.Contains(msg, "Insufficient cpu") {
					t.Errorf("message %q", msg)
				}
				if h.pod(driver) != nil {
					t.Error("the driver pod is left")
				}
			},
		},
		{
			name: "SUBMITTED: no driver pod within the creation grace period: waits",
			app: pi().State(v1beta2.ApplicationStateSubmitted).SubmissionID("s1").DriverPodNameStatus(driver).
				Attempts(1, 1).LastSubmissionAttemptTime(metav1.NewTime(t0)),
			advance: 4 * time.Second,
			want:    v1beta2.ApplicationStateSubmitted, wantRequeue: 6 * time.Second,
		},
		{
			name: "SUBMITTED: no driver pod after the creation grace period -> FAILING (driver not found)",
			app: pi().State(v1beta2.ApplicationStateSubmitted).SubmissionID("s1").DriverPodNameStatus(driver).
				Attempts(1, 1).LastSubmissionAttemptTime(metav1.NewTime(t0)),
			advance: 10 * time.Second,
			// restartPolicy Never: FAILING -> FAILED in the same reconcile.
			want:       v1beta2.ApplicationStateFailed,
			wantEvents: []string{sparkapplication.ReasonDriverNotFound, sparkapplication.ReasonFailed},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !strings.Contains(app.Status.AppState.ErrorMessage, "driver pod pi-driver not found") {
					t.Errorf("message %q", app.Status.AppState.ErrorMessage)
				}
			},
		},

		// RUNNING
		{
			name: "RUNNING: exit 0 -> SUCCEEDING -> COMPLETED in one reconcile; UI Service deleted, driver released",
			app:  pi(), given: func(h *harness) { h.exited(0) },
			want:       v1beta2.ApplicationStateCompleted,
			wantEvents: []string{sparkapplication.ReasonDriverCompleted},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if h.exists(&corev1.Service{}, "pi-ui-svc") {
					t.Error("the UI Service is left")
				}
				if pod := h.pod(driver); pod == nil || slices.Contains(pod.Finalizers, sparkapplication.DriverFinalizer) {
					t.Errorf("driver pod %v: kept, without the finalizer", pod)
				}
				if app.Status.TerminationTime.IsZero() || util.Condition(app, v1beta2.ConditionSucceeded) != metav1.ConditionTrue {
					t.Errorf("status %+v", app.Status)
				}
			},
		},
		{
			name: "RUNNING: exit != 0 -> FAILING -> FAILED (Never) with the code and a hint",
			app:  pi(), given: func(h *harness) { h.exited(101) },
			want:       v1beta2.ApplicationStateFailed,
			wantEvents: []string{sparkapplication.ReasonDriverFailed, sparkapplication.ReasonFailed},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "driver container failed with ExitCode: 101") || !strings.Contains(msg, "spec.mainClass") {
					t.Errorf("message %q", msg)
				}
			},
		},
		{
			name:  "RUNNING: a UI Service the API server refuses is an event, never held against the application",
			app:   pi(),
			funcs: refuseCreate("pi-ui-svc", apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "pi-ui-svc", errors.New("exceeded quota: services"))),
			given: func(h *harness) { h.submitted(); util.RunDriver(h.t, h.c, ns, driver) },
			want:  v1beta2.ApplicationStateRunning, noRequeueCheck: true, noEventCheck: true,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if got := h.rec.Reasons(); len(got) < 2 || got[0] != sparkapplication.ReasonDriverRunning || !slices.Contains(got, sparkapplication.ReasonUIFailed) {
					t.Errorf("events %v", h.rec.Reasons())
				}
			},
		},
		{
			name: "RUNNING: tracks the executors of the attempt",
			app:  pi(),
			given: func(h *harness) {
				h.running()
				app := h.app()
				d := h.pod(driver)
				util.CreateExecutor(h.t, h.c, app, d, 1)
				util.CreateExecutor(h.t, h.c, app, d, 2)
				util.SetPodStatus(h.t, h.c, ns, "pi-exec-1", corev1.PodRunning, util.Running)
			},
			want: v1beta2.ApplicationStateRunning, noRequeueCheck: true,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				st := app.Status.ExecutorState
				if st["pi-exec-1"] != v1beta2.ExecutorStateRunning || st["pi-exec-2"] != v1beta2.ExecutorStatePending {
					t.Errorf("executorState %v", st)
				}
			},
		},

		// SUCCEEDING
		{
			name: "SUCCEEDING: restartPolicy Always -> PENDING_RERUN, attempts kept",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyAlways), given: func(h *harness) { h.exited(0) },
			want:        v1beta2.ApplicationStatePendingRerun,
			wantEvents:  []string{sparkapplication.ReasonDriverCompleted, sparkapplication.ReasonPendingRerun},
			wantRequeue: 5 * time.Second, // looks again for the old driver to be gone
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if app.Status.SubmissionAttempts != 1 || app.Status.ExecutionAttempts != 1 || app.Status.DriverInfo.PodName != "" {
					t.Errorf("status %+v", app.Status)
				}
			},
		},

		// FAILING
		{
			name: "FAILING: OnFailure with retries left waits onFailureRetryInterval x submissionAttempts from the end",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(3, 10),
			given: func(h *harness) {
				h.exited(1)
				h.step(v1beta2.ApplicationStateFailing)
			},
			advance: 4 * time.Second,
			want:    v1beta2.ApplicationStateFailing, wantRequeue: 6 * time.Second,
		},
		{
			name: "FAILING: the interval is a multiple of the submission attempts",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(5, 10).
				State(v1beta2.ApplicationStateFailing).Attempts(3, 3).TerminationTime(metav1.NewTime(t0)),
			want: v1beta2.ApplicationStateFailing, wantRequeue: 30 * time.Second,
		},
		{
			// The fake client deletes the released driver pod at once, so the next attempt is
			// submitted in the same reconcile (PENDING_RERUN -> SUBMITTED).
			name: "FAILING: after the interval -> driver stopped, PENDING_RERUN (-> SUBMITTED once it is gone)",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(3, 10),
			given: func(h *harness) {
				h.exited(1)
				h.step(v1beta2.ApplicationStateFailing)
			},
			advance:     10 * time.Second,
			want:        v1beta2.ApplicationStateSubmitted,
			wantEvents:  []string{sparkapplication.ReasonPendingRerun, sparkapplication.ReasonSubmitted},
			wantRequeue: 5 * time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if pod := h.pod(driver); pod == nil || pod.Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID || app.Status.SubmissionAttempts != 2 {
					t.Errorf("the driver of attempt 2: %v, status %+v", pod, app.Status)
				}
			},
		},
		{
			name: "FAILING: retries exhausted (executionAttempts > onFailureRetries) -> FAILED",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 10).
				State(v1beta2.ApplicationStateFailing).ErrorMessage("driver container exited with code 1").Attempts(2, 2).TerminationTime(metav1.NewTime(t0)),
			want: v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonFailed},
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				if app.Status.AppState.ErrorMessage != "driver container exited with code 1" {
					t.Errorf("message %q", app.Status.AppState.ErrorMessage)
				}
			},
		},
		{
			name: "FAILING: Always retries whatever the attempts",
			app: pi().RestartPolicy(v1beta2.RestartPolicyAlways).OnFailureRetries(0, 10).
				State(v1beta2.ApplicationStateFailing).Attempts(7, 7).TerminationTime(metav1.NewTime(t0)),
			advance:     70 * time.Second,
			want:        v1beta2.ApplicationStateSubmitted, // the old driver is gone: PENDING_RERUN -> SUBMITTED
			wantEvents:  []string{sparkapplication.ReasonPendingRerun, sparkapplication.ReasonSubmitted},
			wantRequeue: 10 * time.Second,
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				if app.Status.SubmissionAttempts != 8 || app.Status.ExecutionAttempts != 8 {
					t.Errorf("attempts %d/%d", app.Status.SubmissionAttempts, app.Status.ExecutionAttempts)
				}
			},
		},

		// SUBMISSION_FAILED
		{
			name: "SUBMISSION_FAILED: retries left: waits onSubmissionFailureRetryInterval x submissionAttempts",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(3, 10).
				State(v1beta2.ApplicationStateFailedSubmission).Attempts(2, 0).LastSubmissionAttemptTime(metav1.NewTime(t0)),
			advance: 5 * time.Second,
			want:    v1beta2.ApplicationStateFailedSubmission, wantRequeue: 15 * time.Second,
		},
		{
			name: "SUBMISSION_FAILED: after the interval: submits again",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(3, 10).
				State(v1beta2.ApplicationStateFailedSubmission).Attempts(2, 0).LastSubmissionAttemptTime(metav1.NewTime(t0)),
			advance:     20 * time.Second,
			want:        v1beta2.ApplicationStateSubmitted,
			wantEvents:  []string{sparkapplication.ReasonSubmitted},
			wantRequeue: 10 * time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if app.Status.SubmissionAttempts != 3 || h.pod(driver) == nil {
					t.Errorf("attempts %d", app.Status.SubmissionAttempts)
				}
			},
		},
		{
			name: "SUBMISSION_FAILED: retries exhausted -> FAILED",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(1, 10).
				State(v1beta2.ApplicationStateFailedSubmission).ErrorMessage("quota").Attempts(2, 0).LastSubmissionAttemptTime(metav1.NewTime(t0)),
			want: v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonFailed},
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				if !app.Status.TerminationTime.Time.Equal(t0) || app.Status.AppState.ErrorMessage != "quota" {
					t.Errorf("status %+v", app.Status)
				}
			},
		},

		// PENDING_RERUN, RESUMING
		{
			name: "PENDING_RERUN: the previous driver pod still there: deleted, waits",
			app:  pi().RestartPolicy(v1beta2.RestartPolicyAlways),
			given: func(h *harness) {
				h.exited(0)
				// A finalizer of someone else keeps the old driver pod while it terminates.
				pod := h.pod(driver)
				pod.Finalizers = append(pod.Finalizers, "example.com/keep")
				if err := h.c.Update(context.Background(), pod); err != nil {
					h.t.Fatal(err)
				}
				h.step(v1beta2.ApplicationStatePendingRerun)
			},
			want: v1beta2.ApplicationStatePendingRerun, wantRequeue: 5 * time.Second,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if pod := h.pod(driver); pod == nil || pod.DeletionTimestamp == nil {
					t.Errorf("old driver %v", pod)
				}
			},
		},
		{
			name:  "PENDING_RERUN: the previous driver pod gone -> submits the next attempt",
			app:   pi().RestartPolicy(v1beta2.RestartPolicyAlways),
			given: func(h *harness) { h.exited(0); h.step(v1beta2.ApplicationStatePendingRerun) },
			want:  v1beta2.ApplicationStateSubmitted, wantEvents: []string{sparkapplication.ReasonSubmitted}, wantRequeue: 10 * time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if app.Status.SubmissionAttempts != 2 || app.Status.ExecutionAttempts != 2 || h.pod(driver).Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID {
					t.Errorf("status %+v", app.Status)
				}
			},
		},

		// INVALIDATING
		{
			name: "INVALIDATING: a spec change of a running application -> stopped, counters reset, PENDING_RERUN",
			app:  pi(),
			given: func(h *harness) {
				h.running()
				h.updateSpec(func(a *v1beta2.SparkApplication) { a.Spec.Arguments = []string{"5000"} })
			},
			want:        v1beta2.ApplicationStatePendingRerun,
			wantEvents:  []string{sparkapplication.ReasonInvalidated, sparkapplication.ReasonPendingRerun},
			wantRequeue: 5 * time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if app.Status.SubmissionAttempts != 0 || app.Status.ExecutionAttempts != 0 || h.exists(&corev1.Service{}, "pi-ui-svc") {
					t.Errorf("status %+v", app.Status)
				}
				// Then, the old driver gone, it is submitted with the new spec.
				h.step(v1beta2.ApplicationStateSubmitted)
				app = h.app()
				if app.Status.SubmissionAttempts != 1 || app.Status.SubmittedSpecHash != sparkapplication.SpecHash(app) {
					t.Errorf("status %+v", app.Status)
				}
				if pod := h.pod(driver); !slices.Contains(pod.Spec.Containers[0].Args, "5000") {
					t.Errorf("driver args %v", pod.Spec.Containers[0].Args)
				}
			},
		},
		{
			name: "INVALIDATING: a FAILED application whose spec is fixed is submitted again",
			app:  pi(),
			given: func(h *harness) {
				h.exited(1)
				h.updateSpec(func(a *v1beta2.SparkApplication) { a.Spec.MainClass = ptr.To("org.apache.spark.examples.SparkPi2") })
			},
			want: v1beta2.ApplicationStatePendingRerun, wantEvents: []string{sparkapplication.ReasonInvalidated, sparkapplication.ReasonPendingRerun},
			noRequeueCheck: true,
		},
		{
			name: "INVALIDATING: the rerun annotation reruns a COMPLETED application",
			app:  pi(),
			given: func(h *harness) {
				h.exited(0)
				util.UpdateApp(h.t, h.c, ns, "pi", func(a *v1beta2.SparkApplication) {
					a.Annotations = map[string]string{v1beta2.AnnotationRerun: "again"}
				})
			},
			want: v1beta2.ApplicationStatePendingRerun, wantEvents: []string{sparkapplication.ReasonInvalidated, sparkapplication.ReasonPendingRerun},
			noRequeueCheck: true,
		},
		{
			name: "no INVALIDATING: changing only timeToLiveSeconds or suspend=false keeps the attempt",
			app:  pi(),
			given: func(h *harness) {
				h.running()
				h.updateSpec(func(a *v1beta2.SparkApplication) {
					a.Spec.TimeToLiveSeconds = ptr.To[int64](60)
					a.Spec.Suspend = ptr.To(false)
				})
				util.UpdateApp(h.t, h.c, ns, "pi", func(a *v1beta2.SparkApplication) { a.Generation++ })
			},
			want: v1beta2.ApplicationStateRunning, noRequeueCheck: true,
		},

		// SUSPENDING, SUSPENDED
		{
			name: "SUSPENDING: spec.suspend on a running application -> driver deleted; SUSPENDED once it is gone",
			app:  pi(),
			given: func(h *harness) {
				h.running()
				h.updateSpec(func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(true) })
			},
			want:        v1beta2.ApplicationStateSuspending,
			wantEvents:  []string{sparkapplication.ReasonSuspending},
			wantRequeue: 5 * time.Second,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				// The finalizer is released after the write: the pod is gone now.
				if h.pod(driver) != nil {
					t.Fatal("the driver pod is left")
				}
				h.rec.Reset()
				h.step(v1beta2.ApplicationStateSuspended)
				app := h.app()
				if !slices.Equal(h.rec.Reasons(), []string{sparkapplication.ReasonSuspended}) || util.Condition(app, v1beta2.ConditionSuspended) != metav1.ConditionTrue ||
					app.Status.DriverInfo.PodName != "" {
					t.Errorf("events %v, status %+v", h.rec.Reasons(), app.Status)
				}
			},
		},
		{
			name: "SUSPENDING: created suspended (Kueue): SUSPENDED without a submission",
			app:  pi().Suspend(true),
			want: v1beta2.ApplicationStateSuspended, wantEvents: []string{sparkapplication.ReasonSuspending, sparkapplication.ReasonSuspended},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if h.pod(driver) != nil || app.Status.SubmissionAttempts != 0 {
					t.Errorf("submitted while suspended: %+v", app.Status)
				}
			},
		},
		{
			name: "SUSPENDED: stays until spec.suspend is false",
			app:  pi().Suspend(true).State(v1beta2.ApplicationStateSuspended),
			want: v1beta2.ApplicationStateSuspended,
		},
		{
			name: "SUSPENDED: unsuspended -> RESUMING -> submits, with the spec as edited meanwhile",
			app:  pi().Suspend(true),
			given: func(h *harness) {
				h.step(v1beta2.ApplicationStateSuspended)
				h.updateSpec(func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(false); a.Spec.Arguments = []string{"7"} })
			},
			want:        v1beta2.ApplicationStateSubmitted,
			wantEvents:  []string{sparkapplication.ReasonResuming, sparkapplication.ReasonSubmitted},
			wantRequeue: 10 * time.Second,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if pod := h.pod(driver); !slices.Contains(pod.Spec.Containers[0].Args, "7") {
					t.Errorf("driver args %v", pod.Spec.Containers[0].Args)
				}
			},
		},

		// COMPLETED, FAILED
		{
			name:    "COMPLETED: kept until timeToLiveSeconds after terminationTime",
			app:     pi().TimeToLive(60).State(v1beta2.ApplicationStateCompleted).TerminationTime(metav1.NewTime(t0)),
			advance: 45 * time.Second,
			want:    v1beta2.ApplicationStateCompleted, wantRequeue: 15 * time.Second,
		},
		{
			name:    "COMPLETED: deleted timeToLiveSeconds after terminationTime",
			app:     pi().TimeToLive(60).State(v1beta2.ApplicationStateCompleted).TerminationTime(metav1.NewTime(t0)),
			advance: 60 * time.Second,
			want:    "(deleted)", wantEvents: []string{sparkapplication.ReasonTTLExpired},
		},
		{
			name:    "FAILED: deleted after --default-time-to-live-seconds without its own",
			app:     pi().State(v1beta2.ApplicationStateFailed).TerminationTime(metav1.NewTime(t0)),
			opts:    sparkapplication.Options{DefaultTimeToLive: time.Hour},
			advance: time.Hour,
			want:    "(deleted)", wantEvents: []string{sparkapplication.ReasonTTLExpired},
		},
		{
			// A reconcile that comes after the time to live has passed since the driver ended: the
			// terminal state is written first (what clients wait for), the deletion comes next.
			name: "RUNNING with timeToLiveSeconds: exit 0 seen late -> COMPLETED written, deleted by the next reconcile",
			app:  pi().TimeToLive(30),
			given: func(h *harness) {
				h.exited(0)
				h.clock.Step(time.Minute)
			},
			want: v1beta2.ApplicationStateCompleted, wantEvents: []string{sparkapplication.ReasonDriverCompleted}, wantRequeue: time.Millisecond,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if _, err := h.reconcile(); err != nil {
					t.Fatal(err)
				}
				if h.exists(&v1beta2.SparkApplication{}, "pi") {
					t.Error("the COMPLETED application outlived its time to live")
				}
			},
		},
		{
			name:    "SUBMITTED with timeToLiveSeconds: never deleted before it terminates",
			app:     pi().TimeToLive(2),
			given:   func(h *harness) { h.submitted() },
			advance: time.Hour,
			want:    v1beta2.ApplicationStateSubmitted,
		},
		{
			name:    "FAILED: kept without any time to live",
			app:     pi().State(v1beta2.ApplicationStateFailed).TerminationTime(metav1.NewTime(t0)),
			advance: 1000 * time.Hour,
			want:    v1beta2.ApplicationStateFailed,
		},
		{
			name: "COMPLETED: UI objects left behind are deleted and the driver released",
			app:  pi().State(v1beta2.ApplicationStateCompleted).TerminationTime(metav1.NewTime(t0)).SubmissionID("s1").DriverPodNameStatus(driver),
			objs: []client.Object{
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "pi-ui-svc", Namespace: ns, Labels: uiLabels()}},
				&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: driver, Namespace: ns, Finalizers: []string{sparkapplication.DriverFinalizer},
					Labels: map[string]string{v1beta2.LabelAppName: "pi", v1beta2.LabelSubmissionID: "s1"}}},
			},
			want: v1beta2.ApplicationStateCompleted,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if h.exists(&corev1.Service{}, "pi-ui-svc") {
					t.Error("the UI Service is left")
				}
				if pod := h.pod(driver); pod == nil || len(pod.Finalizers) != 0 {
					t.Errorf("driver %v", pod)
				}
			},
		},

		// UNKNOWN
		{
			name: "UNKNOWN: as SUBMITTED: a running driver -> RUNNING",
			app:  pi(),
			given: func(h *harness) {
				h.submitted()
				util.SetPodStatus(h.t, h.c, ns, driver, corev1.PodUnknown, util.ContainerState{})
				h.step(v1beta2.ApplicationStateUnknown)
				util.RunDriver(h.t, h.c, ns, driver)
			},
			want: v1beta2.ApplicationStateRunning, wantEvents: []string{sparkapplication.ReasonDriverRunning},
		},

		// The write and the cache.
		{
			name: "stale cache: a reconcile that reads the status it replaced waits, submitting nothing",
			app:  pi(),
			given: func(h *harness) {
				before := h.app()
				h.submitted()
				h.held = before
			},
			want: v1beta2.ApplicationStateSubmitted, wantRequeue: time.Second,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				// The cache caught up: the next reconcile runs normally.
				if _, err := h.reconcile(); err != nil || h.app().Status.SubmissionAttempts != 1 {
					t.Errorf("after the cache caught up: %v, status %+v", err, h.app().Status)
				}
			},
		},
		{
			name: "status write conflict: looks again in a second, records nothing",
			app:  pi(),
			funcs: func(*harness) interceptor.Funcs {
				return interceptor.Funcs{SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
					if _, ok := obj.(*v1beta2.SparkApplication); ok {
						return apierrors.NewConflict(schema.GroupResource{Resource: "sparkapplications"}, obj.GetName(), errors.New("the object has been modified"))
					}
					return c.SubResource(sub).Update(ctx, obj, opts...)
				}}
			},
			want: v1beta2.ApplicationStateNew, wantRequeue: time.Second,
		},
		{
			name: "deleted application: its driver pod is deleted and released",
			app:  pi().Finalizer("example.com/keep").State(v1beta2.ApplicationStateRunning).SubmissionID("s1").DriverPodNameStatus(driver),
			objs: []client.Object{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: driver, Namespace: ns, Finalizers: []string{sparkapplication.DriverFinalizer},
				Labels: map[string]string{v1beta2.LabelAppName: "pi", v1beta2.LabelSubmissionID: "s1", v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver}}}},
			given: func(h *harness) {
				if err := h.c.Delete(context.Background(), h.app()); err != nil {
					h.t.Fatal(err)
				}
			},
			want: v1beta2.ApplicationStateRunning,
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if pod := h.pod(driver); pod != nil {
					t.Errorf("driver pod left: finalizers %v", pod.Finalizers)
				}
			},
		},
	}
	runRows(t, rows)
}

// runRows runs each row as a subtest: given, the clock advanced, the reconcile under test, then
// its checks.
func runRows(t *testing.T, rows []smRow) {
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc)
			if tc.given != nil {
				tc.given(h)
			}
			h.clock.Step(tc.advance)
			h.rec.Reset()
			res, err := h.reconcile()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("reconcile: %v", err)
			}
			h.held = nil // the cache caught up
			app := &v1beta2.SparkApplication{}
			if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pi"}, app); apierrors.IsNotFound(err) {
				app.Status.AppState.State = "(deleted)"
			} else if err != nil {
				t.Fatal(err)
			}
			if got := app.Status.AppState.State; got != tc.want {
				t.Errorf("state %q (%s), want %q", got, app.Status.AppState.ErrorMessage, tc.want)
			}
			if got := h.rec.Reasons(); !tc.noEventCheck && !slices.Equal(got, tc.wantEvents) {
				t.Errorf("events %v, want %v", h.rec.Events(), tc.wantEvents)
			}
			if !tc.noRequeueCheck && res.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeue after %s, want %s", res.RequeueAfter, tc.wantRequeue)
			}
			if tc.check != nil && !t.Failed() {
				tc.check(t, h, app)
			}
		})
	}
}

// TestFakeClientIndex: the fake client of the tests indexes what the controller lists by.
func TestFakeClientIndex(t *testing.T) {
	if util.IndexAppName != sparkapplication.IndexAppName {
		t.Errorf("util.IndexAppName %q, the controller's %q", util.IndexAppName, sparkapplication.IndexAppName)
	}
}

// driverReady gives the driver pod a Ready condition with status, last changed at since.
func (h *harness) driverReady(status corev1.ConditionStatus, since time.Time) {
	h.t.Helper()
	util.UpdatePodStatus(h.t, h.c, ns, driver, func(pod *corev1.Pod) {
		pod.Status.Conditions = append(pod.Status.Conditions,
			corev1.PodCondition{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(since)})
	})
}

// disrupted submits and runs the driver, then ends it as the infrastructure would: its Spark
// container killed (exit 143, SIGTERM) and the pod Failed with a DisruptionTarget condition of
// reason (EvictionByEvictionAPI, PreemptionByScheduler, ...), or with only status.reason when
// reason is "Evicted" (the kubelet's node-pressure eviction).
func (h *harness) disrupted(reason string) {
	h.t.Helper()
	h.running()
	h.disrupt(reason, 143, "Error")
}

// disrupt ends the running driver as disrupted says, its Spark container terminated with code and
// containerReason.
func (h *harness) disrupt(reason string, code int32, containerReason string) {
	h.t.Helper()
	util.UpdatePodStatus(h.t, h.c, ns, driver, func(pod *corev1.Pod) {
		st := &pod.Status
		st.Phase = corev1.PodFailed
		st.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: containerReason, FinishedAt: metav1.NewTime(h.clock.Now())}}
		if reason == "Evicted" {
			st.Reason, st.Message = "Evicted", "The node was low on resource: memory."
			return
		}
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: reason, Message: "from the test"})
	})
}

// terminatingDriver is application pi's RUNNING status and its driver pod, running on node and
// Terminating since t0 (its finalizer keeps it), with conds: the fake client stamps a deletion with
// the wall clock, so the rows about time since deletion store the pod as it is.
func terminatingDriver(node string, conds ...corev1.PodCondition) (*wrappers.SparkApplicationWrapper, *corev1.Pod) {
	app := pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(0, 10).
		State(v1beta2.ApplicationStateRunning).SubmissionID("s1").DriverPodNameStatus(driver).Attempts(1, 1).LastSubmissionAttemptTime(metav1.NewTime(t0))
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: driver, Namespace: ns, Finalizers: []string{sparkapplication.DriverFinalizer},
			DeletionTimestamp: ptr.To(metav1.NewTime(t0)), CreationTimestamp: metav1.NewTime(t0),
			Labels: map[string]string{v1beta2.LabelAppName: "pi", v1beta2.LabelSubmissionID: "s1", v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: conds, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "spark-kubernetes-driver", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}}}},
	}
	return app, pod
}

// infraCondition checks the InfrastructureFailure condition of app.
func infraCondition(t *testing.T, app *v1beta2.SparkApplication, status metav1.ConditionStatus, reason, message string) {
	t.Helper()
	c := meta.FindStatusCondition(app.Status.Conditions, v1beta2.ConditionInfrastructureFailure)
	if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, message) {
		t.Errorf("InfrastructureFailure condition %+v, want %s %s with %q", c, status, reason, message)
	}
}

// readyNode is a Node whose Ready condition is status since since.
func readyNode(name string, status corev1.ConditionStatus, since time.Time) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: status, Reason: "NodeStatusUnknown", LastTransitionTime: metav1.NewTime(since)}}}}
}

// TestStateMachineInfrastructure runs the rows of docs/state-machine.md about infrastructure
// failures (infrastructure.go), drivers stuck Terminating (stuck.go) and the driver ready and
// executor start timeouts (timeouts.go).
func TestStateMachineInfrastructure(t *testing.T) {
	onFailure := func() *wrappers.SparkApplicationWrapper {
		return pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(0, 10)
	}
	rows := []smRow{
		{
			name: "RUNNING: evicted (Eviction API) -> FAILING, restarted without consuming a retry (onFailureRetries 0)",
			app:  onFailure(), given: func(h *harness) { h.disrupted("EvictionByEvictionAPI") },
			want: v1beta2.ApplicationStateFailing, wantEvents: []string{sparkapplication.ReasonInfrastructureFailure},
			wantRequeue: 10 * time.Second, // the usual retry interval
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				infraCondition(t, app, metav1.ConditionTrue, "Evicted", "restarted without consuming a retry (infrastructure restart 1 of at most 5)")
				if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "was evicted (EvictionByEvictionAPI") || app.Status.InfrastructureRestarts != 1 {
					t.Errorf("message %q, status %+v", msg, app.Status)
				}
				if e := h.rec.Events(); len(e) != 1 || e[0].Type != corev1.EventTypeWarning {
					t.Errorf("events %v", e)
				}
			},
		},
		{
			name: "FAILING after an infrastructure failure: after the interval -> PENDING_RERUN -> SUBMITTED; the condition goes",
			app:  onFailure(),
			given: func(h *harness) {
				h.disrupted("PreemptionByScheduler")
				h.step(v1beta2.ApplicationStateFailing)
			},
			advance:    10 * time.Second,
			want:       v1beta2.ApplicationStateSubmitted,
			wantEvents: []string{sparkapplication.ReasonPendingRerun, sparkapplication.ReasonSubmitted}, wantRequeue: 5 * time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				st := app.Status
				if st.SubmissionAttempts != 2 || st.ExecutionAttempts != 2 || st.InfrastructureRestarts != 1 ||
					meta.FindStatusCondition(st.Conditions, v1beta2.ConditionInfrastructureFailure) != nil {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name: "FAILING: an application failure after an infrastructure restart still has its retry",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 10).
				State(v1beta2.ApplicationStateFailing).Attempts(2, 2).InfrastructureRestarts(1).TerminationTime(metav1.NewTime(t0)),
			want: v1beta2.ApplicationStateFailing, wantRequeue: 20 * time.Second,
		},
		{
			name: "FAILING: ... and the one after that has none",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 10).
				State(v1beta2.ApplicationStateFailing).Attempts(3, 3).InfrastructureRestarts(1).TerminationTime(metav1.NewTime(t0)),
			want: v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonFailed},
		},
		{
			name: "SUBMISSION_FAILED: infrastructure restarts do not consume onSubmissionFailureRetries",
			app: pi().RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(1, 10).
				State(v1beta2.ApplicationStateFailedSubmission).Attempts(2, 1).InfrastructureRestarts(1).LastSubmissionAttemptTime(metav1.NewTime(t0)),
			want: v1beta2.ApplicationStateFailedSubmission, wantRequeue: 20 * time.Second,
		},
		{
			name: "RUNNING: evicted with restartPolicy Never -> FAILED, the condition False saying so",
			app:  pi(), given: func(h *harness) { h.disrupted("EvictionByEvictionAPI") },
			want:       v1beta2.ApplicationStateFailed,
			wantEvents: []string{sparkapplication.ReasonInfrastructureFailure, sparkapplication.ReasonFailed},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				infraCondition(t, app, metav1.ConditionFalse, "Evicted", "not restarted: restartPolicy is Never")
				if !strings.Contains(app.Status.AppState.ErrorMessage, "was evicted") || app.Status.InfrastructureRestarts != 0 {
					t.Errorf("status %+v", app.Status)
				}
			},
		},
		{
			name:  "RUNNING: evicted by the kubelet (status.reason Evicted), Always -> FAILING, restarted",
			app:   pi().RestartPolicy(v1beta2.RestartPolicyAlways).OnFailureRetries(0, 10),
			given: func(h *harness) { h.disrupted("Evicted") },
			want:  v1beta2.ApplicationStateFailing, wantEvents: []string{sparkapplication.ReasonInfrastructureFailure}, wantRequeue: 10 * time.Second,
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				infraCondition(t, app, metav1.ConditionTrue, "Evicted", "The node was low on resource: memory.")
			},
		},
		{
			name: "RUNNING: lost with its node (pod garbage collection) -> FAILING, restarted",
			app:  onFailure(), given: func(h *harness) { h.disrupted("DeletionByPodGC") },
			want: v1beta2.ApplicationStateFailing, wantEvents: []string{sparkapplication.ReasonInfrastructureFailure}, wantRequeue: 10 * time.Second,
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				infraCondition(t, app, metav1.ConditionTrue, "PodGarbageCollected", "lost with its node")
			},
		},
		{
			name: "RUNNING: taint manager, kubelet shutdown: infrastructure too",
			app:  onFailure(), given: func(h *harness) { h.disrupted("TerminationByKubelet") },
			want: v1beta2.ApplicationStateFailing, wantEvents: []string{sparkapplication.ReasonInfrastructureFailure}, wantRequeue: 10 * time.Second,
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				infraCondition(t, app, metav1.ConditionTrue, "TerminatedByKubelet", "stopped by its node's kubelet")
			},
		},
		{
			name: "RUNNING: OOMKilled, whoever evicted it after -> an application failure",
			app:  onFailure(),
			given: func(h *harness) {
				h.running()
				h.disrupt("TerminationByKubelet", 137, "OOMKilled")
			},
			want: v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonDriverFailed, sparkapplication.ReasonFailed},
		},
		{
			name: "RUNNING: an unknown DisruptionTarget reason -> an application failure",
			app:  onFailure(), given: func(h *harness) { h.disrupted("SomethingNew") },
			want: v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonDriverFailed, sparkapplication.ReasonFailed},
		},
		{
			name: "RUNNING: exit 0 before the eviction took effect -> COMPLETED",
			app:  onFailure(),
			given: func(h *harness) {
				h.running()
				h.disrupt("EvictionByEvictionAPI", 0, "Completed")
			},
			want: v1beta2.ApplicationStateCompleted, wantEvents: []string{sparkapplication.ReasonDriverCompleted},
		},
		{
			// The fake client deletes the released pod at once, so the retry interval is all that
			// stands between the second eviction and the restart.
			name: "RUNNING: evicted past the bound on infrastructure restarts -> counted as a failure",
			app:  onFailure(),
			opts: sparkapplication.Options{MaxInfrastructureRestarts: 1},
			given: func(h *harness) {
				h.disrupted("EvictionByEvictionAPI")
				h.step(v1beta2.ApplicationStateFailing)
				h.clock.Step(10 * time.Second)
				h.step(v1beta2.ApplicationStateSubmitted)
				util.RunDriver(h.t, h.c, ns, driver)
				h.step(v1beta2.ApplicationStateRunning)
				h.disrupt("EvictionByEvictionAPI", 143, "Error")
			},
			want:       v1beta2.ApplicationStateFailed,
			wantEvents: []string{sparkapplication.ReasonInfrastructureFailure, sparkapplication.ReasonFailed},
			check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
				infraCondition(t, app, metav1.ConditionFalse, "Evicted", "counted as a failure: the application was already restarted 1 times")
			},
		},

		// Stuck Terminating
		func() smRow {
			app, pod := terminatingDriver("gone")
			return smRow{
				name: "RUNNING: Terminating on a node that is gone, within the bound: waits for the rest of it",
				app:  app, objs: []client.Object{pod}, advance: time.Minute,
				want: v1beta2.ApplicationStateRunning, wantRequeue: time.Minute,
			}
		}(),
		func() smRow {
			app, pod := terminatingDriver("gone", corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByTaintManager"})
			return smRow{
				name: "RUNNING: Terminating on a node that is gone past the bound -> force-deleted, FAILING (node lost), restarted",
				app:  app, objs: []client.Object{pod}, advance: 2 * time.Minute,
				want:       v1beta2.ApplicationStateFailing,
				wantEvents: []string{sparkapplication.ReasonDriverForceDeleted, sparkapplication.ReasonInfrastructureFailure}, wantRequeue: 10 * time.Second,
				check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
					infraCondition(t, app, metav1.ConditionTrue, "NodeLost", "its node gone no longer exists")
					if e := h.rec.Events(); !strings.Contains(e[0].Note, "force-deleted it (grace period 0)") {
						t.Errorf("event %v", e[0])
					}
					if h.pod(driver) != nil {
						t.Error("the driver pod is left")
					}
				},
			}
		}(),
		func() smRow {
			app, pod := terminatingDriver("gone")
			return smRow{
				name: "RUNNING: Terminating, nodes not readable (namespaced Roles): never force-deleted, no error",
				app:  app, objs: []client.Object{pod}, advance: time.Hour,
				funcs: func(*harness) interceptor.Funcs {
					return interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
						if _, ok := obj.(*corev1.Node); ok {
							return apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, key.Name, errors.New("no cluster role"))
						}
						return c.Get(ctx, key, obj, opts...)
					}}
				},
				want: v1beta2.ApplicationStateRunning, wantRequeue: 2 * time.Minute,
			}
		}(),
		func() smRow {
			app, pod := terminatingDriver("n1")
			return smRow{
				name: "RUNNING: Terminating on a Ready node: never force-deleted",
				app:  app, objs: []client.Object{pod, readyNode("n1", corev1.ConditionTrue, t0)}, advance: time.Hour,
				want: v1beta2.ApplicationStateRunning, wantRequeue: 2 * time.Minute,
			}
		}(),
		func() smRow {
			app, pod := terminatingDriver("n1")
			return smRow{
				name: "RUNNING: Terminating on a node NotReady: the bound runs from when it stopped being Ready",
				app:  app, objs: []client.Object{pod, readyNode("n1", corev1.ConditionUnknown, t0.Add(time.Minute))}, advance: 2 * time.Minute,
				want: v1beta2.ApplicationStateRunning, wantRequeue: time.Minute,
			}
		}(),
		func() smRow {
			app, pod := terminatingDriver("n1")
			return smRow{
				name: "RUNNING: Terminating on a node NotReady past the bound -> force-deleted, FAILING",
				app:  app, objs: []client.Object{pod, readyNode("n1", corev1.ConditionUnknown, t0.Add(time.Minute))}, advance: 3 * time.Minute,
				want:       v1beta2.ApplicationStateFailing,
				wantEvents: []string{sparkapplication.ReasonDriverForceDeleted, sparkapplication.ReasonInfrastructureFailure}, wantRequeue: 10 * time.Second,
				check: func(t *testing.T, _ *harness, app *v1beta2.SparkApplication) {
					infraCondition(t, app, metav1.ConditionTrue, "NodeLost", "its node n1 is not Ready (NodeStatusUnknown since")
				},
			}
		}(),
		{
			name: "PENDING_RERUN: the previous driver stuck Terminating on a node that is gone -> force-deleted, then submitted",
			app:  onFailure().State(v1beta2.ApplicationStatePendingRerun).Attempts(1, 1).SubmissionID("old"),
			objs: []client.Object{&corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: driver, Namespace: ns, Finalizers: []string{sparkapplication.DriverFinalizer},
					DeletionTimestamp: ptr.To(metav1.NewTime(t0.Add(-time.Hour))),
					Labels:            map[string]string{v1beta2.LabelAppName: "pi", v1beta2.LabelSubmissionID: "old"}},
				Spec: corev1.PodSpec{NodeName: "gone", Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark"}}},
			}},
			// The pod's deletion event brings the application back; the fake client has deleted it
			// once its finalizer was released.
			want: v1beta2.ApplicationStatePendingRerun, wantEvents: []string{sparkapplication.ReasonDriverForceDeleted},
			check: func(t *testing.T, h *harness, _ *v1beta2.SparkApplication) {
				if h.pod(driver) != nil {
					t.Error("the old driver pod is left")
				}
				h.step(v1beta2.ApplicationStateSubmitted)
			},
		},

		// Driver ready and executor start timeouts
		{
			name:    "RUNNING: driver not Ready within driver-ready-timeout: waits for the rest of it",
			app:     onFailure().Annotation(v1beta2.AnnotationDriverReadyTimeout, "5m"),
			given:   func(h *harness) { h.running() },
			advance: 3 * time.Minute,
			want:    v1beta2.ApplicationStateRunning, wantRequeue: 2 * time.Minute,
		},
		{
			name:    "RUNNING: driver not Ready past driver-ready-timeout -> driver deleted, FAILING",
			app:     onFailure().Annotation(v1beta2.AnnotationDriverReadyTimeout, "5m"),
			given:   func(h *harness) { h.running() },
			advance: 5 * time.Minute,
			want:    v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonDriverReadyTimeout, sparkapplication.ReasonFailed},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "was not ready within 5m0s (annotation "+v1beta2.AnnotationDriverReadyTimeout) || h.pod(driver) != nil {
					t.Errorf("message %q, driver %v", msg, h.pod(driver))
				}
			},
		},
		{
			name: "RUNNING: driver Ready since before the deadline: no timeout",
			app:  onFailure().Annotation(v1beta2.AnnotationDriverReadyTimeout, "5m"),
			given: func(h *harness) {
				h.running()
				h.driverReady(corev1.ConditionTrue, t0)
			},
			advance: time.Hour,
			want:    v1beta2.ApplicationStateRunning,
		},
		{
			name: "RUNNING: driver Ready after the deadline, not Ready now: it did become ready",
			app:  onFailure().Annotation(v1beta2.AnnotationDriverReadyTimeout, "5m"),
			given: func(h *harness) {
				h.running()
				h.driverReady(corev1.ConditionFalse, t0.Add(time.Hour))
			},
			advance: 2 * time.Hour,
			want:    v1beta2.ApplicationStateRunning,
		},
		{
			name: "RUNNING: no executor started within executor-start-timeout -> driver deleted, FAILING",
			app:  onFailure().Annotation(v1beta2.AnnotationExecutorStartTimeout, "5m"),
			given: func(h *harness) {
				h.running()
				util.CreateExecutor(h.t, h.c, h.app(), h.pod(driver), 1)
			},
			advance: 5 * time.Minute,
			want:    v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonExecutorStartTimeout, sparkapplication.ReasonFailed},
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "no executor of driver pi-driver started within 5m0s") || !strings.Contains(msg, "1 executor pods pending") {
					t.Errorf("message %q", msg)
				}
			},
		},
		{
			name: "RUNNING: an executor ran: no executor start timeout",
			app:  onFailure().Annotation(v1beta2.AnnotationExecutorStartTimeout, "5m"),
			given: func(h *harness) {
				h.running()
				util.CreateExecutor(h.t, h.c, h.app(), h.pod(driver), 1)
				util.SetPodStatus(h.t, h.c, ns, "pi-exec-1", corev1.PodRunning, util.Running)
			},
			advance: time.Hour,
			want:    v1beta2.ApplicationStateRunning,
		},
		{
			name: "RUNNING: within executor-start-timeout: waits for the rest of it",
			app:  onFailure().Annotation(v1beta2.AnnotationExecutorStartTimeout, "5m"),
			given: func(h *harness) {
				h.running()
			},
			advance: time.Minute,
			want:    v1beta2.ApplicationStateRunning, wantRequeue: 4 * time.Minute,
		},
		{
			name: `"": a timeout annotation that is not a duration -> SUBMISSION_FAILED naming it`,
			app:  pi().Annotation(v1beta2.AnnotationExecutorStartTimeout, "soon"),
			want: v1beta2.ApplicationStateFailed, wantEvents: []string{sparkapplication.ReasonSubmissionFailed, sparkapplication.ReasonFailed},
			wantRequeue: time.Second,
			check: func(t *testing.T, h *harness, app *v1beta2.SparkApplication) {
				if !strings.Contains(app.Status.AppState.ErrorMessage, v1beta2.AnnotationExecutorStartTimeout) || h.pod(driver) != nil {
					t.Errorf("message %q", app.Status.AppState.ErrorMessage)
				}
			},
		},
	}
	runRows(t, rows)
}
