package sparkapplication

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
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

// UIObjectLabels select the only Services and Ingresses the controller reads back: the UI objects it
// creates for an attempt (ensureUI, deleteUI). The manager's cache of Services and Ingresses can be
// restricted to them; the driver's headless Service, one per application for as long as the
// application exists, is created once at submission and never read, so it need not be cached.
func UIObjectLabels() labels.Set {
	return labels.Set{v1beta2.LabelCreatedBySparkOperator: "true", LabelComponent: componentUI}
}
