package util

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// GetApp reads SparkApplication ns/name, failing the test on error.
func GetApp(t testing.TB, c client.Client, ns, name string) *v1beta2.SparkApplication {
	t.Helper()
	return get(t, c, ns, name, &v1beta2.SparkApplication{})
}

// GetScheduledApp reads ScheduledSparkApplication ns/name, failing the test on error.
func GetScheduledApp(t testing.TB, c client.Client, ns, name string) *v1beta2.ScheduledSparkApplication {
	t.Helper()
	return get(t, c, ns, name, &v1beta2.ScheduledSparkApplication{})
}

// UpdateApp applies mutate to SparkApplication ns/name and writes it, retrying on conflicts.
func UpdateApp(t testing.TB, c client.Client, ns, name string, mutate func(*v1beta2.SparkApplication)) {
	t.Helper()
	Update(t, c, ns, name, newApp, mutate)
}

// UpdateScheduledApp applies mutate to ScheduledSparkApplication ns/name and writes it, retrying
// on conflicts.
func UpdateScheduledApp(t testing.TB, c client.Client, ns, name string, mutate func(*v1beta2.ScheduledSparkApplication)) {
	t.Helper()
	Update(t, c, ns, name, func() *v1beta2.ScheduledSparkApplication { return &v1beta2.ScheduledSparkApplication{} }, mutate)
}

// WaitForState waits until SparkApplication ns/name is in state and returns it as read then. On
// timeout the failure names the last state, its error message, the attempt counters and
// spec.suspend.
func WaitForState(t testing.TB, c client.Client, ns, name string, state v1beta2.ApplicationStateType) *v1beta2.SparkApplication {
	t.Helper()
	return WaitForStateWithin(t, c, ns, name, state, Timeout)
}

// WaitForStateWithin is WaitForState waiting up to timeout instead of Timeout, for suites whose other
// components (a real kube-scheduler, Kueue) take longer than an API server alone.
func WaitForStateWithin(t testing.TB, c client.Client, ns, name string, state v1beta2.ApplicationStateType, timeout time.Duration) *v1beta2.SparkApplication {
	t.Helper()
	return waitForObject(t, timeout, c, ns, name, fmt.Sprintf("%s to be %q", name, state), newApp, func(app *v1beta2.SparkApplication) (bool, string) {
		return app.Status.AppState.State == state, fmt.Sprintf("state %q (%s), attempts %d/%d, suspend %v", app.Status.AppState.State,
			app.Status.AppState.ErrorMessage, app.Status.SubmissionAttempts, app.Status.ExecutionAttempts, ptr.Deref(app.Spec.Suspend, false))
	})
}

func newApp() *v1beta2.SparkApplication { return &v1beta2.SparkApplication{} }

// WaitForStates waits until SparkApplication ns/name reaches state final and returns every state
// it was seen in on the way, in order, each once per stay (polling may miss short stays).
func WaitForStates(t testing.TB, c client.Client, ns, name string, final v1beta2.ApplicationStateType) []v1beta2.ApplicationStateType {
	t.Helper()
	var seen []v1beta2.ApplicationStateType
	WaitFor(t, fmt.Sprintf("%s to reach %q", name, final), func() (bool, string) {
		app := &v1beta2.SparkApplication{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		st := app.Status.AppState.State
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		return st == final, describe("states ", seen)
	})
	return seen
}

// WaitForCondition waits until SparkApplication ns/name has condition typ with status and returns
// the condition as read then. On timeout the failure names the condition last seen (or its
// absence) and the state.
func WaitForCondition(t testing.TB, c client.Client, ns, name, typ string, status metav1.ConditionStatus) metav1.Condition {
	t.Helper()
	var found metav1.Condition
	WaitForObject(t, c, ns, name, fmt.Sprintf("%s condition %s=%s", name, typ, status), newApp, func(app *v1beta2.SparkApplication) (bool, string) {
		cond := meta.FindStatusCondition(app.Status.Conditions, typ)
		if cond == nil {
			return false, fmt.Sprintf("no condition %s; state %q", typ, app.Status.AppState.State)
		}
		found = *cond
		return cond.Status == status, fmt.Sprintf("%s %s: %s", cond.Status, cond.Reason, cond.Message)
	})
	return found
}

// Condition is the status of condition typ of app ("" when absent).
func Condition(app *v1beta2.SparkApplication, typ string) metav1.ConditionStatus {
	for _, c := range app.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// CreateRunning creates app (in namespace ns of an operator that runs) and brings it to RUNNING
// as the operator and a kubelet would together: it waits for SUBMITTED, sets the driver pod
// "<name>-driver" Running (RunDriver) and returns the application once it is RUNNING.
func CreateRunning(t testing.TB, c client.Client, app *v1beta2.SparkApplication) *v1beta2.SparkApplication {
	t.Helper()
	Create(t, c, app)
	WaitForState(t, c, app.Namespace, app.Name, v1beta2.ApplicationStateSubmitted)
	RunDriver(t, c, app.Namespace, app.Name+"-driver")
	return WaitForState(t, c, app.Namespace, app.Name, v1beta2.ApplicationStateRunning)
}
