// Package quota tells whether a SparkApplication's pods fit in its namespace's ResourceQuotas, for
// the validating webhook (--enable-resource-quota-enforcement, Kubeflow's), for the controller,
// which reports executors that cannot be created because of a quota, and for `sparkctl status`.
//
// What a pod charges is what kube-apiserver's quota admission charges it (the pod evaluator,
// k8s.io/kubernetes/pkg/quota/v1/evaluator/core): pods and count/pods 1; requests.cpu, cpu,
// requests.memory, memory, requests.ephemeral-storage and ephemeral-storage its effective requests
// (init containers, sidecars and pod overhead included, k8s.io/component-helpers/resource);
// limits.<same> its effective limits; requests.<name> for extended resources. Quotas with scopes or a
// scope selector are skipped, as in Kubeflow (which pods they cover depends on fields such as the
// priority class that this check does not model); the API server still enforces them when the pods
// are created.
package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
)

// standard are the compute resources whose requests are charged under both their bare and their
// requests.* names, and whose limits under limits.*.
var standard = map[corev1.ResourceName][2]corev1.ResourceName{
	corev1.ResourceCPU:              {corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU},
	corev1.ResourceMemory:           {corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory},
	corev1.ResourceEphemeralStorage: {corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage},
}

// PodUsage is what one pod charges against a ResourceQuota, keyed by quota resource name. The pod
// need not have been through the API server: a limit without a request counts as the request too,
// as the API server's defaulting makes it.
func PodUsage(pod *corev1.Pod) corev1.ResourceList {
	out := corev1.ResourceList{
		corev1.ResourcePods:               resource.MustParse("1"),
		corev1.ResourceName("count/pods"): resource.MustParse("1"),
	}
	pod = defaultRequests(pod)
	requests := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	limits := resourcehelper.PodLimits(pod, resourcehelper.PodResourcesOptions{})
	for name, q := range requests {
		if names, ok := standard[name]; ok {
			out[name] = q.DeepCopy()
			out[names[0]] = q.DeepCopy()
		} else if !strings.HasPrefix(string(name), "hugepages-") {
			out[corev1.ResourceName("requests."+string(name))] = q.DeepCopy()
		}
	}
	for name, q := range limits {
		if names, ok := standard[name]; ok {
			out[names[1]] = q.DeepCopy()
		}
	}
	return out
}

// defaultRequests returns a copy of pod whose containers request what they limit where they request
// nothing (SetDefaults_Pod of the core API group).
func defaultRequests(pod *corev1.Pod) *corev1.Pod {
	pod = pod.DeepCopy()
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			r := &list[i].Resources
			for name, q := range r.Limits {
				if _, ok := r.Requests[name]; !ok {
					if r.Requests == nil {
						r.Requests = corev1.ResourceList{}
					}
					r.Requests[name] = q.DeepCopy()
				}
			}
		}
	}
	return pod
}

// Times returns usage multiplied by n (n pods of the same shape).
func Times(usage corev1.ResourceList, n int64) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range usage {
		m := q.DeepCopy()
		m.Mul(n)
		out[name] = m
	}
	return out
}

// Add returns the sum of the resource lists.
func Add(lists ...corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, l := range lists {
		for name, q := range l {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
	}
	return out
}

// Shortfall is one resource of one ResourceQuota without room for a request.
type Shortfall struct {
	// Quota is the ResourceQuota's name.
	Quota string
	// Resource is the quota resource name, e.g. requests.memory.
	Resource corev1.ResourceName
	// Need is what the request charges; Used and Hard are the quota's status.used and spec.hard.
	Need, Used, Hard resource.Quantity
}

// Short is by how much the quota is exceeded: used + need - hard.
func (s Shortfall) Short() resource.Quantity {
	q := s.Used.DeepCopy()
	q.Add(s.Need)
	q.Sub(s.Hard)
	return q
}

// String says it for a person: `ResourceQuota "compute": requests.memory: needs 4Gi, 1Gi of 4Gi
// left (short by 3Gi)`.
func (s Shortfall) String() string {
	left := s.Hard.DeepCopy()
	left.Sub(s.Used)
	if left.Sign() < 0 {
		left = resource.Quantity{Format: s.Hard.Format}
	}
	short := s.Short()
	return fmt.Sprintf("ResourceQuota %q: %s: needs %s, %s of %s left (short by %s)",
		s.Quota, s.Resource, s.Need.String(), left.String(), s.Hard.String(), short.String())
}

// Check returns, for each ResourceQuota without scopes, each resource it limits that need would take
// beyond its hard limit (status.used + need > spec.hard), sorted by quota and resource. A quota
// whose status the quota controller has not filled in yet counts as unused.
func Check(quotas []corev1.ResourceQuota, need corev1.ResourceList) []Shortfall {
	var out []Shortfall
	for i := range quotas {
		q := &quotas[i]
		if len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil {
			continue
		}
		for name, hard := range q.Spec.Hard {
			n, ok := need[name]
			if !ok || n.IsZero() {
				continue
			}
			used := q.Status.Used[name]
			total := used.DeepCopy()
			total.Add(n)
			if total.Cmp(hard) > 0 {
				out = append(out, Shortfall{Quota: q.Name, Resource: name, Need: n, Used: used.DeepCopy(), Hard: hard.DeepCopy()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Quota != out[j].Quota {
			return out[i].Quota < out[j].Quota
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}

// Describe joins shortfalls into one message: "<first>; <second>; ...".
func Describe(shortfalls []Shortfall) string {
	parts := make([]string, len(shortfalls))
	for i, s := range shortfalls {
		parts[i] = s.String()
	}
	return strings.Join(parts, "; ")
}
