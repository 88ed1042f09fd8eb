// Package batchscheduler hands SparkApplications to batch schedulers (Volcano, YuniKorn, the
// scheduler-plugins coscheduling plugin, ...), as Kubeflow's operator does with
// --enable-batch-scheduler: a Scheduler adapts the rendered driver pod and executor pod template
// (scheduler name, labels, annotations) and names the objects to create before the driver, such as
// a PodGroup sized for the driver and its initial executors; the controller creates them and, when
// the application ends, deletes them.
//
// Schedulers are pure: Prepare and Cleanup make no API calls, so `spark-operator render` shows
// exactly what the operator would create. The implementations live in sub-packages; the operator
// builds a Registry of them from its flags (internal/operatorcmd).
package batchscheduler

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Scheduler is one batch scheduler the operator can hand applications to.
type Scheduler interface {
	// Name is the spec.batchScheduler value this scheduler handles, e.g. "volcano".
	Name() string
	// Prepare adapts one submission of app to the scheduler before anything is created. It may
	// change pods.Driver and pods.ExecutorTemplate (not pods.Executor, which is a copy), and returns
	// the objects to create, or bring up to date, before the driver pod: typically a pod group
	// owned by app. An error means the application cannot be submitted as it is; its message
	// names the field to fix. It must not call the API server.
	Prepare(app *v1beta2.SparkApplication, pods *Pods) ([]client.Object, error)
	// Cleanup returns the objects (kind, namespace and name suffice) to delete once app has
	// terminated or is suspended, so that a group does not hold a queue's capacity; none when the
	// scheduler creates no objects. It must not call the API server.
	Cleanup(app *v1beta2.SparkApplication) []client.Object
}

// Pods is what a Scheduler sees of one submission.
type Pods struct {
	// Driver is the driver pod about to be created; changes to it are what is created.
	Driver *corev1.Pod
	// ExecutorTemplate is the executor pod template the driver builds every executor from; changes
	// to its metadata and spec reach every executor (Spark keeps the template's labels,
	// annotations and scheduler name unless spark.kubernetes.executor.* settings override them).
	ExecutorTemplate *corev1.Pod
	// Executor is one executor pod as the driver will create it, for its resource requests
	// (submission.Resources.ExecutorPod); changes to it have no effect.
	Executor *corev1.Pod
	// InitialExecutors is how many executors the driver asks for at start.
	InitialExecutors int32
	// Conf is the submission's complete Spark configuration (spark.properties), read-only.
	Conf submission.Conf
}

// PerSubmission is implemented by a Scheduler whose objects are immutable and named per submission
// (the "kubernetes" scheduler's Workload and PodGroup): the controller creates Prepare's objects
// ignoring AlreadyExists (a retried reconcile renders the same submission, hence the same objects)
// instead of bringing them up to date, and, instead of deleting Cleanup's names, calls Sweep: with
// the new submission's ID once its objects exist (dropping those of earlier submissions), and with ""
// when the application terminates or is suspended. Sweep may list and delete through c, which reads
// from the API server, not a cache; objects already gone are not an error.
type PerSubmission interface {
	Sweep(ctx context.Context, c client.Client, app *v1beta2.SparkApplication, keepSubmissionID string) error
}

// APIRequirer is implemented by a Scheduler whose objects' API is built into Kubernetes but may not
// be served (alpha, behind feature gates): Requires says what the cluster needs, for the message of
// a submission that fails because the API server does not serve the objects' kind.
type APIRequirer interface {
	Requires() string
}

// Prepare runs s.Prepare on a rendered submission and writes the changed executor pod template
// back into its ConfigMap. It returns the objects to create before the driver pod.
func Prepare(s Scheduler, app *v1beta2.SparkApplication, res *submission.Resources) ([]client.Object, error) {
	executor, err := res.ExecutorPod()
	if err != nil {
		return nil, err
	}
	var objs []client.Object
	err = res.EditExecutorTemplate(func(template *corev1.Pod) error {
		var err error
		objs, err = s.Prepare(app, &Pods{
			Driver:           res.DriverPod,
			ExecutorTemplate: template,
			Executor:         executor,
			InitialExecutors: res.InitialExecutors(),
			Conf:             res.Conf,
		})
		return err
	})
	return objs, err
}
