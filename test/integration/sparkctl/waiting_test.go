package sparkctl_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestStatusWaiting: `sparkctl status` of an application whose driver a scheduler holds says so,
// with the scheduler, the queue and its last message.
func TestStatusWaiting(t *testing.T) {
	ns := env.ParallelNamespace(t, startOperator)
	app := wrappers.MakeSparkApplication("queued", ns).BatchScheduler("volcano").Obj()
	app.Spec.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Queue: wrappers.Ptr("etl")}
	util.Create(t, env.Client, app)
	util.WaitForState(t, env.Client, ns, "queued", v1beta2.ApplicationStateSubmitted)
	util.HoldPod(t, env.Client, ns, "queued-driver", "queue etl is over its capability")
	util.WaitForCondition(t, env.Client, ns, "queued", v1beta2.ConditionDriverScheduled, metav1.ConditionFalse)
	out := sparkctlOK(t, ns, "status", "queued")
	mustContain(t, "status", out, "State:", "SUBMITTED", "Waiting:", "driver pod queued-driver waits for scheduler volcano, queue etl: queue etl is over its capability")
}
