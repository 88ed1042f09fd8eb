package controller_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestWritesPerLifecycle counts what a plain successful application costs the API server on the
// operator's side (issue 20): at most one status write per state it reaches (SUBMITTED, RUNNING,
// COMPLETED; SUCCEEDING passes within the reconcile that reaches COMPLETED), exactly the three
// Events Kubeflow v2.5 writes for the same lifecycle (SparkApplicationSubmitted, SparkDriverRunning,
// SparkDriverCompleted), and the submission's objects: the driver pod and one ConfigMap, no driver
// Service (plus the UI Service and its deletion), and one PATCH releasing the driver finalizer.
func TestWritesPerLifecycle(t *testing.T) {
	ns := env.ParallelNamespace(t)
	cfg, writes := util.CountWrites(env.Config)
	opts := defaultOptions().Options
	operatortest.Run(t, operatortest.NewManager(t, cfg, env.Scheme, []string{ns}, nil), operatortest.Controllers{SparkApplication: &opts})

	util.CreateRunning(t, env.Client, wrappers.MakeSparkApplication("pi", ns).Obj())
	util.FinishDriver(t, env.Client, ns, "pi-driver", 0)
	util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateCompleted)
	framework.WaitFor(t, 30*time.Second, "the driver finalizer released", func() (bool, string) {
		pod := util.GetPod(t, env.Client, ns, "pi-driver")
		return len(pod.Finalizers) == 0, fmt.Sprint(pod.Finalizers)
	})
	want := []string{sparkapplication.ReasonSubmitted, sparkapplication.ReasonDriverRunning, sparkapplication.ReasonDriverCompleted}
	framework.WaitFor(t, 30*time.Second, "Kubeflow's three events", func() (bool, string) {
		got := util.EventReasons(t, env.Client, ns, "pi")
		return slices.Equal(got, want), fmt.Sprint(got)
	})
	// Anything written late (an extra status write, a fourth event) would land within this pause;
	// it is not a timed assertion: a slow machine only makes the check less strict.
	time.Sleep(2 * time.Second)
	if got := util.EventReasons(t, env.Client, ns, "pi"); !slices.Equal(got, want) {
		t.Errorf("events %v; want exactly %v", got, want)
	}
	counts := writes.Counts()
	t.Logf("the operator's writes: %v", counts)
	for key, max := range map[string]int{
		"PUT sparkapplications/status": 3, // SUBMITTED, RUNNING, COMPLETED
		"POST events":                  3,
		"POST pods":                    1,
		"POST configmaps":              1,
		"POST services":                1, // the UI Service (no driver Service by default)
		"PATCH pods":                   1, // the driver finalizer's release, once
	} {
		if counts[key] > max {
			t.Errorf("%s: %d writes; want at most %d", key, counts[key], max)
		}
	}
	if counts["POST configmaps"] != 1 || counts["POST pods"] != 1 {
		t.Errorf("one driver pod and one ConfigMap expected: %v", counts)
	}
}
