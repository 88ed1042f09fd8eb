package sparkapplication

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// IndexAppName is a cache index of Pods and Services by the application they belong to (label
// sparkoperator.k8s.io/app-name). Listing an application's executors or UI Services through it costs
// the size of the answer; a label selector would scan every cached pod of the namespace on each
// reconcile, which is quadratic with thousands of applications.
const IndexAppName = "sparkoperator.k8s.io/app-name"

func indexAppName(o client.Object) []string {
	if name := o.GetLabels()[v1beta2.LabelAppName]; name != "" {
		return []string{name}
	}
	return nil
}

// setupIndexes registers IndexAppName on Pods and Services.
func setupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	for _, obj := range []client.Object{&corev1.Pod{}, &corev1.Service{}} {
		if err := mgr.GetFieldIndexer().IndexField(ctx, obj, IndexAppName, indexAppName); err != nil {
			return err
		}
	}
	return nil
}

// listByApp lists the objects of list's kind that belong to application app in namespace ns and carry
// all the given labels, through the index.
func (r *Reconciler) listByApp(ctx context.Context, list client.ObjectList, ns, app string, labels client.MatchingLabels) error {
	return r.client.List(ctx, list, client.InNamespace(ns), client.MatchingFields{IndexAppName: app}, labels)
}
