package sparkconnect

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sparkop/spark-operator/api/v1alpha1"
)

// computeStatus sets the status from what reconcileServer found:
//   - Failed (condition False, reason ServerFailed, the reason as message) when the server cannot start;
//   - Ready (condition True) while the server pod is Ready;
//   - NotReady while a server that had been Ready is not (its pod not Ready, or being replaced);
//   - Provisioning otherwise (creating, starting, or replaced after a spec change).
//
// Transitions into Ready, NotReady and Failed are Events.
func computeStatus(s *scope, executors map[string]int) {
	st := &s.conn.Status
	prev := s.orig.Status.State
	if st.StartTime.IsZero() {
		st.StartTime = metav1.NewTime(s.now)
	}
	st.Executors = executors
	st.Server.ServiceName = ServiceName(s.conn)
	st.Server.PodName, st.Server.PodIP = "", ""
	if s.pod != nil {
		st.Server.PodName, st.Server.PodIP = s.pod.Name, s.pod.Status.PodIP
	}
	cond := metav1.Condition{Type: v1alpha1.ConditionServerPodReady, ObservedGeneration: s.conn.Generation}
	switch {
	case s.failure != "":
		st.State = v1alpha1.SparkConnectStateFailed
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonServerFailed, s.failure
		if prev != v1alpha1.SparkConnectStateFailed {
			s.event(corev1.EventTypeWarning, ReasonFailed, "%s", s.failure)
			ns := s.conn.Namespace
			s.observe = append(s.observe, func() { s.metrics.Failed(ns) })
		}
	case s.pod != nil && serverReady(s.pod):
		st.State = v1alpha1.SparkConnectStateReady
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, v1alpha1.ReasonServerPodReady, "server pod "+s.pod.Name+" is ready"
		if prev != v1alpha1.SparkConnectStateReady {
			s.event(corev1.EventTypeNormal, ReasonServerReady, "server pod %s is ready: sc://%s.%s.svc:%d", s.pod.Name, st.Server.ServiceName, s.conn.Namespace, ServerPort)
		}
	case (prev == v1alpha1.SparkConnectStateReady || prev == v1alpha1.SparkConnectStateNotReady) && s.pod != nil:
		st.State = v1alpha1.SparkConnectStateNotReady
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonServerPodNotReady, "server pod "+s.pod.Name+" is not ready"
		if prev != v1alpha1.SparkConnectStateNotReady {
			s.event(corev1.EventTypeWarning, ReasonServerNotReady, "server pod %s is not ready", s.pod.Name)
		}
	default:
		st.State = v1alpha1.SparkConnectStateProvisioning
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonServerPodNotReady, "the server is starting"
	}
	meta.SetStatusCondition(&st.Conditions, cond)
}

// writeStatus writes the status when it changed, with lastUpdateTime; done is true when the
// reconcile ends here (an error, or a conflict to retry shortly).
func (r *Reconciler) writeStatus(ctx context.Context, s *scope) (res ctrl.Result, err error, done bool) {
	if equality.Semantic.DeepEqual(s.orig.Status, s.conn.Status) {
		return ctrl.Result{}, nil, false
	}
	s.conn.Status.LastUpdateTime = metav1.NewTime(s.now)
	if err := r.client.Status().Update(ctx, s.conn); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil, true
		}
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil, true // deleted meanwhile
		}
		return ctrl.Result{}, err, true
	}
	return ctrl.Result{}, nil, false
}
