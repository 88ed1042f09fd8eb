// Package scheduled_test runs the ScheduledSparkApplication controller against a real kube-apiserver
// and etcd. Only the scheduled controller runs, so runs stay unfinished until a test marks them
// COMPLETED or FAILED, as the SparkApplication controller would.
package scheduled_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/scheduledsparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme), framework.WithLogger(logr.Discard()))
}

// parallelWithOperator marks t parallel and returns a new namespace with the scheduled controller
// running for it until t ends: how most tests of the suite begin.
func parallelWithOperator(t *testing.T) string {
	t.Helper()
	return env.ParallelNamespace(t, func(t *testing.T, ns string) { startOperator(t, ns) })
}

// startOperator runs the scheduled controller for namespace ns until the test ends, or until the
// returned stop is called.
func startOperator(t *testing.T, ns string) (stop func()) {
	t.Helper()
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	return operatortest.Run(t, mgr, operatortest.Controllers{ScheduledSparkApplication: &scheduledsparkapplication.Options{}})
}

func runs(t *testing.T, ns, name string) []v1beta2.SparkApplication {
	t.Helper()
	list := &v1beta2.SparkApplicationList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelScheduledAppName: name}); err != nil {
		t.Fatal(err)
	}
	items := slices.DeleteFunc(list.Items, func(a v1beta2.SparkApplication) bool { return a.DeletionTimestamp != nil })
	slices.SortFunc(items, func(a, b v1beta2.SparkApplication) int { return strings.Compare(a.Name, b.Name) })
	return items
}

func names(apps []v1beta2.SparkApplication) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Name+"("+string(a.Status.AppState.State)+")")
	}
	return out
}

func waitForRuns(t *testing.T, ns, name string, atLeast int) []v1beta2.SparkApplication {
	t.Helper()
	var got []v1beta2.SparkApplication
	framework.WaitFor(t, 20*time.Second, fmt.Sprintf("%d runs of %s", atLeast, name), func() (bool, string) {
		got = runs(t, ns, name)
		return len(got) >= atLeast, fmt.Sprint(names(got))
	})
	return got
}

// finish marks a run terminal, as the SparkApplication controller would.
func finish(t *testing.T, app *v1beta2.SparkApplication, state v1beta2.ApplicationStateType) {
	t.Helper()
	app.Status.AppState.State = state
	app.Status.TerminationTime = metav1.Now()
	if err := env.Client.Status().Update(context.Background(), app); err != nil {
		t.Fatal(err)
	}
}

// TestAllow: runs start on schedule beside unfinished ones, named from their scheduled time, labelled
// and owned, with the status recording them.
func TestAllow(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("tick", ns).Schedule("@every 2s").Label("team", "data").Obj())
	got := waitForRuns(t, ns, "tick", 2)
	ssa := util.GetScheduledApp(t, env.Client, ns, "tick")
	for _, run := range got {
		if run.Labels[v1beta2.LabelScheduledAppName] != "tick" || run.Labels["team"] != "data" || !metav1.IsControlledBy(&run, ssa) ||
			!strings.HasPrefix(run.Name, "tick-") || run.Annotations[v1beta2.AnnotationScheduledTime] == "" {
			t.Errorf("run %s: labels %v, owners %v, annotations %v", run.Name, run.Labels, run.OwnerReferences, run.Annotations)
		}
		if run.Spec.MainApplicationFile == nil || *run.Spec.MainApplicationFile != wrappers.DefaultMainFile {
			t.Errorf("run %s does not carry the template", run.Name)
		}
	}
	if ssa.Status.ScheduleState != v1beta2.ScheduleStateScheduled || ssa.Status.LastRunName == "" || ssa.Status.LastRun.IsZero() || ssa.Status.NextRun.IsZero() {
		t.Errorf("status: %+v", ssa.Status)
	}
}

