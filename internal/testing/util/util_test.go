package util

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func driverPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "ns", Labels: map[string]string{v1beta2.LabelAppName: "pi"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "spark-kubernetes-driver", Image: "spark:3.5.3"}, {Name: "istio-proxy", Image: "istio"},
		}},
	}
}

// TestFakeClient: objects created get a creationTimestamp from the clock and generation 1; pods
// are listed by the application index; the status subresource is separate.
func TestFakeClient(t *testing.T) {
	c := NewFakeClient(clocktesting.NewFakeClock(t0), interceptor.Funcs{})
	Create(t, c, driverPod())
	pod := GetPod(t, c, "ns", "pi-driver")
	if !pod.CreationTimestamp.Time.Equal(t0) || pod.Generation != 1 {
		t.Errorf("created pod: creationTimestamp %v, generation %d", pod.CreationTimestamp, pod.Generation)
	}
	list := &corev1.PodList{}
	if err := c.List(context.Background(), list, client.MatchingFields{IndexAppName: "pi"}); err != nil || len(list.Items) != 1 {
		t.Errorf("listing by %s: %d pods, %v", IndexAppName, len(list.Items), err)
	}
}

// TestSetPodStatus: the Spark container gets the state (not the sidecar), with the reason of its
// exit code and the given time; pods past Pending get an IP.
func TestSetPodStatus(t *testing.T) {
	c := NewFakeClient(clocktesting.NewFakeClock(t0), interceptor.Funcs{}, driverPod())
	SetPodStatus(t, c, "ns", "pi-driver", corev1.PodPending, ContainerState{Waiting: "ErrImagePull", Message: "not found"})
	pod := GetPod(t, c, "ns", "pi-driver")
	if cs := pod.Status.ContainerStatuses; len(cs) != 1 || cs[0].Name != "spark-kubernetes-driver" || cs[0].State.Waiting.Reason != "ErrImagePull" || pod.Status.PodIP != "" {
		t.Errorf("pending: %+v", pod.Status)
	}
	code := int32(137)
	SetPodStatus(t, c, "ns", "pi-driver", corev1.PodFailed, ContainerState{ExitCode: &code, At: t0})
	pod = GetPod(t, c, "ns", "pi-driver")
	term := pod.Status.ContainerStatuses[0].State.Terminated
	if pod.Status.Phase != corev1.PodFailed || term == nil || term.ExitCode != 137 || term.Reason != "Error" || !term.FinishedAt.Time.Equal(t0) || pod.Status.PodIP != PodIP {
		t.Errorf("failed: %+v", pod.Status)
	}
	FinishDriver(t, c, "ns", "pi-driver", 0)
	if term := GetPod(t, c, "ns", "pi-driver").Status.ContainerStatuses[0].State.Terminated; term.Reason != "Completed" {
		t.Errorf("exit 0: reason %q", term.Reason)
	}
}

// TestRecorder keeps events in order with the object they are about.
func TestRecorder(t *testing.T) {
	r := &Recorder{}
	app := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "ns"}}
	r.Eventf(app, nil, corev1.EventTypeNormal, "A", "Reconcile", "first %d", 1)
	r.Eventf(app, nil, corev1.EventTypeWarning, "B", "Reconcile", "second")
	if got := r.Events(); len(got) != 2 || got[0].String() != "Normal A: first 1" || got[1].Object.Name != "pi" {
		t.Errorf("events %v", got)
	}
	r.Reset()
	if len(r.Reasons()) != 0 {
		t.Error("Reset kept events")
	}
}
