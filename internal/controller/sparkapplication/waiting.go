package sparkapplication

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Waiting is not failing: a driver pod that no scheduler has bound to a node yet is held back by a
// scheduler or a queue (a gang not complete, a queue over capacity, no node with room), and Kubeflow's
// operator lets it wait as long as it takes; users queue applications for hours. The application
// stays SUBMITTED with the DriverScheduled condition False, carrying the scheduler's last word. A
// start timeout is opt-in: --driver-start-timeout for the operator, the
// sparkoperator.k8s.io/driver-start-timeout annotation for one application.

// setDriverScheduled records on the application whether its driver pod is bound to a node yet, and
// if not, why: the PodScheduled condition the scheduler wrote (reason Unschedulable, SchedulingGated,
// ...), with the scheduler's name and the queue. It returns the message while the driver waits.
func setDriverScheduled(s *scope, pod *corev1.Pod) string {
	cond := metav1.Condition{Type: v1beta2.ConditionDriverScheduled, ObservedGeneration: s.app.Generation, LastTransitionTime: metav1.NewTime(s.now)}
	msg := ""
	if pod.Spec.NodeName != "" || (pod.Status.Phase != corev1.PodPending && pod.Status.Phase != "") {
		cond.Status, cond.Reason = metav1.ConditionTrue, "Scheduled"
		cond.Message = fmt.Sprintf("driver pod %s is on node %s", pod.Name, firstNonEmpty(pod.Spec.NodeName, "(unknown)"))
	} else {
		reason, why := "Pending", "no scheduler has reported on it yet"
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				reason = firstNonEmpty(c.Reason, reason)
				why = strings.TrimSpace(firstNonEmpty(c.Message, c.Reason, why))
			}
		}
		scheduler := firstNonEmpty(pod.Spec.SchedulerName, corev1.DefaultSchedulerName)
		queue := ""
		if o := s.app.Spec.BatchSchedulerOptions; o != nil && o.Queue != nil {
			queue = fmt.Sprintf(", queue %s", *o.Queue)
		}
		msg = fmt.Sprintf("driver pod %s waits for scheduler %s%s: %s", pod.Name, scheduler, queue, why)
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, toConditionReason(strings.ToUpper(camelToSnake(reason))), msg
	}
	meta.SetStatusCondition(&s.app.Status.Conditions, cond)
	return msg
}

// schedulerReported says whether a scheduler has said why pod is not bound (its PodScheduled
// condition is False). Only then is waiting worth an Event: every new driver pod is unbound for a
// moment before any scheduler has looked at it.
func schedulerReported(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return true
		}
	}
	return false
}

// camelToSnake turns a CamelCase reason into SNAKE_CASE pieces for toConditionReason, which keeps
// it CamelCase and drops anything a condition reason may not contain.
func camelToSnake(s string) string {
	var b strings.Builder
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z' && i > 0:
			b.WriteByte('_')
			b.WriteRune(c)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'):
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