// TestForbid: a run due while the previous one is unfinished waits, and starts once it finishes.
func TestForbid(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("one-at-a-time", ns).Schedule("@every 2s").ConcurrencyPolicy(v1beta2.ConcurrencyForbid).Obj())
	first := waitForRuns(t, ns, "one-at-a-time", 1)[0]
	time.Sleep(5 * time.Second)
	if got := runs(t, ns, "one-at-a-time"); len(got) != 1 {
		t.Fatalf("Forbid started %v while %s was unfinished", names(got), first.Name)
	}
	if reason := util.GetScheduledApp(t, env.Client, ns, "one-at-a-time").Status.Reason; !strings.Contains(reason, "Forbid") {
		t.Errorf("status reason %q does not say the run waits", reason)
	}
	finish(t, &first, v1beta2.ApplicationStateCompleted)
	waitForRuns(t, ns, "one-at-a-time", 2)
}

// TestReplace: a run due while the previous one is unfinished replaces it.
func TestReplace(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("newest", ns).Schedule("@every 2s").ConcurrencyPolicy(v1beta2.ConcurrencyReplace).Obj())
	first := waitForRuns(t, ns, "newest", 1)[0]
	framework.WaitFor(t, 20*time.Second, "the first run to be replaced", func() (bool, string) {
		got := runs(t, ns, "newest")
		return len(got) >= 1 && !slices.ContainsFunc(got, func(a v1beta2.SparkApplication) bool { return a.Name == first.Name }), fmt.Sprint(names(got))
	})
}

// TestSuspend: a suspended schedule starts nothing; unsuspending it starts runs again.
func TestSuspend(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("paused", ns).Schedule("@every 1s").Suspend(true).Obj())
	time.Sleep(4 * time.Second)
	if got := runs(t, ns, "paused"); len(got) != 0 {
		t.Fatalf("a suspended schedule started %v", names(got))
	}
	if st := util.GetScheduledApp(t, env.Client, ns, "paused").Status; !st.NextRun.IsZero() || !strings.Contains(st.Reason, "suspended") {
		t.Errorf("suspended status: %+v", st)
	}
	util.UpdateScheduledApp(t, env.Client, ns, "paused", func(s *v1beta2.ScheduledSparkApplication) { s.Spec.Suspend = ptr.To(false) })
	waitForRuns(t, ns, "paused", 1)
}

// TestScheduleEdit: editing the schedule recomputes nextRun at once.
func TestScheduleEdit(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("edited", ns).Schedule("@every 1h").Obj())
	framework.WaitFor(t, 10*time.Second, "nextRun in an hour", func() (bool, string) {
		next := util.GetScheduledApp(t, env.Client, ns, "edited").Status.NextRun.Time
		return time.Until(next) > 50*time.Minute, next.String()
	})
	util.UpdateScheduledApp(t, env.Client, ns, "edited", func(s *v1beta2.ScheduledSparkApplication) { s.Spec.Schedule = "@every 2s" })
	framework.WaitFor(t, 10*time.Second, "nextRun within seconds", func() (bool, string) {
		next := util.GetScheduledApp(t, env.Client, ns, "edited").Status.NextRun.Time
		return time.Until(next) < 10*time.Second, next.String()
	})
	waitForRuns(t, ns, "edited", 1)
}

