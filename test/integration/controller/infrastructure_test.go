package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// runningOnNode creates application app in ns, binds its driver to a new Ready node (as the
// scheduler would) and runs it.
func runningOnNode(t *testing.T, ns, node string, app *wrappers.SparkApplicationWrapper) {
	t.Helper()
	util.CreateNode(t, env.Client, node, corev1.ConditionTrue)
	util.Create(t, env.Client, app.Obj())
	util.WaitForState(t, env.Client, ns, app.Obj().Name, v1beta2.ApplicationStateSubmitted)
	util.BindPod(t, env.Client, ns, app.Obj().Name+"-driver", node)
	util.RunDriver(t, env.Client, ns, app.Obj().Name+"-driver")
	util.WaitForState(t, env.Client, ns, app.Obj().Name, v1beta2.ApplicationStateRunning)
}

// waitForAttempt waits until application ns/name is RUNNING or SUBMITTED in execution attempt n.
func waitForAttempt(t *testing.T, ns, name string, n int32) *v1beta2.SparkApplication {
	t.Helper()
	var app *v1beta2.SparkApplication
	framework.WaitFor(t, 60*time.Second, fmt.Sprintf("execution attempt %d", n), func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, name)
		st := app.Status
		return st.ExecutionAttempts == n && (st.AppState.State == v1beta2.ApplicationStateSubmitted || st.AppState.State == v1beta2.ApplicationStateRunning),
			string(st.AppState.State) + " " + st.AppState.ErrorMessage
	})
	return app
}

// TestEvictedDriverRestartsWithoutRetry: a driver evicted through the real Eviction API (as kubectl
// drain does) is restarted although onFailureRetries is 0, status.infrastructureRestarts and an Event
// say why, and an application failure after that still ends the application.
func TestEvictedDriverRestartsWithoutRetry(t *testing.T) {
	ns := parallelWithOperator(t)
	runningOnNode(t, ns, ns+"-node", wrappers.MakeSparkApplication("evicted", ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(0, 1))

	util.EvictPod(t, env.Client, ns, "evicted-driver")
	pod := util.GetPod(t, env.Client, ns, "evicted-driver")
	if pod.DeletionTimestamp == nil || !slices.ContainsFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.DisruptionTarget && c.Reason == "EvictionByEvictionAPI"
	}) {
		t.Fatalf("the evicted pod: deletion %v, conditions %+v", pod.DeletionTimestamp, pod.Status.Conditions)
	}
	// The kubelet stops the container (SIGTERM), reports it and deletes the pod.
	util.FinishDriver(t, env.Client, ns, "evicted-driver", 143)
	util.WaitForEvents(t, env.Client, ns, "evicted", sparkapplication.ReasonInfrastructureFailure)
	if err := env.Client.Delete(context.Background(), pod, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}

	app := waitForAttempt(t, ns, "evicted", 2)
	if app.Status.InfrastructureRestarts != 1 {
		t.Errorf("infrastructureRestarts %d, want 1", app.Status.InfrastructureRestarts)
	}
	// An application failure of the second attempt consumes the retry it never had.
	util.RunDriver(t, env.Client, ns, "evicted-driver")
	util.FinishDriver(t, env.Client, ns, "evicted-driver", 1)
	app = util.WaitForState(t, env.Client, ns, "evicted", v1beta2.ApplicationStateFailed)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "ExitCode: 1") || app.Status.ExecutionAttempts != 2 {
		t.Errorf("status %+v", app.Status)
	}
	for _, e := range util.EventNotes(t, env.Client, ns, "evicted", sparkapplication.ReasonInfrastructureFailure) {
		if !strings.Contains(e, "was evicted (EvictionByEvictionAPI") || !strings.Contains(e, "restarted without consuming a retry") {
			t.Errorf("event %q", e)
		}
	}
}

