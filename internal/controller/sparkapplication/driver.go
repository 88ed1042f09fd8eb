package sparkapplication

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// driverContainerName is the Spark container of a driver pod.
const driverContainerName = "spark-kubernetes-driver"

// driverObservation is what the driver pod says about an attempt.
type driverObservation struct {
	state v1beta2.DriverState
	// exitCode of the Spark container when it terminated, else nil.
	exitCode *int32
	// message explains a failure: the container's termination reason and message, or the pod's.
	message string
	// waiting is the reason the Spark container is waiting (e.g. ImagePullBackOff), with its message.
	waitingReason, waitingMessage string
	// deleted says the pod is being deleted.
	deleted bool
}

// observeDriver derives the driver state from its pod. The Spark container decides when it has
// terminated, whatever the pod phase (a sidecar can keep a pod Running, and a pod Failed by eviction
// can still carry exit code 0): exit 0 is COMPLETED, anything else FAILED (as in Kubeflow's
// GetDriverState, extended to every phase).
func observeDriver(pod *corev1.Pod) driverObservation {
	obs := driverObservation{deleted: pod.DeletionTimestamp != nil}
	c := sparkContainerStatus(pod)
	if c != nil && c.State.Terminated != nil {
		t := c.State.Terminated
		obs.exitCode = &t.ExitCode
		if t.ExitCode == 0 {
			obs.state = v1beta2.DriverStateCompleted
			return obs
		}
		obs.state = v1beta2.DriverStateFailed
		obs.message = terminationMessage(t)
		return obs
	}
	if c != nil && c.State.Waiting != nil {
		obs.waitingReason, obs.waitingMessage = c.State.Waiting.Reason, c.State.Waiting.Message
	}
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		obs.state = v1beta2.DriverStatePending
	case corev1.PodRunning:
		obs.state = v1beta2.DriverStateRunning
	case corev1.PodSucceeded:
		obs.state = v1beta2.DriverStateCompleted
	case corev1.PodFailed:
		obs.state = v1beta2.DriverStateFailed
		obs.message = podFailureMessage(pod)
	default:
		obs.state = v1beta2.DriverStateUnknown
	}
	return obs
}

// podFailureMessage describes a pod that failed without its Spark container terminating: the pod's
// reason and message, and why it was disrupted (eviction, preemption, taint manager) when it was.
func podFailureMessage(pod *corev1.Pod) string {
	parts := []string{"driver pod failed"}
	if r := strings.TrimSpace(pod.Status.Reason + " " + pod.Status.Message); r != "" {
		parts = append(parts, r)
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			parts = append(parts, strings.TrimSpace(fmt.Sprintf("disrupted (%s) %s", c.Reason, c.Message)))
		}
	}
	return strings.Join(parts, ": ")
}

// terminationMessage describes a terminated Spark container, with hints for Spark's exit codes. It
// starts as Kubeflow's message does ("driver container failed with ExitCode: 1, Reason: Error"), which
// Kubeflow's e2e tests and users' alerts match on.
func terminationMessage(t *corev1.ContainerStateTerminated) string {
	msg := fmt.Sprintf("driver container failed with ExitCode: %d, Reason: %s", t.ExitCode, t.Reason)
	if hint := exitCodeHint(t.ExitCode, t.Reason); hint != "" {
		msg += ": " + hint
	}
	if m := strings.TrimSpace(t.Message); m != "" {
		msg += ": " + m
	}
	return msg
}

// exitCodeHint explains the exit codes of Spark drivers (spark-submit-on-kubernetes.md section 8).
func exitCodeHint(code int32, reason string) string {
	switch {
	case reason == "OOMKilled":
		return "the container ran out of memory; raise spec.driver.memory or memoryOverhead"
	case code == 1:
		return "the application threw an uncaught exception; see the driver log"
	case code == 11:
		return "too many executors failed (spark.executor.maxNumFailures)"
	case code == 101:
		return "the main class was not found; check spec.mainClass and spec.mainApplicationFile"
	case code == 137:
		return "killed (SIGKILL), possibly out of memory"
	case code == 143:
		return "terminated (SIGTERM)"
	}
	return ""
}

// sparkContainerStatus is the status of the Spark container: the one named spark-kubernetes-driver,
// else the first.
func sparkContainerStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == driverContainerName {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	if len(pod.Status.ContainerStatuses) > 0 {
		return &pod.Status.ContainerStatuses[0]
	}
	return nil
}

// fatalWaitingReasons are container waiting reasons that mean the submission itself is broken (the
// image name is invalid, a referenced secret or ConfigMap key is missing) rather than slow.
var fatalWaitingReasons = map[string]string{
	"InvalidImageName":           "the image name is invalid; fix spec.image or spec.driver.image",
	"ErrImageNeverPull":          "the image is not on the node and imagePullPolicy is Never; fix spec.image or spec.imagePullPolicy",
	"CreateContainerConfigError": "the container configuration refers to something missing (a Secret or ConfigMap, or a key in one); create it or fix the reference",
}

// pullFailureReasons are waiting reasons that become a submission failure once they last longer than
// the image pull timeout: the image probably does not exist or needs pull secrets.
var pullFailureReasons = map[string]string{
	"ErrImagePull":     "the image cannot be pulled; check spec.image, spec.driver.image and spec.imagePullSecrets",
	"ImagePullBackOff": "the image cannot be pulled; check spec.image, spec.driver.image and spec.imagePullSecrets",
}

// pendingReason describes why a pending driver pod does not start: the scheduler's condition message,
// or the Spark container's waiting reason.
func pendingReason(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return strings.TrimSpace(fmt.Sprintf("unschedulable: %s", c.Message))
		}
	}
	if c := sparkContainerStatus(pod); c != nil && c.State.Waiting != nil {
		return strings.TrimSpace(fmt.Sprintf("%s: %s", c.State.Waiting.Reason, c.State.Waiting.Message))
	}
	if pod.Spec.NodeName == "" {
		return "not scheduled to any node"
	}
	return "containers not started"
}
