package pdbquota_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// podQuota creates (or updates) a ResourceQuota allowing n pods in ns and waits until the quota
// controller has filled in its status (admission refuses pods until then).
func podQuota(t *testing.T, ns, name string, n int) {
	t.Helper()
	ctx := context.Background()
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	hard := corev1.ResourceList{corev1.ResourcePods: resource.MustParse(fmt.Sprint(n))}
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(rq), rq)
	switch {
	case apierrors.IsNotFound(err):
		rq.Spec.Hard = hard
		util.Create(t, env.Client, rq)
	case err != nil:
		t.Fatal(err)
	default:
		rq.Spec.Hard = hard
		if err := env.Client.Update(ctx, rq); err != nil {
			t.Fatal(err)
		}
	}
	framework.WaitFor(t, 60*time.Second, "the quota controller to fill in "+name, func() (bool, string) {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(rq), rq); err != nil {
			return false, err.Error()
		}
		h := rq.Status.Hard[corev1.ResourcePods]
		return h.Value() == int64(n), fmt.Sprintf("%+v", rq.Status)
	})
}

// TestExecutorQuotaReported: without the webhook, a running application whose executors a
// ResourceQuota refuses (the API server answers the driver 403) says so: condition QuotaExceeded
// naming the quota, the resource and the shortfall, and a Warning Event. Once the quota has room and
// the executors exist, the condition goes.
func TestExecutorQuotaReported(t *testing.T) {
	ns := env.NewNamespace(t)
	podQuota(t, ns, "two-pods", 1)
	startOperator(t, ns, sparkapplication.Options{})
	util.Create(t, env.Client, wrappers.MakeSparkApplication("starved", ns).ExecutorInstances(2).Obj())
	driver := util.WaitForPod(t, env.Client, ns, "starved-driver")
	runDriver(t, ns, "starved-driver")
	app := util.WaitForState(t, env.Client, ns, "starved", v1beta2.ApplicationStateRunning)

	// What the Spark driver gets when it asks for an executor.
	err := env.Client.Create(context.Background(), util.ExecutorPod(app, driver, 1))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("creating an executor beyond the quota: %v; want Forbidden", err)
	}
	c := util.WaitForCondition(t, env.Client, ns, "starved", v1beta2.ConditionQuotaExceeded, metav1.ConditionTrue)
	for _, want := range []string{`ResourceQuota "two-pods"`, "pods: needs 1, 0 of 1 left (short by 1)", "0 of 2 executors"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("condition message %q does not say %q", c.Message, want)
		}
	}
	util.WaitForEvents(t, env.Client, ns, "starved", sparkapplication.ReasonExecutorQuotaExceeded)

	podQuota(t, ns, "two-pods", 3)
	for id := 1; id <= 2; id++ {
		util.CreateExecutor(t, env.Client, app, driver, id)
	}
	framework.WaitFor(t, 60*time.Second, "the QuotaExceeded condition to go", func() (bool, string) {
		a := &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "starved"}, a); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(a.Status.Conditions, v1beta2.ConditionQuotaExceeded)
		return c == nil, fmt.Sprintf("%+v, executors %v", c, a.Status.ExecutorCounts)
	})
}
