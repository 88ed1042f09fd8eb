package kubernetes

import (
	"errors"
	"testing"

	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestSchedulerThroughFramework: batchscheduler.Prepare with Scheduler returns this package's
// Objects and writes MutateExecutorTemplate's group into the executor template's ConfigMap (what the
// driver reads); the driver gets no group; a refusal of Validate is the error, naming the field.
func TestSchedulerThroughFramework(t *testing.T) {
	app := wrappers.MakeSparkApplication("pi", "ns").UID("4f0c8a52-0000-4000-8000-000000000001").BatchScheduler(Name).ExecutorInstances(3).Obj()
	res := render(t, app)
	want, err := Objects(app, res)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := batchscheduler.Prepare(Scheduler{}, app, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetName() != want[0].GetName() || objs[1].GetName() != want[1].GetName() {
		t.Fatalf("Prepare objects %v; want Objects' %v", objs, want)
	}
	if res.DriverPod.Spec.SchedulingGroup != nil || res.DriverPod.Spec.SchedulerName == Name {
		t.Errorf("driver: group %v, schedulerName %q; want none, not %q", res.DriverPod.Spec.SchedulingGroup, res.DriverPod.Spec.SchedulerName, Name)
	}
	var template corev1.Pod
	if err := yaml.Unmarshal([]byte(res.ExecutorTemplateConfigMap.Data[submission.PodTemplateKey]), &template); err != nil {
		t.Fatal(err)
	}
	if g := template.Spec.SchedulingGroup; g == nil || ptr.Deref(g.PodGroupName, "") != ExecutorPodGroupName(app, res) {
		t.Errorf("executor template in the ConfigMap: group %v; want %s", g, ExecutorPodGroupName(app, res))
	}

	app.Spec.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Queue: ptr.To("q")}
	_, err = batchscheduler.Prepare(Scheduler{}, app, render(t, app))
	var fe *submission.FieldError
	if !errors.As(err, &fe) || fe.Field != "spec.batchSchedulerOptions.queue" {
		t.Errorf("Prepare with a queue: %v; want a FieldError on spec.batchSchedulerOptions.queue", err)
	}
}
