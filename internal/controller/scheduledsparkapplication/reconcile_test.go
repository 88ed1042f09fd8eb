package scheduledsparkapplication_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
	ssactrl "github.com/sparkop/spark-operator/internal/controller/scheduledsparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// The ScheduledSparkApplication controller, one reconcile at a time, against controller-runtime's
// fake client and a fake clock: schedules, missed runs, concurrency policies, suspension, manual
// triggers and the run history.

const ns = "jobs"

// t0 is when "nightly" was created and the fake clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// runName is the name of the run scheduled at t.
func runName(t time.Time) string { return "nightly-" + strconv.FormatInt(t.Unix(), 10) }

// manualName is the name of the run started by trigger token.
func manualName(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "nightly-manual-" + hex.EncodeToString(sum[:4])
}

// nightly is the ScheduledSparkApplication of the rows, created at t0, running at every minute.
func nightly() *wrappers.ScheduledSparkApplicationWrapper {
	w := wrappers.MakeScheduledSparkApplication("nightly", ns).Schedule("* * * * *").TimeZone("UTC").Label("team", "data")
	w.UID = "uid-nightly"
	w.Generation = 1
	w.CreationTimestamp = metav1.NewTime(t0)
	return w
}

// kubeflowScheduled is nightly as Kubeflow's controller leaves it: it started a run at lastRun
// (named nightly-kubeflow) and planned the next at nextRun; no lastScheduleTime, no observedGeneration.
func kubeflowScheduled(lastRun, nextRun time.Time) *wrappers.ScheduledSparkApplicationWrapper {
	w := nightly()
	w.Status = v1beta2.ScheduledSparkApplicationStatus{
		LastRun: metav1.NewTime(lastRun), NextRun: metav1.NewTime(nextRun), LastRunName: "nightly-kubeflow",
		ScheduleState: v1beta2.ScheduleStateScheduled,
	}
	return w
}

// run is a run of nightly scheduled at t, in state st ("" for unfinished).
func run(t time.Time, st v1beta2.ApplicationStateType) *v1beta2.SparkApplication {
	app := wrappers.MakeSparkApplication(runName(t), ns).Label(v1beta2.LabelScheduledAppName, "nightly").
		Annotation(v1beta2.AnnotationScheduledTime, t.UTC().Format(time.RFC3339)).
		OwnerReference(metav1.OwnerReference{APIVersion: v1beta2.GroupVersion.String(), Kind: "ScheduledSparkApplication",
			Name: "nightly", UID: "uid-nightly", Controller: ptr.To(true)}).
		State(st).Obj()
	app.CreationTimestamp = metav1.NewTime(t)
	return app
}

type ssaRow struct {
	name  string
	ssa   *wrappers.ScheduledSparkApplicationWrapper
	objs  []client.Object
	funcs interceptor.Funcs
	// given runs before the reconcile under test (earlier reconciles, edits).
	given func(h *ssaHarness)
	// advance moves the clock before the reconcile under test.
	advance time.Duration
	// wantErr is a substring of the reconcile's error.
	wantErr string
	// wantRuns are the names of the runs afterwards, sorted.
	wantRuns []string
	// wantEvents are the reasons the reconcile records, in order.
	wantEvents  []string
	wantRequeue time.Duration
	check       func(t *testing.T, h *ssaHarness, ssa *v1beta2.ScheduledSparkApplication)
}

type ssaHarness struct {
	t     *testing.T
	c     client.WithWatch
	clock *clocktesting.FakeClock
	rec   *util.Recorder
	r     *ssactrl.Reconciler
}

func (h *ssaHarness) reconcile() (ctrl.Result, error) {
	return h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "nightly"}})
}

