package webhook

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/quota"
	"github.com/sparkop/spark-operator/internal/submission"
)

// ResourceQuotaEnforcer is Kubeflow's ResourceQuota enforcement (--enable-resource-quota-enforcement):
// the webhook rejects a SparkApplication whose driver and executors would not fit in its
// namespace's ResourceQuotas (status.used + what the application's pods charge > spec.hard), so that
// it fails at kubectl apply rather than waiting for executors that can never be created. The
// rejection is a Forbidden naming the quota, the resource and the shortfall.
//
// What the pods charge is computed from the pods the operator will create (the rendered driver pod,
// and the executor pod template sized as Spark sizes executors, times the initial executor count;
// see quota.PodUsage), so unlike Kubeflow's estimate it includes sidecars, init containers, memory
// limits and extended resources. As in Kubeflow, quotas with scopes are not checked, and an update
// is checked only when the spec changed. Unlike Kubeflow:
//   - an update of an application whose pods exist counts the old spec's pods as freed (the
//     operator stops them before it submits the new spec), so a running application can be edited;
//   - a suspended application (spec.suspend, as Kueue creates them) is checked when it is resumed,
//     not while its pods do not exist.
type ResourceQuotaEnforcer struct {
	// Reader lists ResourceQuotas; the webhook uses the manager's API reader, so that status.used is
	// the API server's, not a cache's (one small LIST per admitted create or spec change).
	Reader client.Reader
	// Submission are the operator's submission options.
	Submission submission.Options
}

// Check returns a Forbidden error when app (new) does not fit in its namespace's quotas; old is the
// application before an update, nil on create.
func (e *ResourceQuotaEnforcer) Check(ctx context.Context, app, old *v1beta2.SparkApplication) error {
	if ptr(app.Spec.Suspend) {
		return nil
	}
	need, desc, err := quota.ApplicationUsage(app, e.Submission)
	if err != nil {
		// A refusal of the submitter is reported by the validator itself.
		return nil
	}
	if old != nil && !ptr(old.Spec.Suspend) && holdsPods(old.Status.AppState.State) {
		if freed, _, err := quota.ApplicationUsage(old, e.Submission); err == nil {
			need = subtract(need, freed)
		}
	}
	list := &corev1.ResourceQuotaList{}
	if err := e.Reader.List(ctx, list, client.InNamespace(app.Namespace)); err != nil {
		return apierrors.NewInternalError(fmt.Errorf("listing the ResourceQuotas of namespace %s: %w", app.Namespace, err))
	}
	short := quota.Check(list.Items, need)
	if len(short) == 0 {
		return nil
	}
	return apierrors.NewForbidden(v1beta2.GroupVersion.WithResource("sparkapplications").GroupResource(), app.Name,
		fmt.Errorf("%s exceed the namespace's quota: %s", desc, quota.Describe(short)))
}

// holdsPods reports whether an application in this state may have pods charged to the quota.
func holdsPods(st v1beta2.ApplicationStateType) bool {
	switch st {
	case v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateRunning, v1beta2.ApplicationStateUnknown,
		v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateFailing, v1beta2.ApplicationStateInvalidating,
		v1beta2.ApplicationStatePendingRerun:
		return true
	}
	return false
}

// subtract returns a - b, never below zero per resource.
func subtract(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range a {
		d := q.DeepCopy()
		if f, ok := b[name]; ok {
			d.Sub(f)
		}
		if d.Sign() < 0 {
			d.Set(0)
		}
		out[name] = d
	}
	return out
}

func ptr(b *bool) bool { return b != nil && *b }
