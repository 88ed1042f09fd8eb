package main

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

func TestKindMix(t *testing.T) {
	counts := map[kind]int{}
	for i := range 20 {
		counts[kindOf(i)]++
	}
	if counts[kindComplete] != 10 || counts[kindFailRetry] != 4 || counts[kindSuspend] != 3 || counts[kindDelete] != 3 {
		t.Errorf("mix %v", counts)
	}
}

func TestCheckFindsEachViolation(t *testing.T) {
	o := &options{runDuration: 5 * time.Second, slack: 30 * time.Second, recoveryBound: 90 * time.Second}
	t0 := time.Now().Add(-10 * time.Minute)
	hist := func(states ...any) []stateAt {
		var h []stateAt
		for i := 0; i < len(states); i += 2 {
			h = append(h, stateAt{states[i].(v1beta2.ApplicationStateType), t0.Add(states[i+1].(time.Duration))})
		}
		return h
	}
	app := func(state v1beta2.ApplicationStateType, attempts int32, msg string) v1beta2.SparkApplication {
		a := v1beta2.SparkApplication{}
		a.Status.AppState.State, a.Status.AppState.ErrorMessage, a.Status.ExecutionAttempts = state, msg, attempts
		return a
	}
	done := hist(v1beta2.ApplicationStateNew, time.Duration(0), v1beta2.ApplicationStateCompleted, 10*time.Second)
	tracks := map[string]appTrack{
		"ns/ok":        {kind: kindComplete, created: true, history: done},
		"ns/lost":      {kind: kindComplete, created: true, history: done},
		"ns/open":      {kind: kindComplete, created: true, history: hist(v1beta2.ApplicationStateRunning, time.Duration(0))},
		"ns/double":    {kind: kindComplete, created: true, history: done, doubleDriver: true, livePods: map[types.UID]bool{}},
		"ns/attempts":  {kind: kindFailRetry, created: true, history: done},
		"ns/retried":   {kind: kindFailRetry, created: true, history: done, disruptions: 1},
		"ns/falsely":   {kind: kindComplete, created: true, history: done},
		"ns/explained": {kind: kindComplete, created: true, history: done, disruptions: 1},
		"ns/stuck":     {kind: kindComplete, created: true, history: hist(v1beta2.ApplicationStateNew, time.Duration(0), v1beta2.ApplicationStateSubmitted, 2*time.Minute, v1beta2.ApplicationStateCompleted, 2*time.Minute+30*time.Second)},
		"ns/fast":      {kind: kindComplete, created: true, history: hist(v1beta2.ApplicationStateNew, 10*time.Second, v1beta2.ApplicationStateCompleted, 20*time.Second)},
		"ns/deleted":   {kind: kindDelete, created: true, deleted: true, gone: true, history: done},
		"ns/undeleted": {kind: kindDelete, created: true, deleted: true, history: done},
	}
	apps := map[string]v1beta2.SparkApplication{
		"ns/ok":        app(v1beta2.ApplicationStateCompleted, 1, ""),
		"ns/open":      app(v1beta2.ApplicationStateRunning, 1, ""),
		"ns/double":    app(v1beta2.ApplicationStateCompleted, 1, ""),
		"ns/attempts":  app(v1beta2.ApplicationStateFailed, 4, ""),
		"ns/retried":   app(v1beta2.ApplicationStateFailed, 4, ""),
		"ns/falsely":   app(v1beta2.ApplicationStateFailed, 1, "connection refused"),
		"ns/explained": app(v1beta2.ApplicationStateFailed, 1, "driver pod deleted"),
		"ns/stuck":     app(v1beta2.ApplicationStateCompleted, 1, ""),
		"ns/fast":      app(v1beta2.ApplicationStateCompleted, 1, ""),
		"ns/undeleted": app(v1beta2.ApplicationStateRunning, 1, ""),
	}
	r := check(o, tracks, apps, nil, nil)
	for name, got := range map[string][]string{
		"lost": r.lost, "never terminal": r.neverTerminal, "not deleted": r.notDeleted, "double": r.doubleDriver,
		"attempts": r.tooManyAttempts, "falsely": r.falselyFailed, "stuck": r.stuck,
	} {
		if len(got) != 1 {
			t.Errorf("%s: %v, want one", name, got)
		}
	}
	if !strings.HasPrefix(r.lost[0], "ns/lost") || !strings.HasPrefix(r.falselyFailed[0], "ns/falsely") ||
		!strings.HasPrefix(r.tooManyAttempts[0], "ns/attempts") || !strings.HasPrefix(r.stuck[0], "ns/stuck") {
		t.Errorf("wrong applications: %+v", r)
	}
	if r.violations() == "" {
		t.Error("no violations reported")
	}
	// A fault active meanwhile explains the time; so does a backlog worked through in order.
	both := map[string]appTrack{"ns/stuck": tracks["ns/stuck"], "ns/fast": tracks["ns/fast"]}
	bothApps := map[string]v1beta2.SparkApplication{"ns/stuck": apps["ns/stuck"], "ns/fast": apps["ns/fast"]}
	r = check(o, both, bothApps, []*fault{{kind: faultEtcd, start: t0.Add(10 * time.Second), end: t0.Add(20 * time.Second), recovered: t0.Add(100 * time.Second)}}, nil)
	if len(r.stuck) != 0 || r.violations() != "" {
		t.Errorf("a wait explained by a fault reported: %v %q", r.stuck, r.violations())
	}
	r = check(o, map[string]appTrack{"ns/stuck": tracks["ns/stuck"]}, bothApps, nil, nil)
	if len(r.stuck) != 0 {
		t.Errorf("a backlog reported as stuck: %v", r.stuck)
	}
}