// TestDriverStuckTerminatingOnDeletedNode: a driver evicted from a node that is then deleted stays
// Terminating (no kubelet finishes it); past the bound the operator force-deletes it, says so, and
// the application restarts without consuming a retry. With restart policy Never the same loss
// ends the application, the condition saying it was not restarted.
func TestDriverStuckTerminatingOnDeletedNode(t *testing.T) {
	ns := parallelWithOperator(t, func(o *testOptions) { o.StuckTerminatingTimeout = 2 * time.Second })
	for _, tc := range []struct {
		name   string
		policy v1beta2.RestartPolicyType
		want   metav1.ConditionStatus
	}{
		{"lost", v1beta2.RestartPolicyOnFailure, metav1.ConditionTrue},
		{"lost-never", v1beta2.RestartPolicyNever, metav1.ConditionFalse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := wrappers.MakeSparkApplication(tc.name, ns).RestartPolicy(tc.policy).OnFailureRetries(0, 1).DriverTerminationGracePeriod(1)
			node := ns + "-" + tc.name
			runningOnNode(t, ns, node, app)
			util.EvictPod(t, env.Client, ns, tc.name+"-driver")
			if err := env.Client.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}); err != nil {
				t.Fatal(err)
			}
			util.WaitForEvents(t, env.Client, ns, tc.name, sparkapplication.ReasonDriverForceDeleted, sparkapplication.ReasonInfrastructureFailure)
			var got *v1beta2.SparkApplication
			if tc.policy == v1beta2.RestartPolicyNever {
				got = util.WaitForState(t, env.Client, ns, tc.name, v1beta2.ApplicationStateFailed)
			} else {
				got = waitForAttempt(t, ns, tc.name, 2)
			}
			c := meta.FindStatusCondition(got.Status.Conditions, v1beta2.ConditionInfrastructureFailure)
			if tc.policy == v1beta2.RestartPolicyNever && (c == nil || c.Status != tc.want || c.Reason != "NodeLost" || !strings.Contains(c.Message, "no longer exists")) {
				t.Errorf("condition %+v", c)
			}
			for _, e := range util.EventNotes(t, env.Client, ns, tc.name, sparkapplication.ReasonDriverForceDeleted) {
				if !strings.Contains(e, "stuck Terminating") || !strings.Contains(e, "grace period 0") {
					t.Errorf("event %q", e)
				}
			}
		})
	}
}

// TestAttemptTimeouts: the driver-ready-timeout and executor-start-timeout annotations end attempts
// that never get going, with the reason; unset, nothing times out.
func TestAttemptTimeouts(t *testing.T) {
	ns := parallelWithOperator(t)

	// The driver runs but never becomes Ready (the tests' kubelet writes no Ready condition).
	util.Create(t, env.Client, wrappers.MakeSparkApplication("unready", ns).Annotation(v1beta2.AnnotationDriverReadyTimeout, "3s").Obj())
	util.WaitForPod(t, env.Client, ns, "unready-driver")
	util.RunDriver(t, env.Client, ns, "unready-driver")
	app := util.WaitForState(t, env.Client, ns, "unready", v1beta2.ApplicationStateFailed)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "was not ready within 3s") {
		t.Errorf("message %q", app.Status.AppState.ErrorMessage)
	}
	util.WaitForEvents(t, env.Client, ns, "unready", sparkapplication.ReasonDriverReadyTimeout)

	// The driver runs; its only executor stays Pending.
	util.Create(t, env.Client, wrappers.MakeSparkApplication("starved", ns).Annotation(v1beta2.AnnotationExecutorStartTimeout, "3s").Obj())
	util.RunDriver(t, env.Client, ns, "starved-driver")
	app = util.WaitForState(t, env.Client, ns, "starved", v1beta2.ApplicationStateRunning)
	util.CreateExecutor(t, env.Client, app, util.GetPod(t, env.Client, ns, "starved-driver"), 1)
	app = util.WaitForState(t, env.Client, ns, "starved", v1beta2.ApplicationStateFailed)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "no executor of driver starved-driver started within 3s") {
		t.Errorf("message %q", app.Status.AppState.ErrorMessage)
	}
	util.WaitForEvents(t, env.Client, ns, "starved", sparkapplication.ReasonExecutorStartTimeout)
}
