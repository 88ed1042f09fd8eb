package sparkapplication

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Taking over from Kubeflow's operator. An application that Kubeflow's controller submitted is
// followed from the status that controller wrote: status.submissionID (a random UUID, also the
// sparkoperator.k8s.io/submission-id label of its pods), status.driverInfo.podName, the attempt
// counters and lastSubmissionAttemptTime have the same meaning here, so the driver pod of the current
// attempt is found and followed as one of ours (without our driver finalizer, which only pods this
// controller creates carry), and the retries Kubeflow spent count. Two fields are ours only and are
// filled in on the first look.

// adoptAttempt fills in status.submittedSpecHash for an attempt submitted by another controller
// (Kubeflow's writes none): the spec as found is taken as the one submitted, so a later change of the
// spec or of the rerun annotation invalidates the attempt (as Kubeflow's controller does for one in
// progress) or, for a COMPLETED, FAILED or SUBMISSION_FAILED application, submits it again (as for
// ours). States that submit anyway or take the spec when resuming (PENDING_RERUN, INVALIDATING,
// SUSPENDING, SUSPENDED, RESUMING) need no hash: the next submission records one.
func adoptAttempt(s *scope) {
	st := &s.app.Status
	if st.SubmittedSpecHash != "" || st.SubmissionID == "" {
		return
	}
	switch st.AppState.State {
	case v1beta2.ApplicationStateNew, v1beta2.ApplicationStatePendingRerun, v1beta2.ApplicationStateInvalidating,
		v1beta2.ApplicationStateSuspending, v1beta2.ApplicationStateSuspended, v1beta2.ApplicationStateResuming:
		return
	}
	s.log.Info("Following an attempt submitted by another controller", "submissionID", st.SubmissionID, "state", st.AppState.State, "driver", st.DriverInfo.PodName)
	st.SubmittedSpecHash = SpecHash(s.app)
}

// adoptAppID sets status.sparkApplicationId from the driver pod's spark-app-selector label when the
// status has none: Kubeflow's controller reads it from the pod only after the submission, so an
// application taken over while SUBMITTED may lack it (ours record it when submitting).
func adoptAppID(st *v1beta2.SparkApplicationStatus, pod *corev1.Pod) {
	if st.SparkApplicationID == "" {
		st.SparkApplicationID = pod.Labels[v1beta2.LabelSparkAppSelector]
	}
}
