package sparkapplication

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

func appAt(name, rv string) *v1beta2.SparkApplication {
	return &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: rv}}
}

// TestStatusWrites: after a write replaced version 1, version 1 is stale until a reconcile reads
// another version; the update away from version 1 passes the predicate only once a reconcile was
// held back; deletion forgets.
func TestStatusWrites(t *testing.T) {
	var w statusWrites
	pi := types.NamespacedName{Namespace: "ns", Name: "pi"}
	if w.stale(pi, "1") {
		t.Fatal("stale before any write")
	}
	w.wrote(pi, "1")
	p := w.caughtUpPredicate()
	if p.Update(event.UpdateEvent{ObjectOld: appAt("pi", "1"), ObjectNew: appAt("pi", "2")}) {
		t.Error("the predicate passes an update no reconcile waits for")
	}
	for range 2 { // a held-back reconcile may run again before the cache catches up
		if !w.stale(pi, "1") {
			t.Error("the replaced version is not stale")
		}
	}
	if p.Create(event.CreateEvent{Object: appAt("pi", "1")}) || p.Delete(event.DeleteEvent{Object: appAt("pi", "1")}) {
		t.Error("the predicate passes creations or deletions")
	}
	if p.Update(event.UpdateEvent{ObjectOld: appAt("other", "1"), ObjectNew: appAt("other", "2")}) {
		t.Error("the predicate passes another application's update")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: appAt("pi", "1"), ObjectNew: appAt("pi", "2")}) {
		t.Error("the predicate holds back the update past the replaced version")
	}
	if w.stale(pi, "2") {
		t.Error("the written version is stale")
	}
	if w.stale(pi, "1") || p.Update(event.UpdateEvent{ObjectOld: appAt("pi", "1"), ObjectNew: appAt("pi", "2")}) {
		t.Error("the entry outlived the first newer read")
	}
	w.wrote(pi, "2")
	w.forget(pi)
	if w.stale(pi, "2") || len(w.replaced) != 0 {
		t.Errorf("forget left %v", w.replaced)
	}
}
