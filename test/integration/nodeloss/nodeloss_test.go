// Package nodeloss_test checks what becomes of a driver whose Node is deleted under it, with
// kube-controller-manager's pod garbage collector running (internal/testing/framework): it marks the
// pods of a node that is gone Failed with the DisruptionTarget condition (DeletionByPodGC) and
// force-deletes them, 40 s after it noticed (its fixed quarantine), checking every 20 s. The suite
// has its own control plane: the pod garbage collector would take the pods that other suites bind to
// nodes that do not exist. It takes about a minute and a half.
package nodeloss_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

var env *framework.Env

func TestMain(m *testing.M) {
	controllers := append(slices.Clone(framework.DefaultControllers), "pod-garbage-collector-controller")
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme),
		framework.WithControllerManager(controllers...), framework.WithStartTimeout(60*time.Second))
}

// TestNodeDeletedUnderDriver: the Node of a running driver is deleted; pod garbage collection fails
// and deletes the driver pod, and the application restarts without consuming a retry
// (onFailureRetries is 0), the Event naming the cause.
func TestNodeDeletedUnderDriver(t *testing.T) {
	ns := env.NewNamespace(t)
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &sparkapplication.Options{
		DriverPodCreationGracePeriod: 2 * time.Second, MaxConcurrentReconciles: 2}})

	node := ns + "-node"
	util.CreateNode(t, env.Client, node, corev1.ConditionTrue)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("pi", ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(0, 1).Obj())
	util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateSubmitted)
	util.BindPod(t, env.Client, ns, "pi-driver", node)
	util.RunDriver(t, env.Client, ns, "pi-driver")
	first := util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateRunning)

	if err := env.Client.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, 3*time.Minute, "the next attempt after pod garbage collection", func() (bool, string) {
		app := util.GetApp(t, env.Client, ns, "pi")
		return app.Status.ExecutionAttempts == 2 && app.Status.SubmissionID != first.Status.SubmissionID,
			string(app.Status.AppState.State) + " " + app.Status.AppState.ErrorMessage
	})
	app := util.GetApp(t, env.Client, ns, "pi")
	if app.Status.InfrastructureRestarts != 1 || app.Status.AppState.State == v1beta2.ApplicationStateFailed {
		t.Errorf("status %+v", app.Status)
	}
	util.WaitForEvents(t, env.Client, ns, "pi", sparkapplication.ReasonInfrastructureFailure)
	for _, note := range util.EventNotes(t, env.Client, ns, "pi", sparkapplication.ReasonInfrastructureFailure) {
		if !strings.Contains(note, "DeletionByPodGC") || !strings.Contains(note, "restarted without consuming a retry") {
			t.Errorf("event %q", note)
		}
	}
}
