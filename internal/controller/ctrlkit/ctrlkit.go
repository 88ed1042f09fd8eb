// Package ctrlkit is what the operator's controllers (sparkapplication, scheduledsparkapplication,
// sparkconnect) set up alike: their controller-runtime options, the start of a reconcile (logger,
// namespace filter) and the events a reconcile records once its status is written.
package ctrlkit

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sparkop/spark-operator/internal/controller/namespaces"
)

// DefaultWorkers is a controller's number of reconcile workers when its Options leave it 0.
const DefaultWorkers = 10

// ControllerOptions are the controller-runtime options of every controller: workers reconciles at
// once, the workqueue's rate limiter (--workqueue-ratelimiter-*; nil is controller-runtime's), and
// RecoverPanic: a panicking reconcile is logged, counted in
// controller_runtime_reconcile_panics_total and retried with back-off.
func ControllerOptions(workers int, rateLimiter workqueue.TypedRateLimiter[reconcile.Request]) controller.Options {
	return controller.Options{MaxConcurrentReconciles: workers, RateLimiter: rateLimiter, RecoverPanic: ptr.To(true)}
}

// Begin starts one reconcile of req: it returns ctx carrying a logger with the object's name under
// key ("sparkApplication"), that logger, and whether filter (--namespace-selector; nil serves every
// namespace) serves the object's namespace. An error is the filter's.
func Begin(ctx context.Context, req ctrl.Request, key string, filter *namespaces.Filter) (context.Context, klog.Logger, bool, error) {
	log := ctrl.LoggerFrom(ctx).WithValues(key, req.NamespacedName)
	ctx = ctrl.LoggerInto(ctx, log)
	ok, err := filter.Serves(ctx, req.Namespace)
	return ctx, log, ok, err
}

// Event is one Kubernetes event to record.
type Event struct {
	Type, Reason, Message string
}

// Events are the events one reconcile records once its status is written (so that no event
// announces a state the status does not show).
type Events []Event

// Add appends an event of type eventType (Normal, Warning) with the formatted message.
func (e *Events) Add(eventType, reason, format string, args ...any) {
	*e = append(*e, Event{eventType, reason, fmt.Sprintf(format, args...)})
}

// Emit records every event on obj, in order, with the action "Reconcile".
func (e Events) Emit(recorder events.EventRecorder, obj runtime.Object) {
	for _, ev := range e {
		recorder.Eventf(obj, nil, ev.Type, ev.Reason, "Reconcile", "%s", ev.Message)
	}
}