// step reconciles after d, failing the test on error.
func (h *ssaHarness) step(d time.Duration) {
	h.t.Helper()
	h.clock.Step(d)
	if _, err := h.reconcile(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *ssaHarness) runs() []string {
	h.t.Helper()
	list := &v1beta2.SparkApplicationList{}
	if err := h.c.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, a := range list.Items {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	return names
}

// finish marks run name terminal, as the SparkApplication controller would.
func (h *ssaHarness) finish(name string, st v1beta2.ApplicationStateType) {
	h.t.Helper()
	app := util.GetApp(h.t, h.c, ns, name)
	app.Status.AppState.State = st
	if err := h.c.Status().Update(context.Background(), app); err != nil {
		h.t.Fatal(err)
	}
}

var errUnavailable = apierrors.NewServiceUnavailable("etcd is restarting")

func TestReconcile(t *testing.T) {
	m := time.Minute
	rows := []ssaRow{
		{
			name:     "before the first scheduled time: no run, nextRun set, looks again then",
			ssa:      nightly(),
			advance:  20 * time.Second,
			wantRuns: nil, wantRequeue: 40 * time.Second,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				st := ssa.Status
				if !st.NextRun.Time.Equal(t0.Add(m)) || st.ScheduleState != v1beta2.ScheduleStateScheduled ||
					!meta.IsStatusConditionTrue(st.Conditions, v1beta2.ConditionScheduleValid) || st.ObservedGeneration != 1 {
					t.Errorf("status %+v", st)
				}
			},
		},
		{
			name:     "at the scheduled time: one run from the template, named from the time, labelled and owned",
			ssa:      nightly(),
			advance:  m,
			wantRuns: []string{runName(t0.Add(m))}, wantEvents: []string{ssactrl.ReasonRunStarted}, wantRequeue: m,
			check: func(t *testing.T, h *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				r := util.GetApp(t, h.c, ns, runName(t0.Add(m)))
				if r.Labels["team"] != "data" || r.Labels[v1beta2.LabelScheduledAppName] != "nightly" || !metav1.IsControlledBy(r, ssa) ||
					r.Annotations[v1beta2.AnnotationScheduledTime] != t0.Add(m).Format(time.RFC3339) || r.Spec.MainClass == nil {
					t.Errorf("run %+v", r.ObjectMeta)
				}
				if ssa.Status.LastRunName != r.Name || !ssa.Status.LastScheduleTime.Time.Equal(t0.Add(m)) || !ssa.Status.NextRun.Time.Equal(t0.Add(2*m)) {
					t.Errorf("status %+v", ssa.Status)
				}
			},
		},
		{
			name:     "@every: nextRun counts from the creation, not from the reconcile",
			ssa:      nightly().Schedule("@every 4m"),
			advance:  90 * time.Second,
			wantRuns: nil, wantRequeue: 150 * time.Second,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !ssa.Status.NextRun.Time.Equal(t0.Add(4 * m)) {
					t.Errorf("nextRun %s, want %s", ssa.Status.NextRun, t0.Add(4*m))
				}
			},
		},
		{
			name:     "taken over from Kubeflow (lastRun, no lastScheduleTime nor observedGeneration): its last run is not started again",
			ssa:      kubeflowScheduled(t0.Add(2*m+3*time.Second), t0.Add(3*m)),
			advance:  2*m + 30*time.Second,
			wantRuns: nil, wantRequeue: 30 * time.Second,
			check: func(t *testing.T, h *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !ssa.Status.NextRun.Time.Equal(t0.Add(3*m)) || ssa.Status.LastRunName != "nightly-kubeflow" {
					t.Errorf("status %+v", ssa.Status)
				}
				h.step(30 * time.Second)
				if got := h.runs(); !slices.Equal(got, []string{runName(t0.Add(3 * m))}) {
					t.Errorf("runs at Kubeflow's nextRun: %v", got)
				}
			},
		},
		{
			name:     "missed runs: only the latest starts, the status says how many were missed",
			ssa:      nightly(),
			advance:  5*m + 30*time.Second,
			wantRuns: []string{runName(t0.Add(5 * m))}, wantEvents: []string{ssactrl.ReasonRunStarted, ssactrl.ReasonMissedSchedule},
			wantRequeue: 30 * time.Second,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !strings.Contains(ssa.Status.Reason, "missed 4 scheduled runs") {
					t.Errorf("reason %q", ssa.Status.Reason)
				}
			},
		},
		{
			name:     "startingDeadlineSeconds passed: no run, MissedSchedule",
			ssa:      nightly().StartingDeadlineSeconds(10),
			advance:  m + 20*time.Second,
			wantRuns: nil, wantEvents: []string{ssactrl.ReasonMissedSchedule}, wantRequeue: 40 * time.Second,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !strings.Contains(ssa.Status.Reason, "startingDeadlineSeconds (10s)") || !ssa.Status.LastScheduleTime.Time.Equal(t0.Add(m)) {
					t.Errorf("status %+v", ssa.Status)
				}
			},
		},
		{
			name:     "Allow: a run starts beside an unfinished one",
			ssa:      nightly(),
			given:    func(h *ssaHarness) { h.step(m) },
			advance:  m,
			wantRuns: []string{runName(t0.Add(m)), runName(t0.Add(2 * m))}, wantEvents: []string{ssactrl.ReasonRunStarted}, wantRequeue: m,
		},
		{
			name:     "Forbid: the due run waits for the unfinished one, said once",
			ssa:      nightly().ConcurrencyPolicy(v1beta2.ConcurrencyForbid),
			given:    func(h *ssaHarness) { h.step(m); h.step(m) },
			advance:  10 * time.Second,
			wantRuns: []string{runName(t0.Add(m))}, wantEvents: nil, wantRequeue: 50 * time.Second,
			check: func(t *testing.T, h *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !strings.Contains(ssa.Status.Reason, "waits for "+runName(t0.Add(m))) {
					t.Errorf("reason %q", ssa.Status.Reason)
				}
				// Once the run finishes, the most recent due time starts.
				h.finish(runName(t0.Add(m)), v1beta2.ApplicationStateCompleted)
				h.step(0)
				if got := h.runs(); !slices.Equal(got, []string{runName(t0.Add(m)), runName(t0.Add(2 * m))}) {
					t.Errorf("runs after the first finished: %v", got)
				}
			},
		},
		{
			name:     "Forbid: the first reconcile that holds a run back records why",
			ssa:      nightly().ConcurrencyPolicy(v1beta2.ConcurrencyForbid),
			given:    func(h *ssaHarness) { h.step(m) },
			advance:  m,
			wantRuns: []string{runName(t0.Add(m))}, wantEvents: []string{ssactrl.ReasonRunWaiting}, wantRequeue: m,
		},
		{
			name:     "Replace: the unfinished run is deleted and the due one started",
			ssa:      nightly().ConcurrencyPolicy(v1beta2.ConcurrencyReplace),
			given:    func(h *ssaHarness) { h.step(m) },
			advance:  m,
			wantRuns: []string{runName(t0.Add(2 * m))}, wantEvents: []string{ssactrl.ReasonRunReplaced, ssactrl.ReasonRunStarted}, wantRequeue: m,
		},
		{
			name:     "suspended: no runs, no nextRun, the reason says so",
			ssa:      nightly().Suspend(true),
			advance:  10 * m,
			wantRuns: nil,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !ssa.Status.NextRun.IsZero() || !strings.Contains(ssa.Status.Reason, "suspended") {
					t.Errorf("status %+v", ssa.Status)
				}
			},
		},
		{
			name: "resumed: the reason is cleared and the latest due run starts",
			ssa:  nightly().Suspend(true),
			given: func(h *ssaHarness) {
				h.step(90 * time.Second)
				util.UpdateScheduledApp(h.t, h.c, ns, "nightly", func(s *v1beta2.ScheduledSparkApplication) { s.Spec.Suspend = ptr.To(false) })
			},
			wantRuns: []string{runName(t0.Add(m))}, wantEvents: []string{ssactrl.ReasonRunStarted}, wantRequeue: 30 * time.Second,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if ssa.Status.Reason != "" {
					t.Errorf("reason %q", ssa.Status.Reason)
				}
			},
		},
		{
			name: "manual trigger: one run per new token, even while suspended",
			ssa:  nightly().Suspend(true),
			given: func(h *ssaHarness) {
				util.UpdateScheduledApp(h.t, h.c, ns, "nightly", func(s *v1beta2.ScheduledSparkApplication) {
					s.Annotations = map[string]string{v1beta2.AnnotationTriggerRun: "now-please"}
				})
			},
			wantRuns: []string{manualName("now-please")}, wantEvents: []string{ssactrl.ReasonManualRun},
			check: func(t *testing.T, h *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if ssa.Status.LastTriggerToken != "now-please" || ssa.Status.LastRunName != manualName("now-please") {
					t.Fatalf("status %+v", ssa.Status)
				}
				h.rec.Reset()
				h.step(m)
				if got := h.runs(); len(got) != 1 || len(h.rec.Reasons()) != 0 {
					t.Errorf("the same token started again: %v, events %v", got, h.rec.Reasons())
				}
			},
		},
		{
			name: "history: finished runs beyond the limits are deleted, newest kept; unfinished never",
			ssa:  nightly().HistoryLimits(1, 2).Suspend(true),
			objs: []client.Object{
				run(t0.Add(-5*m), v1beta2.ApplicationStateCompleted), run(t0.Add(-4*m), v1beta2.ApplicationStateCompleted),
				run(t0.Add(-3*m), v1beta2.ApplicationStateFailed), run(t0.Add(-2*m), v1beta2.ApplicationStateFailed),
				run(t0.Add(-90*time.Second), v1beta2.ApplicationStateFailed), run(t0.Add(-m), ""),
			},
			wantRuns:   []string{runName(t0.Add(-4 * m)), runName(t0.Add(-2 * m)), runName(t0.Add(-90 * time.Second)), runName(t0.Add(-m))},
			wantEvents: []string{ssactrl.ReasonRunDeleted, ssactrl.ReasonRunDeleted},
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if !slices.Equal(ssa.Status.PastSuccessfulRunNames, []string{runName(t0.Add(-4 * m))}) ||
					!slices.Equal(ssa.Status.PastFailedRunNames, []string{runName(t0.Add(-90 * time.Second)), runName(t0.Add(-2 * m))}) {
					t.Errorf("status %+v", ssa.Status)
				}
			},
		},
		{
			name:       "invalid schedule: FailedValidation with the reason, said once",
			ssa:        nightly().Schedule("61 * * * *"),
			given:      func(h *ssaHarness) { h.step(0) },
			wantEvents: nil,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if ssa.Status.ScheduleState != v1beta2.ScheduleStateFailedValidation || !strings.Contains(ssa.Status.Reason, "spec.schedule") ||
					meta.IsStatusConditionTrue(ssa.Status.Conditions, v1beta2.ConditionScheduleValid) {
					t.Errorf("status %+v", ssa.Status)
				}
			},
		},
		{
			name:       "invalid schedule: the first reconcile records it",
			ssa:        nightly().TimeZone("Mars/Olympus"),
			wantEvents: []string{ssactrl.ReasonInvalidSchedule},
		},
		{
			name: "fixed schedule: Scheduled again, the reason cleared",
			ssa:  nightly().Schedule("61 * * * *"),
			given: func(h *ssaHarness) {
				h.step(0)
				util.UpdateScheduledApp(h.t, h.c, ns, "nightly", func(s *v1beta2.ScheduledSparkApplication) { s.Spec.Schedule = "* * * * *" })
			},
			wantRequeue: m,
			check: func(t *testing.T, _ *ssaHarness, ssa *v1beta2.ScheduledSparkApplication) {
				if ssa.Status.ScheduleState != v1beta2.ScheduleStateScheduled || ssa.Status.Reason != "" {
					t.Errorf("status %+v", ssa.Status)
				}
			},
		},
		{
			name:     "a run an earlier reconcile created is left as it is",
			ssa:      nightly(),
			objs:     []client.Object{run(t0.Add(m), v1beta2.ApplicationStateRunning)},
			advance:  m,
			wantRuns: []string{runName(t0.Add(m))}, wantEvents: []string{ssactrl.ReasonRunStarted}, wantRequeue: m,
			check: func(t *testing.T, h *ssaHarness, _ *v1beta2.ScheduledSparkApplication) {
				if st := util.GetApp(t, h.c, ns, runName(t0.Add(m))).Status.AppState.State; st != v1beta2.ApplicationStateRunning {
					t.Errorf("the existing run was replaced: state %q", st)
				}
			},
		},
		{
			name: "creating the run fails: an error (retried), nothing recorded",
			ssa:  nightly(),
			funcs: interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				return errUnavailable
			}},
			advance: m,
			wantErr: "etcd is restarting",
		},
		{
			name: "status write conflict: looks again in a second",
			ssa:  nightly(),
			funcs: interceptor.Funcs{SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				return apierrors.NewConflict(schema.GroupResource{Resource: "scheduledsparkapplications"}, obj.GetName(), errors.New("modified"))
			}},
			wantRequeue: time.Second,
		},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			h := &ssaHarness{t: t, clock: clocktesting.NewFakeClock(t0), rec: &util.Recorder{}}
			h.c = util.NewFakeClient(h.clock, tc.funcs, append([]client.Object{tc.ssa.Obj()}, tc.objs...)...)
			h.r = ssactrl.NewReconciler(h.c, h.rec, h.clock, ssactrl.Options{})
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
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := h.runs(); !slices.Equal(got, tc.wantRuns) {
				t.Errorf("runs %v, want %v", got, tc.wantRuns)
			}
			if got := h.rec.Reasons(); !slices.Equal(got, tc.wantEvents) {
				t.Errorf("events %v, want %v", h.rec.Events(), tc.wantEvents)
			}
			if res.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeue after %s, want %s", res.RequeueAfter, tc.wantRequeue)
			}
			if tc.check != nil && !t.Failed() {
				tc.check(t, h, util.GetScheduledApp(t, h.c, ns, "nightly"))
			}
		})
	}
}
