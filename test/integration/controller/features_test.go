package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestPartialRestart: with the PartialRestart feature gate, changing only the executor's scheduling
// fields keeps the running attempt (same submission, RUNNING, an Event says so); a later change of
// another field still stops it and submits the application again, with both changes.
func TestPartialRestart(t *testing.T) {
	ns := parallelWithOperator(t, func(o *testOptions) { o.PartialRestart = true })
	util.Create(t, env.Client, wrappers.MakeSparkApplication("partial", ns).Obj())
	first := util.WaitForState(t, env.Client, ns, "partial", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "partial-driver")
	util.WaitForState(t, env.Client, ns, "partial", v1beta2.ApplicationStateRunning)

	util.UpdateApp(t, env.Client, ns, "partial", func(a *v1beta2.SparkApplication) {
		a.Spec.Executor.NodeSelector = map[string]string{"pool": "spot"}
		a.Spec.Executor.Tolerations = []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}}
		a.Spec.Executor.PriorityClassName = ptr.To("batch")
	})
	util.WaitForEvents(t, env.Client, ns, "partial", sparkapplication.ReasonExecutorFieldsUpdated)
	time.Sleep(2 * time.Second)
	app := util.GetApp(t, env.Client, ns, "partial")
	if app.Status.AppState.State != v1beta2.ApplicationStateRunning || app.Status.SubmissionID != first.Status.SubmissionID {
		t.Fatalf("an executor scheduling change restarted the application: %s, submission %s (was %s)",
			app.Status.AppState.State, app.Status.SubmissionID, first.Status.SubmissionID)
	}

	util.UpdateApp(t, env.Client, ns, "partial", func(a *v1beta2.SparkApplication) { a.Spec.Executor.Memory = ptr.To("2g") })
	framework.WaitFor(t, 30*time.Second, "resubmission after an executor memory change", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, "partial")
		return app.Status.SubmissionID != first.Status.SubmissionID && app.Status.AppState.State == v1beta2.ApplicationStateSubmitted, fmt.Sprint(app.Status.AppState)
	})
	// The new submission's executor pod template carries the scheduling fields changed earlier.
	var cms corev1.ConfigMapList
	if err := env.Client.List(context.Background(), &cms, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelSubmissionID: app.Status.SubmissionID}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cm := range cms.Items {
		for _, data := range cm.Data {
			if strings.Contains(data, "pool: spot") && strings.Contains(data, "priorityClassName: batch") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no ConfigMap of submission %s holds the executor template with the new nodeSelector and priorityClassName (%d ConfigMaps)", app.Status.SubmissionID, len(cms.Items))
	}
}
