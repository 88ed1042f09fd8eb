package util

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
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodIP is the address SetPodStatus gives pods that are past Pending.
const PodIP = "10.0.0.1"

// GetPod reads pod ns/name, failing the test on error.
func GetPod(t testing.TB, c client.Client, ns, name string) *corev1.Pod {
	t.Helper()
	return get(t, c, ns, name, &corev1.Pod{})
}

// WaitForPod waits until pod ns/name exists and returns it.
func WaitForPod(t testing.TB, c client.Client, ns, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	WaitFor(t, "pod "+name, func() (bool, string) {
		err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		return err == nil, describe(err)
	})
	return pod
}

// WaitForPodGone waits until pod ns/name no longer exists (its finalizers released and, when it
// was bound to a node, its kubelet done with it).
func WaitForPodGone(t testing.TB, c client.Client, ns, name string) {
	t.Helper()
	WaitFor(t, "pod "+name+" to be gone", func() (bool, string) {
		pod := &corev1.Pod{}
		err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		return false, fmt.Sprintf("pod exists (deleting: %v, finalizers %v)", pod.DeletionTimestamp != nil, pod.Finalizers)
	})
}

// ContainerState is the state SetPodStatus gives a pod's Spark container; the zero value leaves
// the pod without container statuses (not created yet).
type ContainerState struct {
	// Running makes the container running and ready.
	Running bool
	// ExitCode, when set, makes the container terminated with it (reason Completed for 0, else
	// Error), Message as the termination message; it wins over the other fields.
	ExitCode *int32
	// Waiting, when set, makes the container waiting with that reason (ErrImagePull, say) and
	// Message.
	Waiting string
	Message string
	// At is when the container started running or terminated; zero means now (the wall clock).
	// Tests with a fake clock set it from that clock.
	At time.Time
}

// Running is ContainerState{Running: true}.
var Running = ContainerState{Running: true}

// Exited is the ContainerState of a container that terminated with code.
func Exited(code int32) ContainerState { return ContainerState{ExitCode: &code} }

// SparkContainer is the name of pod's Spark container: the one named spark-kubernetes-*, else the
// last one (sidecars usually come first in what the tests create).
func SparkContainer(pod *corev1.Pod) string {
	name := pod.Spec.Containers[len(pod.Spec.Containers)-1].Name
	for _, c := range pod.Spec.Containers {
		if strings.HasPrefix(c.Name, "spark-kubernetes-") {
			name = c.Name
		}
	}
	return name
}

// SetPodStatus plays the kubelet for pod ns/name (waiting for it to exist): it writes phase, the
// Spark container's state cs and, past Pending, PodIP, through the status subresource, retrying on
// conflicts with other writers.
func SetPodStatus(t testing.TB, c client.Client, ns, name string, phase corev1.PodPhase, cs ContainerState) {
	t.Helper()
	at := metav1.Now()
	if !cs.At.IsZero() {
		at = metav1.NewTime(cs.At)
	}
	UpdatePodStatus(t, c, ns, name, func(pod *corev1.Pod) {
		status := corev1.ContainerStatus{Name: SparkContainer(pod), Image: pod.Spec.Containers[0].Image}
		switch {
		case cs.ExitCode != nil:
			reason := "Completed"
			if *cs.ExitCode != 0 {
				reason = "Error"
			}
			status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: *cs.ExitCode, Reason: reason, Message: cs.Message, FinishedAt: at}
		case cs.Waiting != "":
			status.State.Waiting = &corev1.ContainerStateWaiting{Reason: cs.Waiting, Message: cs.Message}
		case cs.Running:
			status.State.Running = &corev1.ContainerStateRunning{StartedAt: at}
			status.Ready = true
		}
		pod.Status.Phase = phase
		pod.Status.ContainerStatuses = nil
		if cs.ExitCode != nil || cs.Waiting != "" || cs.Running {
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{status}
		}
		if phase != corev1.PodPending {
			pod.Status.PodIP = PodIP
		}
	})
}

