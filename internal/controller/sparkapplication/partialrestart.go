package sparkapplication

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// clearPartialRestartFields clears the executor fields whose change alone does not restart an
// application under the PartialRestart feature gate: priorityClassName, nodeSelector, tolerations,
// affinity and schedulerName (Kubeflow's list). Driver fields always restart it: the driver pod
// exists once per attempt.
func clearPartialRestartFields(spec *v1beta2.SparkApplicationSpec) {
	e := &spec.Executor
	e.PriorityClassName, e.NodeSelector, e.Tolerations, e.Affinity, e.SchedulerName = nil, nil, nil, nil, nil
}

// sameSpec says whether the spec hash now (SpecHash) equals the one the attempt was submitted with.
// A hash written before SpecHash had its second part compares with the first part alone.
func sameSpec(now, submitted string) bool {
	full, _, _ := strings.Cut(now, "/")
	return now == submitted || full == submitted
}

// partialRestart, with the PartialRestart feature gate, keeps the current attempt when the spec
// differs from the submitted one only in the executor fields clearPartialRestartFields lists: it
// records the new spec as the attempt's (so later changes compare with it), and an Event. Executors
// the running driver still creates keep the values it was submitted with; the next submission (a
// retry, a rerun, another change) uses the new ones. Kubeflow applies them to later executors of the
// same attempt through its mutating webhook, which native submission does not use.
func (r *Reconciler) partialRestart(s *scope) bool {
	if !r.opts.PartialRestart {
		return false
	}
	now := SpecHash(s.app)
	_, partNow, _ := strings.Cut(now, "/")
	_, partSubmitted, ok := strings.Cut(s.app.Status.SubmittedSpecHash, "/")
	if !ok || partNow != partSubmitted {
		return false
	}
	s.app.Status.SubmittedSpecHash = now
	s.event(corev1.EventTypeNormal, ReasonExecutorFieldsUpdated,
		"SparkApplication %s: only executor scheduling fields changed (PartialRestart); the running attempt continues, the next submission uses them", s.app.Name)
	return true
}
