package batchscheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha2 "k8s.io/api/scheduling/v1alpha2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler/kubernetes"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// apiServerArgs are the kube-apiserver flags that serve the Workload API and keep spec.schedulingGroup
// on pods (without the gate the field is dropped from pods on create, silently).
var apiServerArgs = []string{
	"feature-gates=GenericWorkload=true",
	"runtime-config=scheduling.k8s.io/v1alpha2=true",
}

// TestKubernetesGangObjectsAccepted (batchScheduler: kubernetes) creates what the scheduler asks for against the real kube-apiserver with the
// Workload API on: the Workload and PodGroup, the driver pod and an executor made from the mutated
// template as Spark makes one, and checks what the API server keeps.
func TestKubernetesGangObjectsAccepted(t *testing.T) {
	env := framework.Start(t, framework.WithScheme(v1beta2.AddToScheme), framework.WithAPIServerArgs(apiServerArgs...), framework.WithLogger(logr.Discard()))
	ctx := context.Background()
	c := env.Client
	ns := env.NewNamespace(t)

	app := wrappers.MakeSparkApplication("pi", ns).BatchScheduler(kubernetes.Name).ExecutorInstances(3).Obj()
	if err := c.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	res := submitObjects(t, c, app, "1")
	pg := &schedulingv1alpha2.PodGroup{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: kubernetes.ExecutorPodGroupName(app, res)}, pg); err != nil {
		t.Fatal(err)
	}
	if pg.Spec.SchedulingPolicy.Gang == nil || pg.Spec.SchedulingPolicy.Gang.MinCount != 3 {
		t.Errorf("PodGroup policy %+v; want gang minCount 3", pg.Spec.SchedulingPolicy)
	}
	if len(pg.Finalizers) != 1 || pg.Finalizers[0] != "scheduling.k8s.io/podgroup-protection" {
		t.Errorf("PodGroup finalizers %v; want kube-apiserver's podgroup-protection", pg.Finalizers)
	}

	driver := res.DriverPod.DeepCopy()
	kubernetes.MutateDriverPod(app, driver)
	if err := c.Create(ctx, driver); err != nil {
		t.Fatal(err)
	}
	template := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(res.ExecutorTemplateConfigMap.Data[submission.PodTemplateKey]), template); err != nil {
		t.Fatal(err)
	}
	if err := kubernetes.MutateExecutorTemplate(app, res, template); err != nil {
		t.Fatal(err)
	}
	// What Spark adds to the template for an executor (name, owner, role label, image).
	exec := template.DeepCopy()
	exec.Name, exec.Namespace = driver.Name+"-exec-1", ns
	exec.Labels = map[string]string{v1beta2.LabelSparkRole: "executor"}
	exec.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: driver.Name, UID: driver.UID, Controller: ptr.To(true)}}
	exec.Spec.Containers[0].Image = wrappers.DefaultImage
	if err := c.Create(ctx, exec); err != nil {
		t.Fatal(err)
	}
	if g := exec.Spec.SchedulingGroup; g == nil || g.PodGroupName == nil || *g.PodGroupName != pg.Name {
		t.Errorf("the executor's schedulingGroup after create is %v; want podGroupName %s", g, pg.Name)
	}

	// The PodGroup is immutable: hence new objects for each submission.
	changed := pg.DeepCopy()
	changed.Spec.SchedulingPolicy.Gang.MinCount = 4
	if err := c.Update(ctx, changed); err == nil || !apierrors.IsInvalid(err) {
		t.Errorf("changing the PodGroup's minCount: %v; want Invalid", err)
	}

	// A second submission (after a spec change: 4 executors) gets its own objects; Cleanup keeping it
	// deletes the first submission's, and at termination all.
	app.Spec.Executor.Instances = ptr.To[int32](4)
	res2 := submitObjects(t, c, app, "2")
	second := res2.DriverPod.Labels[v1beta2.LabelSubmissionID]
	if err := kubernetes.Cleanup(ctx, c, app, second); err != nil {
		t.Fatal(err)
	}
	requireDeleted(t, c, ns, map[string]bool{
		kubernetes.WorkloadName(app, res): true, kubernetes.ExecutorPodGroupName(app, res): true,
		kubernetes.WorkloadName(app, res2): false, kubernetes.ExecutorPodGroupName(app, res2): false,
	})
	if err := kubernetes.Cleanup(ctx, c, app, ""); err != nil {
		t.Fatal(err)
	}
	requireDeleted(t, c, ns, map[string]bool{
		kubernetes.WorkloadName(app, res): true, kubernetes.ExecutorPodGroupName(app, res): true,
		kubernetes.WorkloadName(app, res2): true, kubernetes.ExecutorPodGroupName(app, res2): true,
	})
}

// requireDeleted checks which Workloads and PodGroups are deleted (gone, or marked for deletion: with
// no kube-controller-manager here, a PodGroup keeps its protection finalizer) and which are not.
func requireDeleted(t *testing.T, c client.Client, ns string, want map[string]bool) {
	t.Helper()
	got := map[string]bool{}
	for _, list := range []client.ObjectList{&schedulingv1alpha2.PodGroupList{}, &schedulingv1alpha2.WorkloadList{}} {
		if err := c.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			o := item.(client.Object)
			got[o.GetName()] = o.GetDeletionTimestamp() != nil
		}
	}
	for name, deleted := range want {
		present, ok := got[name]
		if isDeleted := !ok || present; isDeleted != deleted {
			t.Errorf("%s deleted: %v; want %v", name, isDeleted, deleted)
		}
	}
}

// submitObjects renders submission id of app and creates the scheduler's objects for it
// (kubernetes.Objects), as the operator does before it creates the driver; it returns the render.
func submitObjects(t *testing.T, c client.Client, app *v1beta2.SparkApplication, id string) *submission.Resources {
	t.Helper()
	res, err := submission.Render(app, submission.NewSubmission(app.UID, id, 1, time.Now()), submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kubernetes.Objects(app, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s of submission %s: %v", o, o.GetName(), id, err)
		}
	}
	return res
}