// TestInvalidScheduleRecovers: a schedule the admission pattern cannot catch (a minute of 61, an
// unknown time zone) is reported with the reason, and the object recovers as soon as it is fixed
// (Kubeflow's FailedValidation is terminal).
func TestInvalidScheduleRecovers(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("typo", ns).Schedule("61 * * * *").Obj())
	framework.WaitFor(t, 10*time.Second, "FailedValidation", func() (bool, string) {
		st := util.GetScheduledApp(t, env.Client, ns, "typo").Status
		return st.ScheduleState == v1beta2.ScheduleStateFailedValidation && strings.Contains(st.Reason, "spec.schedule"), fmt.Sprint(st.ScheduleState, st.Reason)
	})
	util.UpdateScheduledApp(t, env.Client, ns, "typo", func(s *v1beta2.ScheduledSparkApplication) {
		s.Spec.Schedule = "@every 2s"
		s.Spec.TimeZone = "Mars/Olympus"
	})
	framework.WaitFor(t, 10*time.Second, "a time zone error", func() (bool, string) {
		st := util.GetScheduledApp(t, env.Client, ns, "typo").Status
		return st.ScheduleState == v1beta2.ScheduleStateFailedValidation && strings.Contains(st.Reason, "spec.timeZone"), st.Reason
	})
	util.UpdateScheduledApp(t, env.Client, ns, "typo", func(s *v1beta2.ScheduledSparkApplication) { s.Spec.TimeZone = "Europe/Paris" })
	framework.WaitFor(t, 10*time.Second, "Scheduled", func() (bool, string) {
		ssa := util.GetScheduledApp(t, env.Client, ns, "typo")
		valid := meta.IsStatusConditionTrue(ssa.Status.Conditions, v1beta2.ConditionScheduleValid)
		return ssa.Status.ScheduleState == v1beta2.ScheduleStateScheduled && valid, fmt.Sprint(ssa.Status.ScheduleState, ssa.Status.Reason)
	})
	waitForRuns(t, ns, "typo", 1)
}

// TestHistoryLimits: finished runs beyond the limits are deleted, oldest first; unfinished runs are
// never deleted.
func TestHistoryLimits(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("history", ns).Schedule("@every 1s").HistoryLimits(1, 2).Obj())
	got := waitForRuns(t, ns, "history", 6)
	// Three succeed, one fails twice over, the rest stay unfinished.
	finish(t, &got[0], v1beta2.ApplicationStateCompleted)
	finish(t, &got[1], v1beta2.ApplicationStateFailed)
	finish(t, &got[2], v1beta2.ApplicationStateCompleted)
	finish(t, &got[3], v1beta2.ApplicationStateFailed)
	finish(t, &got[4], v1beta2.ApplicationStateCompleted)
	framework.WaitFor(t, 20*time.Second, "history within limits", func() (bool, string) {
		var done, failed int
		for _, a := range runs(t, ns, "history") {
			switch a.Status.AppState.State {
			case v1beta2.ApplicationStateCompleted:
				done++
			case v1beta2.ApplicationStateFailed:
				failed++
			}
		}
		st := util.GetScheduledApp(t, env.Client, ns, "history").Status
		return done == 1 && failed == 2 && len(st.PastSuccessfulRunNames) == 1 && st.PastSuccessfulRunNames[0] == got[4].Name &&
			len(st.PastFailedRunNames) == 2, fmt.Sprint(done, failed, st.PastSuccessfulRunNames, st.PastFailedRunNames)
	})
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(&got[5]), &v1beta2.SparkApplication{}); err != nil {
		t.Errorf("the unfinished run %s was deleted by the history limits: %v", got[5].Name, err)
	}
}

// TestManualTrigger: each trigger token starts exactly one run, whatever the schedule says.
func TestManualTrigger(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("yearly", ns).Schedule("0 0 1 1 *").Obj())
	time.Sleep(time.Second)
	if got := runs(t, ns, "yearly"); len(got) != 0 {
		t.Fatalf("unexpected runs %v", names(got))
	}
	trigger := func(token string) {
		util.UpdateScheduledApp(t, env.Client, ns, "yearly", func(s *v1beta2.ScheduledSparkApplication) {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			s.Annotations[v1beta2.AnnotationTriggerRun] = token
		})
	}
	trigger("first")
	waitForRuns(t, ns, "yearly", 1)
	// The same token again (any other annotation change re-reconciles) starts nothing more.
	util.UpdateScheduledApp(t, env.Client, ns, "yearly", func(s *v1beta2.ScheduledSparkApplication) { s.Annotations["unrelated"] = "x" })
	time.Sleep(2 * time.Second)
	if got := runs(t, ns, "yearly"); len(got) != 1 {
		t.Fatalf("one token started %v", names(got))
	}
	if st := util.GetScheduledApp(t, env.Client, ns, "yearly").Status; st.LastTriggerToken != "first" || !strings.Contains(st.LastRunName, "-manual-") {
		t.Errorf("status: %+v", st)
	}
	trigger("second")
	waitForRuns(t, ns, "yearly", 2)
}

