package sparkapplication

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Infrastructure failures are not application failures. A driver pod that was evicted (the Eviction
// API, as kubectl drain uses it, or the kubelet under node pressure), preempted by the scheduler, or
// lost with its node (the taint manager, pod garbage collection of a deleted node, a pod stuck
// Terminating on a node that is gone: stuck.go) ended its attempt for a reason that is not the
// application's. With restart policy OnFailure or Always such an attempt is restarted without
// consuming onFailureRetries or onSubmissionFailureRetries (status.infrastructureRestarts counts it
// instead), at most Options.MaxInfrastructureRestarts times per application; past that bound it counts
// as an ordinary failure, so a node that keeps evicting the driver cannot loop forever. With restart
// policy Never it is not restarted: Never promises one attempt, and a second run of a job that may
// have written half its output is what Never rules out. The Apache Spark Kubernetes operator has the
// same distinction (its OnInfrastructureFailure restart policy); a Kubernetes Job gets it from a
// podFailurePolicy rule on the DisruptionTarget condition. A driver whose Spark container exited 0
// before it was disrupted completed: the exit code is the application's own word.

// Causes of an infrastructure failure: the reasons of ConditionInfrastructureFailure.
const (
	causeEvicted             = "Evicted"
	causePreempted           = "Preempted"
	causeNodeLost            = "NodeLost"
	causeTerminatedByKubelet = "TerminatedByKubelet"
	causePodGC               = "PodGarbageCollected"
)

// infraFailure is why a driver pod was lost to the infrastructure.
type infraFailure struct {
	// cause is one of the cause* constants.
	cause string
	// detail is what the pod says (the condition or status reason and message).
	detail string
}

// disruptionCauses maps the reasons of the DisruptionTarget pod condition (set by the API server,
// the scheduler, the taint manager, the kubelet and pod garbage collection since Kubernetes 1.26;
// k8s.io/api/core/v1 lists them) to causes. PreemptionByKubeScheduler is the reason's name before 1.27.
var disruptionCauses = map[string]string{
	"EvictionByEvictionAPI":     causeEvicted,
	"PreemptionByScheduler":     causePreempted,
	"PreemptionByKubeScheduler": causePreempted,
	"DeletionByTaintManager":    causeNodeLost,
	"TerminationByKubelet":      causeTerminatedByKubelet,
	"DeletionByPodGC":           causePodGC,
}

// statusReasonCauses maps the pod status reasons the kubelet and older node controllers write on a
// pod they stopped to causes: node-pressure eviction ("Evicted"), the kubelet preempting for a
// critical pod ("Preempting"), graceful node shutdown ("NodeShutdown", "Shutdown") and the node
// controller of old clusters ("NodeLost").
var statusReasonCauses = map[string]string{
	"Evicted":      causeEvicted,
	"Preempting":   causePreempted,
	"NodeShutdown": causeTerminatedByKubelet,
	"Shutdown":     causeTerminatedByKubelet,
	"NodeLost":     causeNodeLost,
}

// infrastructureFailure says whether pod was disrupted by the infrastructure, and how: a True
// DisruptionTarget condition with a known reason, else a known status reason, unless its Spark
// container was OOMKilled. Any pod decodes.
func infrastructureFailure(pod *corev1.Pod) (infraFailure, bool) {
	if c := sparkContainerStatus(pod); c != nil && c.State.Terminated != nil && c.State.Terminated.Reason == "OOMKilled" {
		// Killed for exceeding its own memory limit: the application's failure, whoever then
		// evicted the pod.
		return infraFailure{}, false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionTrue {
			continue
		}
		if cause, ok := disruptionCauses[c.Reason]; ok {
			return infraFailure{cause: cause, detail: joinNonEmpty(c.Reason, c.Message)}, true
		}
	}
	if cause, ok := statusReasonCauses[pod.Status.Reason]; ok {
		return infraFailure{cause: cause, detail: joinNonEmpty(pod.Status.Reason, pod.Status.Message)}, true
	}
	return infraFailure{}, false
}

// describe is the cause in words, for messages: "was evicted (EvictionByEvictionAPI: ...)".
func (f infraFailure) describe() string {
	what := map[string]string{
		causeEvicted:             "was evicted",
		causePreempted:           "was preempted",
		causeNodeLost:            "was lost with its node",
		causeTerminatedByKubelet: "was stopped by its node's kubelet",
		causePodGC:               "was lost with its node (pod garbage collection)",
	}[f.cause]
	if f.detail == "" {
		return what
	}
	return fmt.Sprintf("%s (%s)", what, f.detail)
}

// failInfrastructure ends the attempt of a driver pod lost to the infrastructure: FAILING with the
// cause, and the InfrastructureFailure condition saying whether handleFailing restarts it without
// consuming a retry (counted in status.infrastructureRestarts) or treats it as an application
// failure (restart policy Never, or the bound reached). The caller deletes the UI and releases the
// pod.
func (r *Reconciler) failInfrastructure(s *scope, pod *corev1.Pod, f infraFailure) {
	st := &s.app.Status
	msg := fmt.Sprintf("driver pod %s %s", pod.Name, f.describe())
	cond := metav1.Condition{Type: v1beta2.ConditionInfrastructureFailure, Reason: f.cause,
		ObservedGeneration: s.app.Generation, LastTransitionTime: metav1.NewTime(s.now)}
	switch {
	case restartPolicy(s.app).Type == v1beta2.RestartPolicyNever:
		cond.Status = metav1.ConditionFalse
		cond.Message = msg + "; not restarted: restartPolicy is Never"
	case st.InfrastructureRestarts >= int32(r.opts.MaxInfrastructureRestarts):
		cond.Status = metav1.ConditionFalse
		cond.Message = fmt.Sprintf("%s; counted as a failure: the application was already restarted %d times for infrastructure failures (the operator's bound)", msg, st.InfrastructureRestarts)
	default:
		st.InfrastructureRestarts++
		cond.Status = metav1.ConditionTrue
		cond.Message = fmt.Sprintf("%s; restarted without consuming a retry (infrastructure restart %d of at most %d)", msg, st.InfrastructureRestarts, r.opts.MaxInfrastructureRestarts)
	}
	meta.SetStatusCondition(&st.Conditions, cond)
	s.setState(v1beta2.ApplicationStateFailing, msg)
	st.TerminationTime = metav1.NewTime(finishTime(pod, s.now))
	s.event(corev1.EventTypeWarning, ReasonInfrastructureFailure, "%s", cond.Message)
}

// infrastructureRestart says whether the attempt that ended is to be restarted as an infrastructure
// failure, whatever the retry counters say.
func infrastructureRestart(app *v1beta2.SparkApplication) bool {
	return meta.IsStatusConditionTrue(app.Status.Conditions, v1beta2.ConditionInfrastructureFailure)
}

// countedAttempts is n, a count of execution or submission attempts, without the attempts restarted
// for infrastructure failures: what onFailureRetries and onSubmissionFailureRetries are compared with.
func countedAttempts(n int32, st *v1beta2.SparkApplicationStatus) int32 {
	return n - min(max(st.InfrastructureRestarts, 0), n)
}

// clearInfrastructureFailure forgets how the previous attempt ended, when the next one is submitted.
func clearInfrastructureFailure(st *v1beta2.SparkApplicationStatus) {
	meta.RemoveStatusCondition(&st.Conditions, v1beta2.ConditionInfrastructureFailure)
}

// joinNonEmpty is "reason: message", or whichever of the two is not empty.
func joinNonEmpty(reason, message string) string {
	reason, message = strings.TrimSpace(reason), strings.TrimSpace(message)
	if reason == "" || message == "" {
		return reason + message
	}
	return reason + ": " + message
}
