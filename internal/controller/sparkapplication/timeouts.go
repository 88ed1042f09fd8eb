package sparkapplication

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Per-application timeouts for an attempt that started but does not get going, both opt-in
// annotations in the style of sparkoperator.k8s.io/driver-start-timeout (waiting.go):
//
//   - sparkoperator.k8s.io/driver-ready-timeout: the driver pod was not Ready (its PodReady
//     condition True) that long after its creation, and has not been since: a readiness probe
//     that never passes, an init container that never ends, a container that never starts.
//   - sparkoperator.k8s.io/executor-start-timeout: the driver has run that long and none of the
//     attempt's executor pods has started: executors Pending for lack of room or an unpullable
//     executor image, while the driver waits for resources that never come.
//
// Either fails the attempt as the driver start timeout does (the driver pod is deleted, FAILING
// with the reason, then the restart policy applies): these are the application's failures, not the
// infrastructure's. A value that is not a duration fails the submission naming the annotation.

// checkAttemptTimeouts applies the driver ready and executor start timeouts of the application to
// its driver pod, which has not terminated. It reports whether the attempt ended.
func (r *Reconciler) checkAttemptTimeouts(ctx context.Context, s *scope, pod *corev1.Pod) (bool, error) {
	reason, msg, err := r.driverNotReady(s, pod)
	if err == nil && msg == "" {
		reason, msg, err = r.executorsNotStarted(s, pod)
	}
	if err != nil {
		return true, r.failSubmission(ctx, s, pod, err.Error())
	}
	if msg == "" {
		return false, nil
	}
	if err := r.deleteDriver(ctx, s, pod); err != nil {
		return false, err
	}
	if err := r.deleteUI(ctx, s.app); err != nil {
		return false, err
	}
	s.setState(v1beta2.ApplicationStateFailing, msg)
	s.app.Status.TerminationTime = metav1.NewTime(s.now)
	s.event(corev1.EventTypeWarning, reason, "%s", msg)
	return true, nil
}

// driverNotReady applies the driver ready timeout: the pod was not Ready at creation + timeout and
// has not been since (its PodReady condition, absent or not True, last changed before that
// deadline). It asks for a look at the deadline. The error is an annotation that is not a duration.
func (r *Reconciler) driverNotReady(s *scope, pod *corev1.Pod) (string, string, error) {
	t, _, err := v1beta2.ParseTimeoutAnnotation(s.app.Annotations, v1beta2.AnnotationDriverReadyTimeout)
	if err != nil || t == 0 {
		return "", "", err
	}
	var ready *corev1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			ready = &pod.Status.Conditions[i]
		}
	}
	if ready != nil && ready.Status == corev1.ConditionTrue {
		return "", "", nil
	}
	deadline := pod.CreationTimestamp.Add(t)
	if s.now.Before(deadline) {
		s.requeue(deadline.Sub(s.now))
		return "", "", nil
	}
	if ready != nil && ready.LastTransitionTime.After(deadline) {
		// It was Ready at the deadline, or became so after it: it did become ready.
		return "", "", nil
	}
	why := pendingReason(pod)
	if ready != nil && ready.Message != "" {
		why = ready.Message
	}
	return ReasonDriverReadyTimeout, fmt.Sprintf("driver pod %s was not ready within %s (annotation %s): %s", pod.Name, t, v1beta2.AnnotationDriverReadyTimeout, why), nil
}

// executorsNotStarted applies the executor start timeout to a running driver: no executor of the
// attempt started (every one tracked is PENDING, or there is none) by the time the Spark container
// has run that long. It asks for a look at the deadline.
func (r *Reconciler) executorsNotStarted(s *scope, pod *corev1.Pod) (string, string, error) {
	t, _, err := v1beta2.ParseTimeoutAnnotation(s.app.Annotations, v1beta2.AnnotationExecutorStartTimeout)
	if err != nil || t == 0 {
		return "", "", err
	}
	c := sparkContainerStatus(pod)
	if c == nil || c.State.Running == nil || c.State.Running.StartedAt.IsZero() || executorsStarted(&s.app.Status) {
		return "", "", nil
	}
	deadline := c.State.Running.StartedAt.Add(t)
	if s.now.Before(deadline) {
		s.requeue(deadline.Sub(s.now))
		return "", "", nil
	}
	pending := s.app.Status.ExecutorCounts[v1beta2.ExecutorStatePending]
	return ReasonExecutorStartTimeout, fmt.Sprintf("no executor of driver %s started within %s of the driver (annotation %s); %d executor pods pending", pod.Name, t, v1beta2.AnnotationExecutorStartTimeout, pending), nil
}

// executorsStarted says whether an executor of the attempt ever left PENDING: one is running or has
// terminated, or was tracked and is gone.
func executorsStarted(st *v1beta2.SparkApplicationStatus) bool {
	for _, state := range st.ExecutorState {
		if state != v1beta2.ExecutorStatePending {
			return true
		}
	}
	for state, n := range st.ExecutorCounts {
		if state != v1beta2.ExecutorStatePending && n > 0 {
			return true
		}
	}
	return false
}

// startTimeout is the driver start timeout of app: its annotation when set ("0" for none), else
// the operator's. An annotation that is not a duration is an error naming it.
func (r *Reconciler) startTimeout(app *v1beta2.SparkApplication) (time.Duration, error) {
	d, set, err := v1beta2.ParseTimeoutAnnotation(app.Annotations, v1beta2.AnnotationDriverStartTimeout)
	if !set {
		return r.opts.DriverStartTimeout, nil
	}
	return d, err
}

// checkTimeoutAnnotations refuses a submission whose timeout annotations are not durations.
func checkTimeoutAnnotations(app *v1beta2.SparkApplication) error {
	for _, key := range v1beta2.TimeoutAnnotations {
		if _, _, err := v1beta2.ParseTimeoutAnnotation(app.Annotations, key); err != nil {
			return err
		}
	}
	return nil
}
