package sparkapplication

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// reportPanic, deferred by Reconcile once the application is read, records a ReasonReconcilePanic
// event on app when the reconcile panics, then panics again with the same value for
// controller-runtime's RecoverPanic to recover (the deferred call runs on the panicking stack, so the
// logged stack still shows where the panic happened).
func (r *Reconciler) reportPanic(app *v1beta2.SparkApplication) {
	p := recover()
	if p == nil {
		return
	}
	r.recorder.Eventf(app, nil, corev1.EventTypeWarning, ReasonReconcilePanic, "Reconcile",
		"%s", fmt.Sprintf("The operator failed on this application (panic: %v) and retries it with back-off; please report this with the operator's log", p))
	panic(p)
}
