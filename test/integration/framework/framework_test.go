// Package framework_test checks the test control plane itself (internal/testing/framework): the real
// kube-apiserver and etcd serve reads and writes, kube-controller-manager collects garbage, and a
// service account's token is authorized by RBAC.
package framework_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// env is the control plane shared by the tests of this package (without kube-controller-manager).
var env *framework.Env

func TestMain(m *testing.M) { util.Main(m, &env) }

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

// TestControllerManagerGarbageCollection starts its own control plane with kube-controller-manager
// and checks that deleting an owner cascades to its dependents, and that namespaces can be deleted.
func TestControllerManagerGarbageCollection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second control plane")
	}
	e := framework.Start(t, framework.WithControllerManager())
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
	util.WaitForGone(t, e.Client, dependent)

	// The namespace controller empties and removes a deleted namespace.
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := e.Client.Delete(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	util.WaitForGone(t, e.Client, nsObj)
}
