package sparkapplication

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestDriverReleases: once the finalizer of a pod version was released, that version is pending
// (no second PATCH); another version, or forgetting the application, ends it.
func TestDriverReleases(t *testing.T) {
	var d driverReleases
	pi := types.NamespacedName{Namespace: "ns", Name: "pi"}
	if d.pending(pi, "uid-1", "5") {
		t.Fatal("pending before any release")
	}
	d.done(pi, "uid-1", "5")
	for range 2 { // as often as reconciles read that version
		if !d.pending(pi, "uid-1", "5") {
			t.Error("the released version is not pending")
		}
	}
	if d.pending(pi, "uid-2", "5") {
		t.Error("another pod of the same name is pending")
	}
	if d.pending(pi, "uid-1", "5") {
		t.Error("the entry outlived a reconcile that read another pod")
	}
	d.done(pi, "uid-1", "5")
	if d.pending(pi, "uid-1", "6") || d.pending(pi, "uid-1", "5") {
		t.Error("a newer version did not end the wait")
	}
	d.done(pi, "uid-1", "5")
	d.forget(pi)
	if d.pending(pi, "uid-1", "5") || len(d.released) != 0 {
		t.Error("forget kept the entry")
	}
}
