package sparkapplication

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// driverReleases remembers, per application, the version of the driver pod whose finalizer this
// controller released (removeFinalizer succeeded), so that the next reconcile, which usually runs
// on the watch event of its own status write before the cache holds the patched pod, does not send
// the same PATCH again (issue 20: it was the second of two finalizer PATCHes per application).
// A cached pod of another version (the patched one, or a change by someone else) ends the wait:
// if that version still carries the finalizer, it is released again.
//
// An entry lives from the release until a reconcile reads another version of the pod or the
// application is deleted: at most one small entry per application the cache holds.
type driverReleases struct {
	mu       sync.Mutex
	released map[types.NamespacedName]podVersion
}

// podVersion is one version of a pod.
type podVersion struct {
	uid types.UID
	rv  string
}

// done records that the finalizer of the application's driver pod uid, cached at version rv, was
// released.
func (d *driverReleases) done(app types.NamespacedName, uid types.UID, rv string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.released == nil {
		d.released = map[types.NamespacedName]podVersion{}
	}
	d.released[app] = podVersion{uid: uid, rv: rv}
}

// pending reports whether the cached driver pod (uid at version rv) is the version whose finalizer
// was already released, the PATCH's result not being in the cache yet; any other version drops the
// entry.
func (d *driverReleases) pending(app types.NamespacedName, uid types.UID, rv string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.released[app]; ok && v == (podVersion{uid: uid, rv: rv}) {
		return true
	}
	delete(d.released, app)
	return false
}

// forget drops the entry of an application (deleted, or its driver seen without the finalizer).
func (d *driverReleases) forget(app types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.released, app)
}
