package sparkapplication

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// ReasonReconcilePanic is the reason of the Warning event recorded on an application whose reconcile
// panicked. The operator does not crash: controller-runtime's RecoverPanic (set in SetupWithManager)
// turns the panic into an error, logs it with its stack, counts it in
// controller_runtime_reconcile_panics_total{controller="sparkapplication"}, and retries the
// application with the controller's exponential back-off (5 ms doubling to 1000 s), never faster.
const ReasonReconcilePanic = "SparkApplicationReconcilePanic"

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
