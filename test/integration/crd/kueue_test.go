package crd_test

import (
	"context"
	"testing"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestKueueWrites: the API server accepts the writes Kueue v0.17.0's SparkApplication integration
// makes (pkg/controller/jobs/sparkapplication). An omitted executor count is stored as 1 at admission,
// so Kueue counts one executor; on eviction Kueue writes suspend: true together with the executor count
// of its workload, which is 0 for an application whose count it could not read, and the application
// must still be resumable afterwards. Outside that path, 0 executors is refused.
func TestKueueWrites(t *testing.T) {
	ctx := context.Background()
	ns := env.NewNamespace(t)

	app := wrappers.MakeSparkApplication("queued", ns).Label("kueue.x-k8s.io/queue-name", "lq").Suspend(true).
		Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = nil }).Obj()
	if err := createStrict(ctx, app); err != nil {
		t.Fatal(err)
	}
	got := &v1beta2.SparkApplication{}
	get := func() {
		t.Helper()
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
			t.Fatal(err)
		}
	}
	get()
	checkPtr(t, "spec.executor.instances (omitted)", got.Spec.Executor.Instances, 1)

	// Admission: unsuspend (Kueue merges its pod set info in the same update).
	got.Spec.Suspend = ptr.To(false)
	if err := env.Client.Update(ctx, got); err != nil {
		t.Fatalf("admission: %v", err)
	}
	// Eviction: suspend with the workload's count written back, here 0.
	get()
	got.Spec.Suspend = ptr.To(true)
	got.Spec.Executor.Instances = ptr.To[int32](0)
	if err := env.Client.Update(ctx, got); err != nil {
		t.Fatalf("eviction (suspend: true, instances: 0) refused: %v", err)
	}
	// Re-admission leaves the count alone and unsuspends.
	get()
	got.Spec.Suspend = ptr.To(false)
	if err := env.Client.Update(ctx, got); err != nil {
		t.Fatalf("re-admission with instances 0 kept: %v", err)
	}
	// A running application cannot drop to 0 executors through an ordinary edit.
	get()
	got.Spec.Executor.Instances = ptr.To[int32](2)
	if err := env.Client.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	get()
	got.Spec.Executor.Instances = ptr.To[int32](0)
	assertInvalid(t, env.Client.Update(ctx, got), "spec.executor.instances", "only together with suspend: true")

	// Created with 0 and not suspended: refused.
	bad := wrappers.MakeSparkApplication("zero", ns).ExecutorInstances(0).Obj()
	assertInvalid(t, createStrict(ctx, bad), "spec.executor.instances", "only together with suspend: true")
}
