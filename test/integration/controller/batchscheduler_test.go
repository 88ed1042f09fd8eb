package controller_test

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"

	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/batchscheduler/kubernetes"
	"github.com/sparkop/spark-operator/internal/batchscheduler/volcano"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// withBatchScheduler starts the operator of defaultOptions with batch scheduling on, for s alone.
func withBatchScheduler(s batchscheduler.Scheduler) func(t *testing.T, ns string) {
	return func(t *testing.T, ns string) {
		t.Helper()
		registry, err := batchscheduler.NewRegistry("", s)
		if err != nil {
			t.Fatal(err)
		}
		opts := defaultOptions()
		opts.BatchSchedulers = registry
		startOperator(t, ns, opts)
	}
}

// TestBatchSchedulerCRDMissing: this suite's API server has no Volcano CRDs. With batch scheduling
// on, an application for Volcano fails its submission saying what to install, and the others run:
// the operator itself needs no scheduler CRD (the other tests run it with batch scheduling off).
func TestBatchSchedulerCRDMissing(t *testing.T) {
	ns := env.ParallelNamespace(t, withBatchScheduler(volcano.Scheduler{}))
	util.Create(t, env.Client, wrappers.MakeSparkApplication("gang", ns).BatchScheduler("volcano").Obj())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("plain", ns).Obj())
	app := util.WaitForState(t, env.Client, ns, "gang", v1beta2.ApplicationStateFailed)
	if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "does not serve PodGroup scheduling.volcano.sh/v1beta1") {
		t.Errorf("error message = %q", msg)
	}
	util.WaitForState(t, env.Client, ns, "plain", v1beta2.ApplicationStateSubmitted)
}

// TestBatchSchedulerKubernetesNotServed: this suite's API server has the scheduling.k8s.io/v1alpha2
// API off (its feature gates are alpha). An application for the "kubernetes" scheduler fails its
// submission saying which gates and runtime-config the cluster needs; one whose
// batchSchedulerOptions the scheduler cannot honour fails naming the field.
func TestBatchSchedulerKubernetesNotServed(t *testing.T) {
	ns := env.ParallelNamespace(t, withBatchScheduler(kubernetes.Scheduler{}))
	util.Create(t, env.Client, wrappers.MakeSparkApplication("gang", ns).BatchScheduler(kubernetes.Name).Obj())
	queued := wrappers.MakeSparkApplication("queued", ns).BatchScheduler(kubernetes.Name).Obj()
	queued.Spec.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Queue: ptr.To("team-a")}
	util.Create(t, env.Client, queued)
	app := util.WaitForState(t, env.Client, ns, "gang", v1beta2.ApplicationStateFailed)
	for _, want := range []string{"does not serve Workload scheduling.k8s.io/v1alpha2", "GenericWorkload=true", "--runtime-config=scheduling.k8s.io/v1alpha2=true", "GangScheduling=true"} {
		if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, want) {
			t.Errorf("error message = %q, want it to contain %q", msg, want)
		}
	}
	app = util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateFailed)
	if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "spec.batchSchedulerOptions.queue") {
		t.Errorf("error message = %q, want it to name spec.batchSchedulerOptions.queue", msg)
	}
}
