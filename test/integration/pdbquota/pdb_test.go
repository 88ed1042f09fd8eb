package pdbquota_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// evict asks the Eviction API to evict the pod, as `kubectl drain` does.
func evict(ns, name string) error {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	return env.Client.SubResource("eviction").Create(context.Background(), pod, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
	})
}

// TestDriverPDBHoldsEviction: with --enable-driver-pdb, an application that sets
// spec.driverPodDisruptionBudget gets a PodDisruptionBudget owned by it; while the driver runs an
// eviction through the Eviction API is refused; once the application completed the budget is gone and
// the eviction is allowed.
func TestDriverPDBHoldsEviction(t *testing.T) {
	ns := env.NewNamespace(t)
	startOperator(t, ns, sparkapplication.Options{EnableDriverPDB: true})
	app := wrappers.MakeSparkApplication("streaming", ns).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.DriverPodDisruptionBudget = ptr.To(true)
	}).Obj()
	util.Create(t, env.Client, app)
	driver := "streaming-driver"
	util.WaitForPod(t, env.Client, ns, driver)
	runDriver(t, ns, driver)
	running := util.WaitForState(t, env.Client, ns, "streaming", v1beta2.ApplicationStateRunning)
	c := util.WaitForCondition(t, env.Client, ns, "streaming", v1beta2.ConditionDriverPodDisruptionBudget, metav1.ConditionTrue)
	if !strings.Contains(c.Message, driver) {
		t.Errorf("condition message does not name the budget: %q", c.Message)
	}

	pdb := &policyv1.PodDisruptionBudget{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: driver}, pdb); err != nil {
		t.Fatalf("the driver PodDisruptionBudget: %v", err)
	}
	if ref := metav1.GetControllerOf(pdb); ref == nil || ref.UID != running.UID || ref.Kind != "SparkApplication" {
		t.Errorf("budget controller = %+v, want the SparkApplication", ref)
	}
	if got := pdb.Spec.MinAvailable.IntValue(); got != 1 {
		t.Errorf("minAvailable = %d, want 1", got)
	}
	// The disruption controller must have counted the Ready driver before the budget means anything.
	framework.WaitFor(t, 60*time.Second, "the disruption controller to count the driver", func() (bool, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pdb), pdb); err != nil {
			return false, err.Error()
		}
		s := pdb.Status
		return s.ObservedGeneration == pdb.Generation && s.CurrentHealthy == 1, fmt.Sprintf("%+v", s)
	})
	err := evict(ns, driver)
	if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "disruption budget") {
		t.Fatalf("eviction of the running driver: %v; want 429 naming the disruption budget", err)
	}
	if pod := util.WaitForPod(t, env.Client, ns, driver); pod.DeletionTimestamp != nil {
		t.Fatal("the driver is being deleted after a refused eviction")
	}

	finishDriver(t, ns, driver)
	done := util.WaitForState(t, env.Client, ns, "streaming", v1beta2.ApplicationStateCompleted)
	framework.WaitFor(t, 30*time.Second, "the budget to be deleted", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pdb), &policyv1.PodDisruptionBudget{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	for _, c := range done.Status.Conditions {
		if c.Type == v1beta2.ConditionDriverPodDisruptionBudget {
			t.Errorf("the terminated application still has condition %+v", c)
		}
	}
	if err := evict(ns, driver); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("eviction after the application completed: %v", err)
	}
}

// TestDriverPDBRemovedOnSuspend: suspending the application (what Kueue does on preemption) stops
// the attempt and deletes its budget; resuming creates it again for the new driver.
func TestDriverPDBRemovedOnSuspend(t *testing.T) {
	ns := env.NewNamespace(t)
	startOperator(t, ns, sparkapplication.Options{EnableDriverPDB: true})
	util.Create(t, env.Client, wrappers.MakeSparkApplication("pre", ns).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.DriverPodDisruptionBudget = ptr.To(true)
	}).Obj())
	util.WaitForPod(t, env.Client, ns, "pre-driver")
	runDriver(t, ns, "pre-driver")
	util.WaitForCondition(t, env.Client, ns, "pre", v1beta2.ConditionDriverPodDisruptionBudget, metav1.ConditionTrue)
	util.UpdateApp(t, env.Client, ns, "pre", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(true) })
	util.WaitForState(t, env.Client, ns, "pre", v1beta2.ApplicationStateSuspended)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pre-driver"}, &policyv1.PodDisruptionBudget{}); !apierrors.IsNotFound(err) {
		t.Errorf("budget of a suspended application: %v; want it deleted", err)
	}
	util.UpdateApp(t, env.Client, ns, "pre", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(false) })
	util.WaitForPod(t, env.Client, ns, "pre-driver")
	util.WaitForCondition(t, env.Client, ns, "pre", v1beta2.ConditionDriverPodDisruptionBudget, metav1.ConditionTrue)
}

