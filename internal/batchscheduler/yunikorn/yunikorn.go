// Package yunikorn hands applications to Apache YuniKorn (https://yunikorn.apache.org), as Kubeflow's
// operator does for spec.batchScheduler: yunikorn. YuniKorn needs no objects of its own: the pods get
// schedulerName yunikorn, the "queue" label from spec.batchSchedulerOptions.queue, and the gang
// scheduling annotations: yunikorn.apache.org/task-group-name on the driver (spark-driver) and the
// executors (spark-executor), and on the driver, the application's originating pod, the
// yunikorn.apache.org/task-groups JSON with each group's minMember and minResource, so that YuniKorn
// reserves room for the driver and its initial executors with placeholder pods. YuniKorn takes the
// application id from the spark-app-selector label, which the driver and every executor carry.
package yunikorn

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
)

// Name is the spec.batchScheduler value and the pods' schedulerName.
const Name = "yunikorn"

// Labels, annotations and task group names of YuniKorn's Spark gang scheduling
// (yunikorn.apache.org/docs/user_guide/gang_scheduling and labels_and_annotations_in_yunikorn).
const (
	QueueLabel              = "queue"
	TaskGroupNameAnnotation = "yunikorn.apache.org/task-group-name"
	TaskGroupsAnnotation    = "yunikorn.apache.org/task-groups"
	DriverTaskGroup         = "spark-driver"
	ExecutorTaskGroup       = "spark-executor"
)

// taskGroup is one entry of the task-groups annotation, in the format YuniKorn documents for it.
type taskGroup struct {
	Name         string              `json:"name"`
	MinMember    int32               `json:"minMember"`
	MinResource  map[string]string   `json:"minResource,omitempty"`
	NodeSelector map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations  []corev1.Toleration `json:"tolerations,omitempty"`
	Affinity     *corev1.Affinity    `json:"affinity,omitempty"`
	Labels       map[string]string   `json:"labels,omitempty"`
}

// Scheduler is the YuniKorn batch scheduler. Its zero value is ready to use.
type Scheduler struct{}

var _ batchscheduler.Scheduler = Scheduler{}

// Name implements batchscheduler.Scheduler.
func (Scheduler) Name() string { return Name }

// Prepare implements batchscheduler.Scheduler; YuniKorn needs no objects created.
func (Scheduler) Prepare(app *v1beta2.SparkApplication, pods *batchscheduler.Pods) ([]client.Object, error) {
	groups := []taskGroup{newTaskGroup(DriverTaskGroup, 1, pods.Driver, batchscheduler.PodRequests(pods.Driver), app.Spec.Driver.Labels)}
	// A task group of zero members is invalid in YuniKorn: without initial executors there is none.
	if n := pods.InitialExecutors; n > 0 {
		groups = append(groups, newTaskGroup(ExecutorTaskGroup, n, pods.Executor, batchscheduler.PodRequests(pods.Executor), app.Spec.Executor.Labels))
	}
	data, err := json.Marshal(groups)
	if err != nil {
		return nil, fmt.Errorf("encoding the YuniKorn task groups: %w", err)
	}
	for _, p := range []struct {
		pod   *corev1.Pod
		group string
	}{{pods.Driver, DriverTaskGroup}, {pods.ExecutorTemplate, ExecutorTaskGroup}} {
		p.pod.Spec.SchedulerName = Name
		if p.pod.Annotations == nil {
			p.pod.Annotations = map[string]string{}
		}
		p.pod.Annotations[TaskGroupNameAnnotation] = p.group
		if o := app.Spec.BatchSchedulerOptions; o != nil && o.Queue != nil {
			if p.pod.Labels == nil {
				p.pod.Labels = map[string]string{}
			}
			p.pod.Labels[QueueLabel] = *o.Queue
		}
	}
	// The task groups are read from the application's originating pod only: the driver.
	pods.Driver.Annotations[TaskGroupsAnnotation] = string(data)
	return nil, nil
}

// Cleanup implements batchscheduler.Scheduler: YuniKorn's objects are its own to remove.
func (Scheduler) Cleanup(*v1beta2.SparkApplication) []client.Object { return nil }

// newTaskGroup describes the pods of one role: how many, what each requests, and where they may run
// (taken from the pod itself, so the placeholders land where the real pods can).
func newTaskGroup(name string, members int32, pod *corev1.Pod, requests corev1.ResourceList, labels map[string]string) taskGroup {
	g := taskGroup{
		Name:         name,
		MinMember:    members,
		MinResource:  map[string]string{},
		NodeSelector: pod.Spec.NodeSelector,
		Tolerations:  pod.Spec.Tolerations,
		Affinity:     pod.Spec.Affinity,
		Labels:       labels,
	}
	for res, q := range requests {
		g.MinResource[string(res)] = q.String()
	}
	return g
}
