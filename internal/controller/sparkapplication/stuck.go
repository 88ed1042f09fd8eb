package sparkapplication

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// A driver pod being deleted goes away only when its node's kubelet confirms that its containers
// stopped. On a node that is gone (its Node object deleted) or not Ready, no kubelet does, and the pod
// stays Terminating for good: its attempt never ends and the next one never starts (there is never
// more than one driver per application). Once such a pod has been Terminating past its grace period
// plus Options.StuckTerminatingTimeout, measured from when its node stopped being Ready when that
// came later, the operator force-deletes it (grace period 0), as `kubectl delete --force` would, and
// records ReasonDriverForceDeleted. The attempt ends as an infrastructure failure (infrastructure.go).
// The risk is Kubernetes' own for force deletion: a node that is only cut off from the API server
// may still run the old driver beside the new one until it comes back; the timeout is the price
// paid for that, and a Node object deleted by its owner means the machine is gone.

// +kubebuilder:rbac:groups="",resources=nodes,verbs=get

// stuckTerminating says whether pod, being deleted, is stuck on a node that is gone or not Ready
// past the bound, and why. When it is not (yet), it asks for another look when it could be.
func (r *Reconciler) stuckTerminating(ctx context.Context, s *scope, pod *corev1.Pod) (string, bool, error) {
	if pod.DeletionTimestamp == nil || pod.Spec.NodeName == "" {
		// An unbound pod is deleted at once by the API server.
		return "", false, nil
	}
	since := pod.DeletionTimestamp.Time
	why := ""
	node := &corev1.Node{}
	if err := r.reader().Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node); err != nil {
		if apierrors.IsForbidden(err) {
			// Namespaced permissions only (the chart's Roles for a fixed list of namespaces): the
			// node cannot be read, so nothing is force-deleted (docs/state-machine.md).
			s.log.V(1).Info("Cannot read the node of a Terminating driver pod; not force-deleting it", "pod", pod.Name, "node", pod.Spec.NodeName, "err", err.Error())
			s.requeue(r.opts.StuckTerminatingTimeout)
			return "", false, nil
		}
		if !apierrors.IsNotFound(err) {
			return "", false, fmt.Errorf("reading node %s of driver pod %s: %w", pod.Spec.NodeName, pod.Name, err)
		}
		why = fmt.Sprintf("its node %s no longer exists", pod.Spec.NodeName)
	} else if ready := nodeReady(node); ready == nil || ready.Status != corev1.ConditionTrue {
		why = fmt.Sprintf("its node %s is not Ready", pod.Spec.NodeName)
		if ready != nil {
			why += fmt.Sprintf(" (%s since %s)", firstNonEmpty(ready.Reason, string(ready.Status)), ready.LastTransitionTime.UTC().Format(time.RFC3339))
			if ready.LastTransitionTime.After(since) {
				since = ready.LastTransitionTime.Time
			}
		}
	}
	if why == "" {
		// A node that is Ready finishes the deletion itself; look again in case it stops being so.
		s.requeue(r.opts.StuckTerminatingTimeout)
		return "", false, nil
	}
	if due := since.Add(r.opts.StuckTerminatingTimeout); s.now.Before(due) {
		s.requeue(due.Sub(s.now))
		return "", false, nil
	}
	return fmt.Sprintf("driver pod %s was stuck Terminating since %s: %s", pod.Name, pod.DeletionTimestamp.UTC().Format(time.RFC3339), why), true, nil
}

// nodeReady is the Ready condition of node, or nil.
func nodeReady(node *corev1.Node) *corev1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == corev1.NodeReady {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}

// forceDeleteIfStuck force-deletes pod when it is stuck Terminating (stuckTerminating), records why,
// and releases its finalizer after the status write. It reports whether it did, and why.
func (r *Reconciler) forceDeleteIfStuck(ctx context.Context, s *scope, pod *corev1.Pod) (string, bool, error) {
	why, stuck, err := r.stuckTerminating(ctx, s, pod)
	if err != nil || !stuck {
		return "", false, err
	}
	s.log.Info("Force-deleting a driver pod stuck Terminating", "pod", pod.Name, "why", why)
	err = r.client.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &pod.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return "", false, fmt.Errorf("force-deleting driver pod %s: %w", pod.Name, err)
	}
	s.event(corev1.EventTypeWarning, ReasonDriverForceDeleted, "%s; force-deleted it (grace period 0) so that the next attempt can start", why)
	r.releaseDriver(s, pod)
	return why, true, nil
}

// followStuckDriver ends the attempt of a current driver pod that is stuck Terminating without its
// Spark container having terminated: it is force-deleted and the attempt fails as an infrastructure
// failure (the pod's disruption reason when it has one, else its node lost). It reports whether it
// did.
func (r *Reconciler) followStuckDriver(ctx context.Context, s *scope, pod *corev1.Pod) (bool, error) {
	why, stuck, err := r.forceDeleteIfStuck(ctx, s, pod)
	if err != nil || !stuck {
		return false, err
	}
	// Whatever started the deletion (an eviction, a preemption, the taint manager), the node that
	// never carried it out is why the attempt ends.
	f := infraFailure{cause: causeNodeLost, detail: why}
	if d, ok := infrastructureFailure(pod); ok {
		f.detail = d.detail + "; " + why
	}
	if err := r.deleteUI(ctx, s.app); err != nil {
		return false, err
	}
	r.failInfrastructure(s, pod, f)
	return true, nil
}

// reader reads what the cache does not hold (nodes): the API server when running under a manager,
// else the client.
func (r *Reconciler) reader() client.Reader {
	if r.apiReader != nil {
		return r.apiReader
	}
	return r.client
}

// checkUnfinishedDriver applies to a driver pod whose Spark container has not terminated what can
// end its attempt from outside: stuck Terminating (this file), the driver ready and executor start
// timeouts (timeouts.go). It reports whether the attempt ended.
func (r *Reconciler) checkUnfinishedDriver(ctx context.Context, s *scope, pod *corev1.Pod, obs driverObservation) (bool, error) {
	switch obs.state {
	case v1beta2.DriverStateCompleted, v1beta2.DriverStateFailed:
		return false, nil
	}
	if pod.DeletionTimestamp != nil {
		return r.followStuckDriver(ctx, s, pod)
	}
	return r.checkAttemptTimeouts(ctx, s, pod)
}
