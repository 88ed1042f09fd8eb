package sparkapplication

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// statusWrites remembers, per application, the resourceVersion a successful status write replaced,
// until the cache holds a newer version of the application. A reconcile that reads the replaced
// version from the cache would act on a status the controller already moved on from: an application
// written SUBMITTED but still cached as new would be submitted again (adopting the pods by their
// deterministic names, but with a conflicting status write and a create per object that fail as
// AlreadyExists, about 0.2 per application at 10 applications per second before this). Such a
// reconcile waits instead; the watch event of the written version, let through by
// caughtUpPredicate only when a reconcile waits for it, runs it again. This is the "expectations" habit of Kubernetes' own controllers.
//
// An entry lives from the write until the first reconcile that reads a different version, or the
// application's deletion; the map holds at most the applications written and not yet seen again.
type statusWrites struct {
	mu       sync.Mutex
	replaced map[types.NamespacedName]replacedVersion
}

// replacedVersion is the version a status write replaced, and whether a reconcile found it in the
// cache since (and waits for the next one).
type replacedVersion struct {
	rv   string
	held bool
}

// wrote records that the status write of key replaced resourceVersion rv.
func (w *statusWrites) wrote(key types.NamespacedName, rv string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.replaced == nil {
		w.replaced = map[types.NamespacedName]replacedVersion{}
	}
	w.replaced[key] = replacedVersion{rv: rv}
}

// stale reports whether rv, the cached version of key, is one a status write already replaced; a
// different version ends the wait.
func (w *statusWrites) stale(key types.NamespacedName, rv string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if replaced, ok := w.replaced[key]; ok && replaced.rv == rv {
		w.replaced[key] = replacedVersion{rv: rv, held: true}
		return true
	}
	delete(w.replaced, key)
	return false
}

// waiting reports whether an update from version oldRV is the one a reconcile of key held back by
// stale waits for.
func (w *statusWrites) waiting(key types.NamespacedName, oldRV string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	replaced, ok := w.replaced[key]
	return ok && replaced.held && replaced.rv == oldRV
}

// forget drops the entry of a deleted application.
func (w *statusWrites) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.replaced, key)
}

// caughtUpPredicate passes the update that moves the cache past a version a status write replaced,
// when a reconcile was held back waiting for it (a status-only update, which the generation and
// annotation predicates filter out; without a waiting reconcile it needs no reconcile of its own).
func (w *statusWrites) caughtUpPredicate() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectOld == nil {
				return false
			}
			return w.waiting(types.NamespacedName{Namespace: e.ObjectOld.GetNamespace(), Name: e.ObjectOld.GetName()}, e.ObjectOld.GetResourceVersion())
		},
	}
}
