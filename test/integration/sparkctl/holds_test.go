package sparkctl_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// installWorkloadCRD installs a stand-in for Kueue's Workload CRD (kueue.x-k8s.io/v1beta2 workloads,
// any content, with a status subresource): what sparkctl reads of it is the owner reference, the queue
// name, the admission and the conditions.
func installWorkloadCRD(t *testing.T) {
	t.Helper()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "workloads.kueue.x-k8s.io"},
		"spec": map[string]any{
			"group": "kueue.x-k8s.io", "scope": "Namespaced",
			"names": map[string]any{"kind": "Workload", "listKind": "WorkloadList", "plural": "workloads", "singular": "workload"},
			"versions": []any{map[string]any{
				"name": "v1beta2", "served": true, "storage": true,
				"schema":       map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
				"subresources": map[string]any{"status": map[string]any{}},
			}},
		},
	}}
	if err := env.Client.Create(context.Background(), crd); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	framework.WaitFor(t, 30*time.Second, "the Workload CRD to be served", func() (bool, string) {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(schema.GroupVersionKind{Group: "kueue.x-k8s.io", Version: "v1beta2", Kind: "WorkloadList"})
		err := env.Client.List(context.Background(), list)
		return err == nil, fmt.Sprint(err)
	})
}

// setAppCondition writes a condition into the application's status, as the operator would.
func setAppCondition(t *testing.T, app *v1beta2.SparkApplication, c metav1.Condition) {
	t.Helper()
	c.LastTransitionTime = metav1.Now()
	meta.SetStatusCondition(&app.Status.Conditions, c)
	if err := env.Client.Status().Update(context.Background(), app); err != nil {
		t.Fatal(err)
	}
}

// TestStatusHolds: `sparkctl status` says what holds an application that is not running: Kueue's
// Workload (queue, pending with Kueue's reason, then admitted), a ResourceQuota without room (named,
// with the shortfall), and why it has no driver PodDisruptionBudget.
func TestStatusHolds(t *testing.T) {
	ns := env.NewNamespace(t)
	ctx := context.Background()
	installWorkloadCRD(t)

	queued := wrappers.MakeSparkApplication("queued", ns).Label("kueue.x-k8s.io/queue-name", "team-a").Suspend(true).Obj()
	util.Create(t, env.Client, queued)
	out := sparkctlOK(t, ns, "status", "queued")
	mustContain(t, "status before Kueue made a Workload", out, "Kueue:", "LocalQueue team-a: no Workload yet")

	wl := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
		"metadata": map[string]any{"name": "sparkapplication-queued-1a2b3", "namespace": ns},
		"spec":     map[string]any{"queueName": "team-a"},
	}}
	wl.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: v1beta2.GroupVersion.String(), Kind: "SparkApplication", Name: "queued", UID: queued.UID, Controller: ptr.To(true)}})
	util.Create(t, env.Client, wl)
	setWorkloadStatus := func(status map[string]any) {
		t.Helper()
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(wl), wl); err != nil {
			t.Fatal(err)
		}
		wl.Object["status"] = status
		if err := env.Client.Status().Update(ctx, wl); err != nil {
			t.Fatal(err)
		}
	}
	now := metav1.Now().UTC().Format(time.RFC3339)
	setWorkloadStatus(map[string]any{"conditions": []any{map[string]any{
		"type": "QuotaReserved", "status": "False", "reason": "Pending", "lastTransitionTime": now,
		"message": "couldn't assign flavors to pod set driver: insufficient unused quota for cpu in flavor default-flavor, 1 more needed",
	}}})
	out = sparkctlOK(t, ns, "status", "queued")
	mustContain(t, "status of a pending Workload", out, "Kueue:", "LocalQueue team-a, Workload sparkapplication-queued-1a2b3: pending: couldn't assign flavors", "1 more needed")

	setWorkloadStatus(map[string]any{
		"admission": map[string]any{"clusterQueue": "cluster-a"},
		"conditions": []any{
			map[string]any{"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved", "message": "Quota reserved in ClusterQueue cluster-a", "lastTransitionTime": now},
			map[string]any{"type": "Admitted", "status": "True", "reason": "Admitted", "message": "The workload is admitted", "lastTransitionTime": now},
		},
	})
	out = sparkctlOK(t, ns, "status", "queued")
	mustContain(t, "status of an admitted Workload", out, "LocalQueue team-a (ClusterQueue cluster-a)", ": admitted")

	setWorkloadStatus(map[string]any{"conditions": []any{
		map[string]any{"type": "Evicted", "status": "True", "reason": "Preempted", "message": "Preempted to accommodate a workload (UID: 1234) due to prioritization in the ClusterQueue", "lastTransitionTime": now},
	}})
	out = sparkctlOK(t, ns, "status", "queued")
	mustContain(t, "status of an evicted Workload", out, "evicted (Preempted): Preempted to accommodate a workload")

	// A ResourceQuota without room for the driver and its executor (status as the quota controller
	// would write it): driver 896Mi + executor 896Mi of memory requests (512m + 384Mi overhead,
	// 0.1 x 512m < 384Mi) against 2Gi, 1Gi used.
	hard := corev1.ResourceList{corev1.ResourceRequestsMemory: resource.MustParse("2Gi")}
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "memory", Namespace: ns}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
	util.Create(t, env.Client, rq)
	rq.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: corev1.ResourceList{corev1.ResourceRequestsMemory: resource.MustParse("1Gi")}}
	if err := env.Client.Status().Update(ctx, rq); err != nil {
		t.Fatal(err)
	}
	big := wrappers.MakeSparkApplication("big", ns).Obj()
	util.Create(t, env.Client, big)
	out = sparkctlOK(t, ns, "status", "big")
	mustContain(t, "status of an application beyond the quota", out, "Quota:", "the driver and 1 executor do not fit",
		`ResourceQuota "memory": requests.memory: needs 1792Mi, 1Gi of 2Gi left (short by 768Mi)`)

	// Asked for a driver budget from an operator without --enable-driver-pdb.
	guarded := wrappers.MakeSparkApplication("guarded", ns).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.DriverPodDisruptionBudget = ptr.To(true)
		s.Driver.Memory = ptr.To("128m")
		s.Executor.Memory = ptr.To("128m")
	}).Obj()
	util.Create(t, env.Client, guarded)
	setAppCondition(t, guarded, metav1.Condition{
		Type: v1beta2.ConditionDriverPodDisruptionBudget, Status: metav1.ConditionFalse, Reason: "DisabledInOperator",
		Message: "spec.driverPodDisruptionBudget is true but the operator runs without --enable-driver-pdb",
	})
	out = sparkctlOK(t, ns, "status", "guarded")
	mustContain(t, "status of an application without its driver budget", out, "Disruption budget:", "none: spec.driverPodDisruptionBudget is true but the operator runs without --enable-driver-pdb")
}
