// Package pdbquota_test runs the SparkApplication controller against a real kube-apiserver, etcd and
// a kube-controller-manager that runs, besides the garbage collector, the disruption controller
// (which computes a PodDisruptionBudget's status, without which the Eviction API refuses every
// eviction) and the resource quota controller (which keeps a ResourceQuota's status.used true): the
// driver PodDisruptionBudget holding an eviction, and executors blocked by a ResourceQuota being
// reported. The tests play the kubelet by writing pod status.
//
// Run: KUBEBUILDER_ASSETS=$PWD/bin go test ./test/integration/pdbquota/
package pdbquota_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme),
		framework.WithControllerManager("garbage-collector-controller", "namespace-controller", "disruption-controller", "resourcequota-controller"))
}

// startOperator runs the SparkApplication controller for namespace ns until the test ends.
func startOperator(t *testing.T, ns string, opts sparkapplication.Options) {
	t.Helper()
	if opts.DriverPodCreationGracePeriod == 0 {
		opts.DriverPodCreationGracePeriod = 2 * time.Second
	}
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	r := sparkapplication.NewReconciler(mgr.GetClient(), operatortest.Recorder(t, mgr), clock.RealClock{}, opts)
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	operatortest.Start(t, mgr)
}

// waitForCondition waits until the application's condition typ has status and returns it.
func waitForCondition(t *testing.T, ns, name, typ string, status metav1.ConditionStatus) metav1.Condition {
	t.Helper()
	var found metav1.Condition
	framework.WaitFor(t, 60*time.Second, fmt.Sprintf("%s condition %s=%s", name, typ, status), func() (bool, string) {
		app := &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(app.Status.Conditions, typ)
		if c == nil {
			return false, fmt.Sprintf("no condition %s; state %q", typ, app.Status.AppState.State)
		}
		found = *c
		return c.Status == status, fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	})
	return found
}

// waitForPod waits until a pod named name exists and returns it.
func waitForPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	framework.WaitFor(t, 30*time.Second, "pod "+name, func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		return err == nil, fmt.Sprint(err)
	})
	return pod
}

// runDriver plays the kubelet: the driver pod runs and is Ready (the disruption controller counts
// only Ready pods as healthy).
func runDriver(t *testing.T, ns, name string) {
	t.Helper()
	setPodStatus(t, ns, name, corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}})
}

// finishDriver plays the kubelet: the driver's Spark container exits with code 0.
func finishDriver(t *testing.T, ns, name string) {
	t.Helper()
	setPodStatus(t, ns, name, corev1.PodSucceeded, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: metav1.Now()}})
}

func setPodStatus(t *testing.T, ns, name string, phase corev1.PodPhase, state corev1.ContainerState) {
	t.Helper()
	pod := util.GetPod(t, env.Client, ns, name)
	ready := corev1.ConditionFalse
	if phase == corev1.PodRunning {
		ready = corev1.ConditionTrue
		pod.Status.PodIP = "10.0.0.1"
	}
	pod.Status.Phase = phase
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.Now()}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "spark-kubernetes-driver", Image: pod.Spec.Containers[0].Image, State: state, Ready: ready == corev1.ConditionTrue,
	}}
	if err := env.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatalf("setting status of pod %s: %v", name, err)
	}
}

// eventReasons lists the reasons of the events recorded for the application.
func eventReasons(t *testing.T, ns, name string) []string {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "SparkApplication" {
			out = append(out, e.Reason)
		}
	}
	return out
}

// waitForEvents waits until events with all the given reasons were recorded for the application.
func waitForEvents(t *testing.T, ns, name string, reasons ...string) {
	t.Helper()
	framework.WaitFor(t, 30*time.Second, fmt.Sprintf("events %v", reasons), func() (bool, string) {
		got := eventReasons(t, ns, name)
		for _, r := range reasons {
			if !slices.Contains(got, r) {
				return false, fmt.Sprint(got)
			}
		}
		return true, ""
	})
}
