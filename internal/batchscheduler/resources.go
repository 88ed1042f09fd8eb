package batchscheduler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// PodRequests is what pod requests of a node as kube-scheduler counts it
// (k8s.io/component-helpers/resource.PodRequests: the containers' sum, or the largest init
// container when larger, sidecars included, plus the pod overhead), after the API server's defaulting
// that makes a container's request equal its limit when only the limit is set (which is how Spark's
// extended resources, spark.*.resource.<name>.amount, and spec.*.gpu reach the requests).
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
	p := pod.DeepCopy()
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			defaultRequestsFromLimits(&cs[i].Resources)
		}
	}
	return resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
}

func defaultRequestsFromLimits(r *corev1.ResourceRequirements) {
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[name] = limit.DeepCopy()
	}
}

// GangResources is what the driver and the executors it asks for at start request together: the
// driver's requests plus InitialExecutors times one executor's, exactly as the pods will request
// them (memory overhead included). It is the minimum a pod group must be able to hold for the
// application to make progress.
func GangResources(pods *Pods) corev1.ResourceList {
	total := PodRequests(pods.Driver)
	exec := PodRequests(pods.Executor)
	for name, q := range exec {
		sum := total[name]
		for range pods.InitialExecutors {
			sum.Add(q)
		}
		total[name] = canonical(sum)
	}
	for name, q := range total {
		total[name] = canonical(q)
	}
	return total
}

// MinResources is spec.batchSchedulerOptions.resources when set (as in Kubeflow's operator), else
// GangResources.
func MinResources(app *v1beta2.SparkApplication, pods *Pods) corev1.ResourceList {
	if o := app.Spec.BatchSchedulerOptions; o != nil && len(o.Resources) > 0 {
		return o.Resources.DeepCopy()
	}
	return GangResources(pods)
}

// canonical re-parses a quantity so that it serialises the same way as one read back from the API
// server (a sum keeps its operands' format, e.g. "3584Mi", which is what it should print).
func canonical(q resource.Quantity) resource.Quantity {
	return resource.MustParse(q.String())
}
