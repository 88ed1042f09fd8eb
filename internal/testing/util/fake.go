package util

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
)

// IndexAppName is the field index the SparkApplication controller lists pods and Services by
// (sparkapplication.IndexAppName): the value of their sparkoperator.k8s.io/app-name label. The fake
// client of NewFakeClient has it, so the controller's List calls work unchanged.
const IndexAppName = "sparkoperator.k8s.io/app-name"

// Scheme is the operator's scheme: the built-in types, v1beta2 and v1alpha1. It is built once and shared;
// do not add to it.
var Scheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1beta2.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
})

// NewFakeClient returns controller-runtime's fake client for unit tests of one reconciler: the
// operator's scheme, IndexAppName on Pods and Services, the status subresource on the three
// application kinds and Pods (so Update leaves status alone and Status().Update spec, as the API
// server does), objs already stored, and funcs intercepting calls (to answer with API errors;
// zero funcs pass everything through). Objects created through it get, as the API server gives
// them, a creationTimestamp (from clk, when they have none) and generation 1; the fake client
// itself sets neither.
func NewFakeClient(clk clock.PassiveClock, funcs interceptor.Funcs, objs ...client.Object) client.WithWatch {
	byAppName := func(o client.Object) []string {
		if name := o.GetLabels()[v1beta2.LabelAppName]; name != "" {
			return []string{name}
		}
		return nil
	}
	create := funcs.Create
	funcs.Create = func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
		if ts := obj.GetCreationTimestamp(); ts.IsZero() {
			obj.SetCreationTimestamp(metav1.NewTime(clk.Now()))
		}
		if obj.GetGeneration() == 0 {
			obj.SetGeneration(1)
		}
		if create != nil {
			return create(ctx, c, obj, opts...)
		}
		return c.Create(ctx, obj, opts...)
	}
	return fake.NewClientBuilder().
		WithScheme(Scheme()).
		WithStatusSubresource(&v1beta2.SparkApplication{}, &v1beta2.ScheduledSparkApplication{}, &v1alpha1.SparkConnect{}, &corev1.Pod{}).
		WithIndex(&corev1.Pod{}, IndexAppName, byAppName).
		WithIndex(&corev1.Service{}, IndexAppName, byAppName).
		WithObjects(objs...).
		WithInterceptorFuncs(funcs).
		Build()
}

// Event is one event given to a Recorder.
type Event struct {
	// Object is the namespace and name of the object the event is about.
	Object types.NamespacedName
	// Type is Normal or Warning; Reason, Action and Note are as given (Note formatted).
	Type, Reason, Action, Note string
}

// String reads "Warning SparkDriverFailed: Driver pi-driver failed: ...".
func (e Event) String() string { return fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Note) }

// Recorder is an events.EventRecorder that keeps every event it is given, in order, for a test to
// read; it is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

var _ events.EventRecorder = (*Recorder)(nil)

// Eventf records the event.
func (r *Recorder) Eventf(regarding, _ runtime.Object, eventType, reason, action, note string, args ...any) {
	e := Event{Type: eventType, Reason: reason, Action: action, Note: fmt.Sprintf(note, args...)}
	if o, ok := regarding.(client.Object); ok {
		e.Object = client.ObjectKeyFromObject(o)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns the events recorded so far, oldest first.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Reasons returns the reasons of the events recorded so far, oldest first.
func (r *Recorder) Reasons() []string {
	var out []string
	for _, e := range r.Events() {
		out = append(out, e.Reason)
	}
	return out
}

// Reset forgets the events recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}
