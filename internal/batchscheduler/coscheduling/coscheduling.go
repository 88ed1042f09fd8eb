// Package coscheduling hands applications to a kube-scheduler running the coscheduling plugin of
// kubernetes-sigs/scheduler-plugins, as Kubeflow's operator does for a spec.batchScheduler named in
// --kube-scheduler-names: a scheduling.x-k8s.io/v1alpha1 PodGroup "<app>-pg" owned by the
// application, with minMember 1 and minResources for the driver and its initial executors, and the
// scheduling.x-k8s.io/pod-group label and that scheduler's name on the driver and the executors.
//
// The module sigs.k8s.io/scheduler-plugins is not used (it pulls in all of Kubernetes): the PodGroup
// is an unstructured object with the fields of the published v1alpha1 schema
// (manifests/coscheduling/crd.yaml in that repository).
package coscheduling

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
)

// PodGroupGVK is the scheduler-plugins PodGroup's group, version and kind.
var PodGroupGVK = schema.GroupVersionKind{Group: "scheduling.x-k8s.io", Version: "v1alpha1", Kind: "PodGroup"}

// PodGroupLabel is the pod label naming the pod's group (scheduler-plugins' v1alpha1.PodGroupLabel).
const PodGroupLabel = "scheduling.x-k8s.io/pod-group"

// Scheduler is the coscheduling batch scheduler for the kube-scheduler named SchedulerName (one of
// --kube-scheduler-names, which is also the spec.batchScheduler value it handles).
type Scheduler struct {
	SchedulerName string
}

var _ batchscheduler.Scheduler = Scheduler{}

// Name implements batchscheduler.Scheduler.
func (s Scheduler) Name() string { return s.SchedulerName }

// PodGroupName is the name of the application's PodGroup: "<app>-pg", as in Kubeflow.
func PodGroupName(app *v1beta2.SparkApplication) string {
	return fmt.Sprintf("%s-pg", app.Name)
}

// Prepare implements batchscheduler.Scheduler: the PodGroup, and the group label and scheduler name
// on the driver and the executor template. spec.batchSchedulerOptions.resources replaces the
// computed minResources; queue and priorityClassName have no counterpart in this PodGroup and are
// refused rather than ignored.
func (s Scheduler) Prepare(app *v1beta2.SparkApplication, pods *batchscheduler.Pods) ([]client.Object, error) {
	if o := app.Spec.BatchSchedulerOptions; o != nil && (o.Queue != nil || o.PriorityClassName != nil) {
		return nil, fmt.Errorf("spec.batchSchedulerOptions: queue and priorityClassName have no meaning for the coscheduling scheduler %q (only resources does); remove them", s.SchedulerName)
	}
	name := PodGroupName(app)
	minResources := map[string]any{}
	for res, q := range batchscheduler.MinResources(app, pods) {
		minResources[string(res)] = q.String()
	}
	pg := &unstructured.Unstructured{}
	pg.SetGroupVersionKind(PodGroupGVK)
	pg.SetName(name)
	pg.SetNamespace(app.Namespace)
	pg.SetLabels(map[string]string{v1beta2.LabelAppName: app.Name})
	pg.SetOwnerReferences([]metav1.OwnerReference{*metav1.NewControllerRef(app, v1beta2.GroupVersion.WithKind("SparkApplication"))})
	pg.Object["spec"] = map[string]any{
		// The driver alone at first; its executors join the group as it creates them.
		"minMember":    int64(1),
		"minResources": minResources,
	}
	for _, pod := range []*corev1.Pod{pods.Driver, pods.ExecutorTemplate} {
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		pod.Labels[PodGroupLabel] = name
		pod.Spec.SchedulerName = s.SchedulerName
	}
	return []client.Object{pg}, nil
}

// Cleanup implements batchscheduler.Scheduler: the PodGroup.
func (s Scheduler) Cleanup(app *v1beta2.SparkApplication) []client.Object {
	pg := &unstructured.Unstructured{}
	pg.SetGroupVersionKind(PodGroupGVK)
	pg.SetName(PodGroupName(app))
	pg.SetNamespace(app.Namespace)
	return []client.Object{pg}
}