// TestMissedRunsNoBurst: when the controller was down for many scheduled times, it starts only the
// most recent one and says how many were missed (CronJob semantics); with a starting deadline that
// time has passed, it starts none.
func TestMissedRunsNoBurst(t *testing.T) {
	ns := env.ParallelNamespace(t)
	for _, tc := range []struct {
		name     string
		deadline *int64
		wantRuns int
		reason   string
	}{
		{"catch-up", nil, 1, "started only the latest"},
		{"too-late", ptr.To[int64](0), 0, "startingDeadlineSeconds"},
	} {
		deadline := tc.deadline
		util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication(tc.name, ns).Schedule("* * * * *").
			Spec(func(s *v1beta2.ScheduledSparkApplicationSpec) { s.StartingDeadlineSeconds = deadline }).Obj())
		// The controller last scheduled a run 10 minutes ago, then was down.
		ssa := util.GetScheduledApp(t, env.Client, ns, tc.name)
		ssa.Status.LastScheduleTime = metav1.NewTime(time.Now().Add(-10 * time.Minute).Truncate(time.Minute))
		if err := env.Client.Status().Update(context.Background(), ssa); err != nil {
			t.Fatal(err)
		}
	}
	startOperator(t, ns)
	for _, tc := range []struct {
		name     string
		wantRuns int
		reason   string
	}{{"catch-up", 1, "started only the latest"}, {"too-late", 0, "startingDeadlineSeconds"}} {
		framework.WaitFor(t, 10*time.Second, tc.name+" to report the missed runs", func() (bool, string) {
			st := util.GetScheduledApp(t, env.Client, ns, tc.name).Status
			return strings.Contains(st.Reason, tc.reason), st.Reason
		})
		time.Sleep(500 * time.Millisecond)
		if got := runs(t, ns, tc.name); len(got) != tc.wantRuns {
			t.Errorf("%s: %d runs %v, want %d", tc.name, len(got), names(got), tc.wantRuns)
		}
	}
}

// TestLongNameRuns: a 63-character ScheduledSparkApplication gets valid, distinct run names.
func TestLongNameRuns(t *testing.T) {
	ns := parallelWithOperator(t)
	name := "a" + strings.Repeat("b", 61) + "c"
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication(name, ns).Schedule("@every 2s").Obj())
	got := waitForRuns(t, ns, name, 2)
	for _, r := range got {
		if len(r.Name) > 63 {
			t.Errorf("run name %q is longer than 63 characters", r.Name)
		}
	}
	if got[0].Name == got[1].Name {
		t.Error("run names collide")
	}
}

// TestControllerRestart: a controller stopped and replaced in the middle of a schedule starts no
// scheduled time twice and does not burst: the new one picks up from the recorded last schedule time.
func TestControllerRestart(t *testing.T) {
	ns := env.ParallelNamespace(t)
	stop := startOperator(t, ns)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("steady", ns).Schedule("@every 2s").Obj())
	waitForRuns(t, ns, "steady", 1)
	stop()
	time.Sleep(5 * time.Second) // two scheduled times pass while no controller runs
	before := len(runs(t, ns, "steady"))
	startOperator(t, ns)
	waitForRuns(t, ns, "steady", before+1)
	time.Sleep(1500 * time.Millisecond)
	got := runs(t, ns, "steady")
	if len(got) > before+2 {
		t.Errorf("after the restart %d runs appeared at once (%v): a burst", len(got)-before, names(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		at := r.Annotations[v1beta2.AnnotationScheduledTime]
		if seen[at] {
			t.Errorf("two runs for the scheduled time %s: %v", at, names(got))
		}
		seen[at] = true
	}
}
