// Package util holds the waiters, getters and kubelet stand-ins that the integration suites share
// (test/integration/...): each takes the test, the client to use and the object's namespace and
// name, fails the test with what it saw when something goes wrong, and returns what it read.
//
//	util.Create(t, env.Client, wrappers.MakeSparkApplication("pi", ns).Obj())
//	util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateSubmitted)
//	util.RunDriver(t, env.Client, ns, "pi-driver")
//	app := util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateRunning)
//	util.CreateExecutor(t, env.Client, app, util.GetPod(t, env.Client, ns, "pi-driver"), 1)
//	util.FinishDriver(t, env.Client, ns, "pi-driver", 0)
//	util.WaitForState(t, env.Client, ns, "pi", v1beta2.ApplicationStateCompleted)
//
// Waiters poll with framework.WaitFor under Timeout: generous, because the machine running the
// tests may be slow and loaded; nothing here asserts how long something took.
//
// The tests play the kubelet: SetPodStatus writes a pod's phase and its Spark container's state
// through the status subresource, as a kubelet would. For a kubelet that also answers the API
// server's log and port-forward requests, see package fakekubelet.
//
// The fake-client side of the same habits, for unit tests without a control plane, is in this
// package too: NewFakeClient (the operator's scheme and indexes) and Recorder (an event recorder
// that keeps what it was given).
package util

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// Timeout bounds every waiter of this package: long enough for a loaded machine running several
// suites at once; a test that passes never waits this long.
const Timeout = 60 * time.Second

// Create creates obj, failing the test on error.
func Create(t testing.TB, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}

// Get reads ns/name into obj, failing the test on error.
func Get(t testing.TB, c client.Client, ns, name string, obj client.Object) {
	t.Helper()
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("getting %s %s: %v", strings.TrimPrefix(fmt.Sprintf("%T", obj), "*"), name, err)
	}
}

// get reads ns/name into obj and returns it, failing the test on error.
func get[T client.Object](t testing.TB, c client.Client, ns, name string, obj T) T {
	t.Helper()
	Get(t, c, ns, name, obj)
	return obj
}

// Update reads ns/name into a new object of T, applies mutate and writes it, reading again and
// retrying on conflicts (another writer, the controller, updated it meanwhile); it fails the test
// after 10 conflicts in a row or any other error.
func Update[T client.Object](t testing.TB, c client.Client, ns, name string, newObj func() T, mutate func(T)) {
	t.Helper()
	for range 10 {
		obj := newObj()
		Get(t, c, ns, name, obj)
		mutate(obj)
		err := c.Update(context.Background(), obj)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("updating %s: %v", name, err)
		}
	}
	t.Fatalf("updating %s: too many conflicts", name)
}

// WaitFor polls cond until it holds, failing the test after Timeout with what cond saw last
// (framework.WaitFor with this package's timeout).
func WaitFor(t testing.TB, what string, cond func() (ok bool, seen string)) {
	t.Helper()
	framework.WaitFor(t, Timeout, what, cond)
}

// WaitForObject reads ns/name into a new object of T (newObj) until done says it is as wanted, and
// returns it as read then; on timeout the failure says what was waited for and what done last
// said of the object (or the read's error).
func WaitForObject[T client.Object](t testing.TB, c client.Client, ns, name, what string, newObj func() T, done func(T) (ok bool, seen string)) T {
	t.Helper()
	return waitForObject(t, Timeout, c, ns, name, what, newObj, done)
}

// waitForObject is WaitForObject with timeout instead of Timeout.
func waitForObject[T client.Object](t testing.TB, timeout time.Duration, c client.Client, ns, name, what string, newObj func() T, done func(T) (ok bool, seen string)) T {
	t.Helper()
	var obj T
	framework.WaitFor(t, timeout, what, func() (bool, string) {
		obj = newObj()
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return false, err.Error()
		}
		return done(obj)
	})
	return obj
}

// WaitForGone waits until obj (its namespace and name set) no longer exists: deleted, its
// finalizers released and, for an object with dependents deleted in the foreground, those gone too.
func WaitForGone(t testing.TB, c client.Client, obj client.Object) {
	t.Helper()
	WaitFor(t, fmt.Sprintf("%T %s to be gone", obj, obj.GetName()), func() (bool, string) {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return false, fmt.Sprintf("exists (deleting: %v, finalizers %v)", obj.GetDeletionTimestamp() != nil, obj.GetFinalizers())
	})
}

// describe formats values for a waiter's "last seen" message.
func describe(values ...any) string { return fmt.Sprint(values...) }

// Count lists list with opts (e.g. client.InNamespace, client.MatchingLabels) and returns how many
// objects it holds, or -1 when listing fails, for waiters that wait for objects to appear or go.
func Count(c client.Client, list client.ObjectList, opts ...client.ListOption) int {
	if err := c.List(context.Background(), list, opts...); err != nil {
		return -1
	}
	return meta.LenList(list)
}
