// Package volcano hands applications to Volcano (https://volcano.sh), as Kubeflow's operator does for
// spec.batchScheduler: volcano: a scheduling.volcano.sh/v1beta1 PodGroup "spark-<app>-pg" owned by the
// application, with minMember 1 (the driver; its executors join the group as the driver creates them)
// and minResources large enough for the driver and its initial executors, in the queue and with the
// priority class of spec.batchSchedulerOptions; the driver and the executors carry the
// scheduling.k8s.io/group-name annotation and schedulerName volcano.
package volcano

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedulingv1beta1 "volcano.sh/apis/pkg/apis/scheduling/v1beta1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
)

// Name is the spec.batchScheduler value and the pods' schedulerName.
const Name = "volcano"

// Scheduler is the Volcano batch scheduler. Its zero value is ready to use.
type Scheduler struct{}

var _ batchscheduler.Scheduler = Scheduler{}

// Name implements batchscheduler.Scheduler.
func (Scheduler) Name() string { return Name }

// PodGroupName is the name of the application's PodGroup: "spark-<app>-pg", as in Kubeflow.
func PodGroupName(app *v1beta2.SparkApplication) string {
	return fmt.Sprintf("spark-%s-pg", app.Name)
}

// Prepare implements batchscheduler.Scheduler: the PodGroup, and the group annotation and scheduler
// name on the driver and the executor template.
func (Scheduler) Prepare(app *v1beta2.SparkApplication, pods *batchscheduler.Pods) ([]client.Object, error) {
	name := PodGroupName(app)
	minResources := batchscheduler.MinResources(app, pods)
	pg := &schedulingv1beta1.PodGroup{
		TypeMeta: metav1.TypeMeta{APIVersion: schedulingv1beta1.SchemeGroupVersion.String(), Kind: "PodGroup"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       app.Namespace,
			Labels:          map[string]string{v1beta2.LabelAppName: app.Name},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(app, v1beta2.GroupVersion.WithKind("SparkApplication"))},
		},
		Spec: schedulingv1beta1.PodGroupSpec{
			// In cluster mode only the driver is known at first; the executors join as it creates
			// them (Kubeflow's choice too). minResources makes Volcano admit the group only when
			// the queue has room for the driver and its initial executors.
			MinMember:    1,
			MinResources: &minResources,
		},
		// Volcano's controller moves a new group on from Pending; Kubeflow creates it so too.
		Status: schedulingv1beta1.PodGroupStatus{Phase: schedulingv1beta1.PodGroupPending},
	}
	if o := app.Spec.BatchSchedulerOptions; o != nil {
		if o.Queue != nil {
			pg.Spec.Queue = *o.Queue
		}
		if o.PriorityClassName != nil {
			pg.Spec.PriorityClassName = *o.PriorityClassName
		}
	}
	for _, pod := range []*corev1.Pod{pods.Driver, pods.ExecutorTemplate} {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[schedulingv1beta1.KubeGroupNameAnnotationKey] = name
		pod.Spec.SchedulerName = Name
	}
	return []client.Object{pg}, nil
}

// Cleanup implements batchscheduler.Scheduler: the PodGroup.
func (Scheduler) Cleanup(app *v1beta2.SparkApplication) []client.Object {
	return []client.Object{&schedulingv1beta1.PodGroup{
		TypeMeta:   metav1.TypeMeta{APIVersion: schedulingv1beta1.SchemeGroupVersion.String(), Kind: "PodGroup"},
		ObjectMeta: metav1.ObjectMeta{Name: PodGroupName(app), Namespace: app.Namespace},
	}}
}
