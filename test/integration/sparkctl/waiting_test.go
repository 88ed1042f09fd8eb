package sparkctl_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
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
	pod := util.WaitForPod(t, env.Client, ns, "queued-driver")
	pod.Status.Phase = corev1.PodPending
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "queue etl is over its capability", LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, 20*time.Second, "the DriverScheduled condition", func() (bool, string) {
		c := meta.FindStatusCondition(util.GetApp(t, env.Client, ns, "queued").Status.Conditions, v1beta2.ConditionDriverScheduled)
		return c != nil && c.Status == metav1.ConditionFalse, ""
	})
	out := sparkctlOK(t, ns, "status", "queued")
	mustContain(t, "status", out, "State:", "SUBMITTED", "Waiting:", "driver pod queued-driver waits for scheduler volcano, queue etl: queue etl is over its capability")
}