// TestDriverPDBFlagOff: an application that asks for a driver budget from an operator started
// without --enable-driver-pdb gets none, and says so: condition DriverPodDisruptionBudget False
// (DisabledInOperator) naming the flag, and a Warning Event.
func TestDriverPDBFlagOff(t *testing.T) {
	ns := env.NewNamespace(t)
	startOperator(t, ns, sparkapplication.Options{})
	util.Create(t, env.Client, wrappers.MakeSparkApplication("unprotected", ns).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.DriverPodDisruptionBudget = ptr.To(true)
	}).Obj())
	util.WaitForPod(t, env.Client, ns, "unprotected-driver")
	runDriver(t, ns, "unprotected-driver")
	c := util.WaitForCondition(t, env.Client, ns, "unprotected", v1beta2.ConditionDriverPodDisruptionBudget, metav1.ConditionFalse)
	if c.Reason != "DisabledInOperator" || !strings.Contains(c.Message, "--enable-driver-pdb") || !strings.Contains(c.Message, "spec.driverPodDisruptionBudget") {
		t.Errorf("condition = %s %q; want DisabledInOperator naming the field and the flag", c.Reason, c.Message)
	}
	util.WaitForEvents(t, env.Client, ns, "unprotected", sparkapplication.ReasonDriverPDBDisabled)
	list := &policyv1.PodDisruptionBudgetList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("budgets created without --enable-driver-pdb: %d", len(list.Items))
	}
}

// TestDriverPDBFollowsSpec: turning spec.driverPodDisruptionBudget on for a running application
// creates the budget without restarting it, and turning it off deletes the budget.
func TestDriverPDBFollowsSpec(t *testing.T) {
	ns := env.NewNamespace(t)
	startOperator(t, ns, sparkapplication.Options{EnableDriverPDB: true})
	util.Create(t, env.Client, wrappers.MakeSparkApplication("live", ns).Obj())
	driver := util.WaitForPod(t, env.Client, ns, "live-driver")
	runDriver(t, ns, "live-driver")
	util.WaitForState(t, env.Client, ns, "live", v1beta2.ApplicationStateRunning)
	key := client.ObjectKey{Namespace: ns, Name: "live-driver"}
	setPDB := func(on bool) {
		t.Helper()
		util.UpdateApp(t, env.Client, ns, "live", func(a *v1beta2.SparkApplication) { a.Spec.DriverPodDisruptionBudget = ptr.To(on) })
	}
	setPDB(true)
	util.WaitForCondition(t, env.Client, ns, "live", v1beta2.ConditionDriverPodDisruptionBudget, metav1.ConditionTrue)
	if err := env.Client.Get(context.Background(), key, &policyv1.PodDisruptionBudget{}); err != nil {
		t.Fatalf("the budget after turning it on: %v", err)
	}
	setPDB(false)
	framework.WaitFor(t, 30*time.Second, "the budget to be deleted", func() (bool, string) {
		err := env.Client.Get(context.Background(), key, &policyv1.PodDisruptionBudget{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	app := util.WaitForState(t, env.Client, ns, "live", v1beta2.ApplicationStateRunning)
	if app.Status.SubmissionAttempts != 1 {
		t.Errorf("submission attempts %d: the application was restarted", app.Status.SubmissionAttempts)
	}
	if pod := util.WaitForPod(t, env.Client, ns, "live-driver"); pod.UID != driver.UID || pod.DeletionTimestamp != nil {
		t.Error("the driver pod was replaced or is being deleted")
	}
}