// UpdatePodStatus changes the status of pod ns/name (waiting for it to exist) with mutate, through
// the status subresource (changes outside the status are not written), retrying on conflicts: what
// the kubelet, the scheduler, pod garbage collection or the API server's eviction write beyond
// SetPodStatus (conditions such as DisruptionTarget or Ready, status.reason).
func UpdatePodStatus(t testing.TB, c client.Client, ns, name string, mutate func(*corev1.Pod)) {
	t.Helper()
	for range 10 {
		pod := WaitForPod(t, c, ns, name)
		mutate(pod)
		err := c.Status().Update(context.Background(), pod)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("updating the status of pod %s: %v", name, err)
		}
	}
	t.Fatalf("updating the status of pod %s: too many conflicts", name)
}

// RunDriver makes driver pod ns/name Running with its Spark container running.
func RunDriver(t testing.TB, c client.Client, ns, name string) {
	t.Helper()
	SetPodStatus(t, c, ns, name, corev1.PodRunning, Running)
}

// FinishDriver makes driver pod ns/name Succeeded (exitCode 0) or Failed, its Spark container
// terminated with exitCode.
func FinishDriver(t testing.TB, c client.Client, ns, name string, exitCode int32) {
	t.Helper()
	phase := corev1.PodSucceeded
	if exitCode != 0 {
		phase = corev1.PodFailed
	}
	SetPodStatus(t, c, ns, name, phase, Exited(exitCode))
}

// HoldPod plays a scheduler that cannot place pod ns/name (waiting for it to exist): the pod stays
// Pending with condition PodScheduled False, reason Unschedulable and message (what kube-scheduler
// or a batch scheduler says, "0/3 nodes are available: ...", say).
func HoldPod(t testing.TB, c client.Client, ns, name, message string) {
	t.Helper()
	UpdatePodStatus(t, c, ns, name, func(pod *corev1.Pod) {
		pod.Status.Phase = corev1.PodPending
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: message, LastTransitionTime: metav1.Now()}}
	})
}

// EnsureNamespace creates namespace ns unless it exists (tests that need a fixed name; others
// take a fresh one from framework.Env.NewNamespace).
func EnsureNamespace(t testing.TB, c client.Client, ns string) {
	t.Helper()
	err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
}

// CreateNode creates Node name with its Ready condition status (True, False or Unknown), as a
// kubelet registering and reporting would, and deletes it when the test ends. Nodes are
// cluster-scoped: tests running in parallel give theirs distinct names.
func CreateNode(t testing.TB, c client.Client, name string, ready corev1.ConditionStatus) *corev1.Node {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Create(t, c, node)
	t.Cleanup(func() { _ = c.Delete(context.Background(), node) })
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if err := c.Status().Update(context.Background(), node); err != nil {
		t.Fatalf("setting the status of node %s: %v", name, err)
	}
	return node
}

// BindPod binds pod ns/name (waiting for it to exist) to node through the pods/binding subresource,
// as a scheduler does. A bound pod is deleted gracefully: it stays Terminating until its kubelet
// (or a test playing it) deletes it with grace period 0.
func BindPod(t testing.TB, c client.Client, ns, name, node string) {
	t.Helper()
	pod := WaitForPod(t, c, ns, name)
	binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Target: corev1.ObjectReference{Kind: "Node", Name: node}}
	if err := c.SubResource("binding").Create(context.Background(), pod, binding); err != nil {
		t.Fatalf("binding pod %s to node %s: %v", name, node, err)
	}
}

// EvictPod evicts pod ns/name through the Eviction API (pods/eviction), as kubectl drain does: the
// API server adds the DisruptionTarget condition (reason EvictionByEvictionAPI) and deletes the pod
// with its grace period.
func EvictPod(t testing.TB, c client.Client, ns, name string) {
	t.Helper()
	pod := WaitForPod(t, c, ns, name)
	eviction := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := c.SubResource("eviction").Create(context.Background(), pod, eviction); err != nil {
		t.Fatalf("evicting pod %s: %v", name, err)
	}
}
