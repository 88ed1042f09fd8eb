package sparkapplication

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// maxTransitionsPerReconcile bounds how many states one reconcile may pass through (for example
// RUNNING -> SUCCEEDING -> COMPLETED) before writing the status once.
const maxTransitionsPerReconcile = 4

// reconcileState runs the handler of the current state, and of the states it leads to directly, up
// to maxTransitionsPerReconcile.
func (r *Reconciler) reconcileState(ctx context.Context, s *scope) error {
	if s.app.DeletionTimestamp != nil {
		// Foreground deletion: the application waits for its driver pod, which waits for us.
		s.deleted = true
		if pod, err := r.currentDriver(ctx, s.app); err != nil {
			return err
		} else if pod != nil {
			if err := r.client.Delete(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
		return r.cleanupDeleted(ctx, client.ObjectKeyFromObject(s.app))
	}
	adoptAttempt(s)
	r.checkSpecChange(s)
	for range maxTransitionsPerReconcile {
		before := s.app.Status.AppState.State
		r.checkSuspend(s)
		if err := r.handle(ctx, s); err != nil || s.deleted {
			return err
		}
		if s.app.Status.AppState.State == before {
			return nil
		}
	}
	return nil
}

func (r *Reconciler) handle(ctx context.Context, s *scope) error {
	switch s.app.Status.AppState.State {
	case v1beta2.ApplicationStateNew:
		return r.submit(ctx, s)
	case v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateRunning, v1beta2.ApplicationStateUnknown:
		return r.followDriver(ctx, s)
	case v1beta2.ApplicationStateSucceeding:
		return r.handleSucceeding(ctx, s)
	case v1beta2.ApplicationStateFailing:
		return r.handleFailing(ctx, s)
	case v1beta2.ApplicationStateFailedSubmission:
		return r.handleSubmissionFailed(ctx, s)
	case v1beta2.ApplicationStatePendingRerun, v1beta2.ApplicationStateResuming:
		return r.submitWhenGone(ctx, s)
	case v1beta2.ApplicationStateInvalidating:
		return r.handleInvalidating(ctx, s)
	case v1beta2.ApplicationStateSuspending:
		return r.handleSuspending(ctx, s)
	case v1beta2.ApplicationStateSuspended:
		if !isSuspended(s.app) {
			s.setState(v1beta2.ApplicationStateResuming, "")
			s.event(corev1.EventTypeNormal, ReasonResuming, "SparkApplication %s is resuming", s.app.Name)
		}
		return nil
	case v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed:
		return r.handleTerminated(ctx, s)
	default:
		s.log.Info("Unknown application state; treating it as new", "state", s.app.Status.AppState.State)
		s.setState(v1beta2.ApplicationStateNew, "")
		return nil
	}
}

// setState sets the application state and its error message, and records the transition.
func (s *scope) setState(state v1beta2.ApplicationStateType, errorMessage string) {
	if s.app.Status.AppState.State != state {
		s.transitions = append(s.transitions, state)
	}
	s.app.Status.AppState = v1beta2.ApplicationState{State: state, ErrorMessage: errorMessage}
}

func isSuspended(app *v1beta2.SparkApplication) bool {
	return app.Spec.Suspend != nil && *app.Spec.Suspend
}

// checkSuspend moves an application whose spec.suspend is true to SUSPENDING, from any state but the
// terminal and suspended ones.
func (r *Reconciler) checkSuspend(s *scope) {
	switch s.app.Status.AppState.State {
	case v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed,
		v1beta2.ApplicationStateSuspending, v1beta2.ApplicationStateSuspended:
		return
	}
	if isSuspended(s.app) {
		s.setState(v1beta2.ApplicationStateSuspending, "")
		s.event(corev1.EventTypeNormal, ReasonSuspending, "SparkApplication %s is suspending", s.app.Name)
	}
}

// SpecHash identifies what an attempt was submitted from, for invalidation: a hash of the spec's JSON
// without suspend, timeToLiveSeconds and driverPodDisruptionBudget (whose changes alone never restart
// an application: the budget follows the spec while the driver runs), and of the rerun annotation
// (v1beta2.AnnotationRerun), whose change reruns it; then "/" and the same hash without the executor
// fields PartialRestart ignores (partialrestart.go).
func SpecHash(app *v1beta2.SparkApplication) string {
	return specHash(app, nil) + "/" + specHash(app, clearPartialRestartFields)
}

// specHash hashes the spec as SpecHash says, after clear (if any) has changed a copy of it.
func specHash(app *v1beta2.SparkApplication, clear func(*v1beta2.SparkApplicationSpec)) string {
	c := app.Spec.DeepCopy()
	c.Suspend, c.TimeToLiveSeconds, c.DriverPodDisruptionBudget = nil, nil, nil
	if clear != nil {
		clear(c)
	}
	data, _ := json.Marshal(c)
	data = append(data, app.Annotations[v1beta2.AnnotationRerun]...)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

// Revision distinguishes the versions of an application that submission ids derive from: the
// generation, and the rerun token when there is one: "<generation>" or "<generation>/<token>".
func Revision(app *v1beta2.SparkApplication) string {
	if token := app.Annotations[v1beta2.AnnotationRerun]; token != "" {
		return fmt.Sprintf("%d/%s", app.Generation, token)
	}
	return fmt.Sprint(app.Generation)
}

// checkSpecChange moves an application whose spec changed (beyond suspend and timeToLiveSeconds), or
// whose rerun annotation changed, since its current attempt was submitted to INVALIDATING, so it is
// stopped and submitted again. A suspended application takes the new spec when it resumes (Kueue edits
// suspended applications before admitting them).
func (r *Reconciler) checkSpecChange(s *scope) {
	st := s.app.Status
	if st.SubmittedSpecHash == "" || (st.ObservedGeneration == s.app.Generation && s.app.Annotations[v1beta2.AnnotationRerun] == "") {
		return
	}
	switch st.AppState.State {
	case v1beta2.ApplicationStateNew, v1beta2.ApplicationStateInvalidating,
		v1beta2.ApplicationStateSuspending, v1beta2.ApplicationStateSuspended, v1beta2.ApplicationStateResuming:
		return
	}
	if sameSpec(SpecHash(s.app), st.SubmittedSpecHash) || r.partialRestart(s) {
		return
	}
	s.setState(v1beta2.ApplicationStateInvalidating, "")
	s.event(corev1.EventTypeNormal, ReasonInvalidated, "SparkApplication %s changed (spec or rerun request); the current attempt is stopped and the application submitted again", s.app.Name)
}

// followDriver updates a SUBMITTED, RUNNING or UNKNOWN application from its driver and executor pods.
func (r *Reconciler) followDriver(ctx context.Context, s *scope) error {
	pod, err := r.currentDriver(ctx, s.app)
	if err != nil {
		return err
	}
	status := &s.app.Status
	if pod == nil {
		since := s.now.Sub(status.LastSubmissionAttemptTime.Time)
		if status.AppState.State == v1beta2.ApplicationStateSubmitted && since < r.opts.DriverPodCreationGracePeriod {
			s.requeue(r.opts.DriverPodCreationGracePeriod - since)
			return nil
		}
		msg := fmt.Sprintf("driver pod %s not found", status.DriverInfo.PodName)
		if err := r.deleteUI(ctx, s.app); err != nil {
			return err
		}
		s.setState(v1beta2.ApplicationStateFailing, msg)
		status.TerminationTime = metav1.NewTime(s.now)
		s.event(corev1.EventTypeWarning, ReasonDriverNotFound, "%s", msg)
		return nil
	}
	adoptAppID(status, pod)
	if err := r.updateExecutors(ctx, s, false); err != nil {
		return err
	}
	obs := observeDriver(pod)
	if ended, err := r.checkUnfinishedDriver(ctx, s, pod, obs); ended || err != nil {
		return err
	}
	switch obs.state {
	case v1beta2.DriverStatePending:
		return r.driverPending(ctx, s, pod, obs)
	case v1beta2.DriverStateRunning:
		setDriverScheduled(s, pod)
		if status.AppState.State != v1beta2.ApplicationStateRunning {
			s.setState(v1beta2.ApplicationStateRunning, "")
			s.event(corev1.EventTypeNormal, ReasonDriverRunning, "Driver %s is running", pod.Name)
		}
		r.ensureUIBestEffort(ctx, s, pod)
		if err := r.checkExecutorQuota(ctx, s); err != nil {
			return err
		}
		return r.ensureDriverPDB(ctx, s)
	case v1beta2.DriverStateCompleted:
		// The attempt is over: its UI objects go now, not with the next attempt (docs/state-machine.md).
		if err := r.deleteUI(ctx, s.app); err != nil {
			return err
		}
		s.setState(v1beta2.ApplicationStateSucceeding, "")
		status.TerminationTime = metav1.NewTime(finishTime(pod, s.now))
		s.event(corev1.EventTypeNormal, ReasonDriverCompleted, "Driver %s completed", pod.Name)
		r.releaseDriver(s, pod)
	case v1beta2.DriverStateFailed:
		if f, ok := infrastructureFailure(pod); ok {
			if err := r.deleteUI(ctx, s.app); err != nil {
				return err
			}
			r.failInfrastructure(s, pod, f)
			r.releaseDriver(s, pod)
			return nil
		}
		msg := obs.message
		if obs.deleted {
			msg += " (the driver pod was deleted)"
		}
		if err := r.deleteUI(ctx, s.app); err != nil {
			return err
		}
		s.setState(v1beta2.ApplicationStateFailing, msg)
		status.TerminationTime = metav1.NewTime(finishTime(pod, s.now))
		s.event(corev1.EventTypeWarning, ReasonDriverFailed, "Driver %s failed: %s", pod.Name, msg)
		r.releaseDriver(s, pod)
	default:
		if status.AppState.State != v1beta2.ApplicationStateUnknown {
			s.setState(v1beta2.ApplicationStateUnknown, "")
			s.event(corev1.EventTypeWarning, ReasonDriverUnknown, "Driver %s is in an unknown state", pod.Name)
		}
	}
	return nil
}

// driverPending handles a driver pod that has not started: a broken submission (invalid image,
// missing secret, image that cannot be pulled) ends the attempt as SUBMISSION_FAILED; a pod that
// stays pending past the driver start timeout, when one is configured, fails the attempt; otherwise
// it waits, and the DriverScheduled condition says for what (waiting.go).
func (r *Reconciler) driverPending(ctx context.Context, s *scope, pod *corev1.Pod, obs driverObservation) error {
	age := s.now.Sub(pod.CreationTimestamp.Time)
	if hint, fatal := fatalWaitingReasons[obs.waitingReason]; fatal {
		return r.failSubmission(ctx, s, pod, fmt.Sprintf("driver container cannot start: %s: %s; %s", obs.waitingReason, obs.waitingMessage, hint))
	}
	if hint, pull := pullFailureReasons[obs.waitingReason]; pull {
		if age >= r.opts.ImagePullTimeout {
			return r.failSubmission(ctx, s, pod, fmt.Sprintf("driver image not pulled after %s: %s: %s; %s", r.opts.ImagePullTimeout, obs.waitingReason, obs.waitingMessage, hint))
		}
		s.requeue(r.opts.ImagePullTimeout - age)
	}
	waiting := setDriverScheduled(s, pod)
	t, err := r.startTimeout(s.app)
	if err != nil {
		return r.failSubmission(ctx, s, pod, err.Error())
	}
	if t > 0 {
		if age >= t {
			msg := fmt.Sprintf("driver pod %s did not start within %s: %s", pod.Name, t, pendingReason(pod))
			if err := r.deleteDriver(ctx, s, pod); err != nil {
				return err
			}
			if err := r.deleteUI(ctx, s.app); err != nil {
				return err
			}
			s.setState(v1beta2.ApplicationStateFailing, msg)
			s.app.Status.TerminationTime = metav1.NewTime(s.now)
			s.event(corev1.EventTypeWarning, ReasonDriverTimeout, "%s", msg)
			return nil
		}
		s.requeue(t - age)
	}
	if s.app.Status.AppState.State != v1beta2.ApplicationStateSubmitted {
		s.setState(v1beta2.ApplicationStateSubmitted, "")
		s.event(corev1.EventTypeNormal, ReasonDriverPending, "Driver %s is pending", pod.Name)
	}
	if prev := meta.FindStatusCondition(s.orig.Status.Conditions, v1beta2.ConditionDriverScheduled); waiting != "" && schedulerReported(pod) && (prev == nil || prev.Message != waiting) {
		s.event(corev1.EventTypeNormal, ReasonDriverWaiting, "%s", waiting)
	}
	r.ensureUIBestEffort(ctx, s, pod)
	return r.ensureDriverPDB(ctx, s)
}

// failSubmission stops an attempt whose driver cannot start because of the submission itself.
func (r *Reconciler) failSubmission(ctx context.Context, s *scope, pod *corev1.Pod, msg string) error {
	if err := r.deleteDriver(ctx, s, pod); err != nil {
		return err
	}
	if err := r.deleteUI(ctx, s.app); err != nil {
		return err
	}
	s.setSubmissionFailed(msg)
	s.event(corev1.EventTypeWarning, ReasonSubmissionFailed, "%s", msg)
	return nil
}

// finishTime is when the Spark container terminated, else now.
func finishTime(pod *corev1.Pod, now time.Time) time.Time {
	if c := sparkContainerStatus(pod); c != nil && c.State.Terminated != nil && !c.State.Terminated.FinishedAt.IsZero() {
		return c.State.Terminated.FinishedAt.Time
	}
	return now
}

// handleSucceeding completes the application, or with restartPolicy Always reruns it.
func (r *Reconciler) handleSucceeding(ctx context.Context, s *scope) error {
	if err := r.updateExecutors(ctx, s, true); err != nil {
		return err
	}
	if restartPolicy(s.app).Type == v1beta2.RestartPolicyAlways {
		return r.rerun(ctx, s)
	}
	if err := r.deleteUI(ctx, s.app); err != nil {
		return err
	}
	if err := r.cleanupBatchScheduling(ctx, s); err != nil {
		return err
	}
	// No Event: SparkDriverCompleted said it already, and Kubeflow writes none for this step.
	s.setState(v1beta2.ApplicationStateCompleted, "")
	return nil
}

// handleFailing retries the application when its restart policy allows (after the retry interval), or
// fails it.
func (r *Reconciler) handleFailing(ctx context.Context, s *scope) error {
	if err := r.updateExecutors(ctx, s, false); err != nil {
		return err
	}
	rp := restartPolicy(s.app)
	st := &s.app.Status
	retry := rp.Type == v1beta2.RestartPolicyAlways || infrastructureRestart(s.app) ||
		(rp.Type == v1beta2.RestartPolicyOnFailure && countedAttempts(st.ExecutionAttempts, st) <= ptr.Deref(rp.OnFailureRetries, 0))
	if !retry {
		if err := r.deleteUI(ctx, s.app); err != nil {
			return err
		}
		if err := r.cleanupBatchScheduling(ctx, s); err != nil {
			return err
		}
		s.setState(v1beta2.ApplicationStateFailed, st.AppState.ErrorMessage)
		s.event(corev1.EventTypeWarning, ReasonFailed, "SparkApplication %s failed: %s", s.app.Name, st.AppState.ErrorMessage)
		return nil
	}
	base := st.TerminationTime.Time
	if base.IsZero() {
		base = s.now
	}
	wait := retryWait(ptr.Deref(rp.OnFailureRetryInterval, 5), st.SubmissionAttempts)
	if due := base.Add(wait); s.now.Before(due) {
		s.requeue(due.Sub(s.now))
		return nil
	}
	return r.rerun(ctx, s)
}

// handleSubmissionFailed resubmits after the retry interval when the restart policy allows, or fails
// the application.
func (r *Reconciler) handleSubmissionFailed(ctx context.Context, s *scope) error {
	rp := restartPolicy(s.app)
	st := &s.app.Status
	retry := rp.Type == v1beta2.RestartPolicyAlways ||
		(rp.Type == v1beta2.RestartPolicyOnFailure && countedAttempts(st.SubmissionAttempts, st) <= ptr.Deref(rp.OnSubmissionFailureRetries, 0))
	if !retry {
		if err := r.cleanupBatchScheduling(ctx, s); err != nil {
			return err
		}
		st.TerminationTime = metav1.NewTime(s.now)
		s.setState(v1beta2.ApplicationStateFailed, st.AppState.ErrorMessage)
		s.event(corev1.EventTypeWarning, ReasonFailed, "SparkApplication %s failed: %s", s.app.Name, st.AppState.ErrorMessage)
		return nil
	}
	wait := retryWait(ptr.Deref(rp.OnSubmissionFailureRetryInterval, 5), st.SubmissionAttempts)
	if due := st.LastSubmissionAttemptTime.Add(wait); s.now.Before(due) {
		s.requeue(due.Sub(s.now))
		return nil
	}
	gone, err := r.stopAttempt(ctx, s)
	if err != nil || !gone {
		return err
	}
	return r.submit(ctx, s)
}

// retryWait is the linear backoff of Kubeflow: interval seconds x attempts so far.
func retryWait(intervalSeconds int64, attempts int32) time.Duration {
	return time.Duration(intervalSeconds) * time.Second * time.Duration(max(attempts, 1))
}

func restartPolicy(app *v1beta2.SparkApplication) v1beta2.RestartPolicy {
	rp := app.Spec.RestartPolicy
	if rp.Type == "" {
		rp.Type = v1beta2.RestartPolicyNever
	}
	return rp
}

// rerun stops the finished attempt and moves to PENDING_RERUN, keeping the attempt counters.
func (r *Reconciler) rerun(ctx context.Context, s *scope) error {
	return r.toPendingRerun(ctx, s, "SparkApplication %s is pending rerun")
}

// handleInvalidating stops the current attempt, resets the attempt counters and moves to PENDING_RERUN.
func (r *Reconciler) handleInvalidating(ctx context.Context, s *scope) error {
	if err := r.toPendingRerun(ctx, s, "SparkApplication %s is pending rerun with its new spec"); err != nil {
		return err
	}
	s.app.Status.SubmissionAttempts, s.app.Status.ExecutionAttempts, s.app.Status.InfrastructureRestarts = 0, 0, 0
	s.app.Status.LastSubmissionAttemptTime = metav1.Time{}
	return nil
}

// toPendingRerun stops the current attempt, clears what belonged to it (resetAttempt) and moves to
// PENDING_RERUN with a PendingRerun event whose message is format with the application's name.
func (r *Reconciler) toPendingRerun(ctx context.Context, s *scope, format string) error {
	if _, err := r.stopAttempt(ctx, s); err != nil {
		return err
	}
	resetAttempt(&s.app.Status)
	s.setState(v1beta2.ApplicationStatePendingRerun, "")
	s.event(corev1.EventTypeNormal, ReasonPendingRerun, format, s.app.Name)
	return nil
}

// handleSuspending stops the current attempt; once its driver pod is gone the application is SUSPENDED.
func (r *Reconciler) handleSuspending(ctx context.Context, s *scope) error {
	gone, err := r.stopAttempt(ctx, s)
	if err != nil || !gone {
		return err
	}
	if err := r.cleanupBatchScheduling(ctx, s); err != nil {
		return err
	}
	resetAttempt(&s.app.Status)
	s.setState(v1beta2.ApplicationStateSuspended, "")
	s.event(corev1.EventTypeNormal, ReasonSuspended, "SparkApplication %s is suspended", s.app.Name)
	return nil
}

// submitWhenGone submits a PENDING_RERUN or RESUMING application once the previous driver pod is gone.
func (r *Reconciler) submitWhenGone(ctx context.Context, s *scope) error {
	if wait := submissionRetryDue(s.app, s.now); wait > 0 {
		s.requeue(wait)
		return nil
	}
	gone, err := r.stopAttempt(ctx, s)
	if err != nil || !gone {
		return err
	}
	return r.submit(ctx, s)
}

// resetAttempt clears what belonged to the finished attempt, as Kubeflow's resetSparkApplicationStatus.
func resetAttempt(st *v1beta2.SparkApplicationStatus) {
	st.SparkApplicationID = ""
	st.TerminationTime = metav1.Time{}
	st.AppState.ErrorMessage = ""
	st.DriverInfo = v1beta2.DriverInfo{}
	st.ExecutorState = nil
	st.ExecutorCounts = nil
}

// handleTerminated keeps a COMPLETED or FAILED application tidy (no UI objects, no finalizer left on
// its driver pod) and deletes it when its time to live has passed.
func (r *Reconciler) handleTerminated(ctx context.Context, s *scope) error {
	if err := r.deleteUI(ctx, s.app); err != nil {
		return err
	}
	if err := r.deleteDriverPDB(ctx, s); err != nil {
		return err
	}
	clearExecutorQuota(s)
	if pod, err := r.currentDriver(ctx, s.app); err != nil {
		return err
	} else if pod != nil {
		r.releaseDriver(s, pod)
	}
	ttl, ok := r.timeToLive(s.app)
	if !ok {
		return nil
	}
	if !isTerminal(s.orig.Status.AppState.State) {
		// The application terminated in this reconcile and its COMPLETED or FAILED is not written
		// yet: write it first, so that clients waiting for the terminal state (Airflow's sensor,
		// kubectl wait) see it even when the time to live has already passed (a reconcile that
		// comes late, or timeToLiveSeconds 0), and delete it on the next reconcile.
		s.requeue(time.Millisecond)
		return nil
	}
	end := s.app.Status.TerminationTime.Time
	if end.IsZero() {
		end = s.now
	}
	if expiry := end.Add(ttl); s.now.Before(expiry) {
		s.requeue(expiry.Sub(s.now))
		return nil
	}
	s.log.Info("Deleting SparkApplication whose time to live has passed", "ttl", ttl)
	err := r.client.Delete(ctx, s.orig, client.Preconditions{UID: &s.orig.UID}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	r.recorder.Eventf(s.orig, nil, corev1.EventTypeNormal, ReasonTTLExpired, "Reconcile", "SparkApplication %s deleted %s after it terminated", s.app.Name, ttl)
	s.deleted = true
	return nil
}

// timeToLive is spec.timeToLiveSeconds (<= 0 means at once), else the operator default when set.
func (r *Reconciler) timeToLive(app *v1beta2.SparkApplication) (time.Duration, bool) {
	if app.Spec.TimeToLiveSeconds != nil {
		return max(time.Duration(*app.Spec.TimeToLiveSeconds)*time.Second, 0), true
	}
	if r.opts.DefaultTimeToLive > 0 {
		return r.opts.DefaultTimeToLive, true
	}
	return 0, false
}

// isTerminal says whether state is COMPLETED or FAILED, where an application ends.
func isTerminal(state v1beta2.ApplicationStateType) bool {
	return state == v1beta2.ApplicationStateCompleted || state == v1beta2.ApplicationStateFailed
}
