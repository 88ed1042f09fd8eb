package sparkapplication

import (
	"time"

	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// KueueQueueNameLabel is the label that puts an application in a Kueue LocalQueue; Kueue's
// SparkApplication integration manages only applications that carry it (unless Kueue is configured
// with manageJobsWithoutQueueName).
const KueueQueueNameLabel = "kueue.x-k8s.io/queue-name"

// This file holds the one place where the state machine bends for Kueue (docs/kueue.md).
//
// Kueue v0.17.0 counts COMPLETED, FAILED and SUBMISSION_FAILED as finished: it marks the workload
// Finished, returns its quota, and never admits it again. A SUBMISSION_FAILED that the restart policy
// retries would then run outside the queue's quota. So for an application in a Kueue queue, a failed
// submission that will be retried is recorded as PENDING_RERUN (with the failure as its error message
// and the usual SparkApplicationSubmissionFailed Event), which Kueue counts as still running: the
// quota stays reserved for the retry, which waits the same onSubmissionFailureRetryInterval. Once no
// retry is left the application goes SUBMISSION_FAILED and FAILED as everywhere else, and Kueue
// releases the quota. Neither the quota nor the application is lost.

// kueueManaged reports whether the application is in a Kueue queue.
func kueueManaged(app *v1beta2.SparkApplication) bool {
	_, ok := app.Labels[KueueQueueNameLabel]
	return ok
}

// submissionRetryAllowed reports whether the restart policy submits the application again after its
// SubmissionAttempts-th submission failed.
func submissionRetryAllowed(app *v1beta2.SparkApplication) bool {
	rp := restartPolicy(app)
	return rp.Type == v1beta2.RestartPolicyAlways ||
		(rp.Type == v1beta2.RestartPolicyOnFailure && app.Status.SubmissionAttempts <= ptr.Deref(rp.OnSubmissionFailureRetries, 0))
}

// submissionFailedState is the state a failed submission is recorded in: PENDING_RERUN for an
// application in a Kueue queue that will be retried, SUBMISSION_FAILED otherwise.
func submissionFailedState(app *v1beta2.SparkApplication) v1beta2.ApplicationStateType {
	if kueueManaged(app) && submissionRetryAllowed(app) {
		return v1beta2.ApplicationStatePendingRerun
	}
	return v1beta2.ApplicationStateFailedSubmission
}

// setSubmissionFailed records a failed submission in the state submissionFailedState chooses. A
// failure recorded as PENDING_RERUN still counts as a failed submission in the metrics.
func (s *scope) setSubmissionFailed(msg string) {
	state := submissionFailedState(s.app)
	if state == v1beta2.ApplicationStatePendingRerun {
		s.transitions = append(s.transitions, v1beta2.ApplicationStateFailedSubmission)
	}
	s.setState(state, msg)
}

// submissionRetryDue says, for a PENDING_RERUN application, how long its submission retry must still
// wait: a PENDING_RERUN with an error message is a failed submission of a Kueue-managed application
// waiting its retry interval (an ordinary rerun clears the message); zero when it may submit now.
func submissionRetryDue(app *v1beta2.SparkApplication, now time.Time) time.Duration {
	st := &app.Status
	if st.AppState.State != v1beta2.ApplicationStatePendingRerun || st.AppState.ErrorMessage == "" || !kueueManaged(app) {
		return 0
	}
	wait := retryWait(ptr.Deref(restartPolicy(app).OnSubmissionFailureRetryInterval, 5), st.SubmissionAttempts)
	if due := st.LastSubmissionAttemptTime.Add(wait); now.Before(due) {
		return due.Sub(now)
	}
	return 0
}
