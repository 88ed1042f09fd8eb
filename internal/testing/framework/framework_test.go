package framework

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// env is the control plane shared by the tests of this package (without kube-controller-manager).
var env *Env

func TestMain(m *testing.M) {
	logger := funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{})
	os.Exit(RunMain(m, &env, WithLogger(logger)))
}

// TestAPIServer proves that the real kube-apiserver and etcd serve reads and writes.
func TestAPIServer(t *testing.T) {
	ctx := context.Background()
	ns := env.NewNamespace(t)

	got := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, got); err != nil {
		t.Fatalf("reading namespace %s back: %v", ns, err)
	}
	if got.Status.Phase != corev1.NamespaceActive {
		t.Errorf("namespace %s phase = %q, want Active", ns, got.Status.Phase)
	}

	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "conf", Namespace: ns},
		Data:       map[string]string{"spark.executor.instances": "2"},
	}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatalf("creating ConfigMap: %v", err)
	}
	gotCM := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cm), gotCM); err != nil {
		t.Fatalf("reading ConfigMap back: %v", err)
	}
	if gotCM.Data["spark.executor.instances"] != "2" || gotCM.UID == "" {
		t.Errorf("ConfigMap read back = %+v, want the data written and a UID", gotCM)
	}
}

// TestMissingBinaries checks that a missing binary fails loudly and says to run `make tools`.
func TestMissingBinaries(t *testing.T) {
	t.Setenv(EnvAssets, t.TempDir())
	e, err := New()
	if err == nil {
		_ = e.Stop()
		t.Fatal("New succeeded without binaries")
	}
	if !strings.Contains(err.Error(), "make tools") || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Errorf("error %q does not name the missing binary and `make tools`", err)
	}
}

// TestControllerManagerGarbageCollection starts its own control plane with kube-controller-manager
// and checks that deleting an owner cascades to its dependents, and that namespaces can be deleted.
func TestControllerManagerGarbageCollection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second control plane")
	}
	e := Start(t, WithControllerManager())
	ctx := context.Background()
	ns := e.NewNamespace(t)

	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner", Namespace: ns}}
	if err := e.Client.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "dependent", Namespace: ns,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}},
	}}
	if err := e.Client.Create(ctx, dependent); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.Delete(ctx, owner); err != nil {
		t.Fatal(err)
	}
	waitGone(t, e.Client, dependent, 30*time.Second)

	// The namespace controller empties and removes a deleted namespace.
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := e.Client.Delete(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	waitGone(t, e.Client, nsObj, 60*time.Second)
}

// waitGone fails the test unless obj is deleted within timeout.
func waitGone(t *testing.T, c client.Client, obj client.Object, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			t.Fatalf("reading %s: %v", obj.GetName(), err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%T %s still exists %s after deletion", obj, obj.GetName(), timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
