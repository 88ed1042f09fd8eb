package quota

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodUsage(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")}}}},
		Containers: []corev1.Container{
			{Name: "spark", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1408Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1408Mi"), "nvidia.com/gpu": resource.MustParse("1")},
			}},
			{Name: "sidecar", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}},
		},
	}}
	got := PodUsage(pod)
	want := map[corev1.ResourceName]string{
		"pods": "1", "count/pods": "1", "cpu": "1100m", "requests.cpu": "1100m", "memory": "4Gi", "requests.memory": "4Gi",
		"limits.memory": "1408Mi", "requests.nvidia.com/gpu": "1",
	}
	for name, w := range want {
		q := got[name]
		if q.Cmp(resource.MustParse(w)) != 0 {
			t.Errorf("%s = %s, want %s", name, q.String(), w)
		}
	}
}

func TestCheck(t *testing.T) {
	quotas := []corev1.ResourceQuota{
		{ObjectMeta: metav1.ObjectMeta{Name: "compute"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"requests.memory": resource.MustParse("4Gi"), "pods": resource.MustParse("10")}},
			Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{"requests.memory": resource.MustParse("3Gi")}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "scoped"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"pods": resource.MustParse("0")}, Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}}},
	}
	need := Times(corev1.ResourceList{"requests.memory": resource.MustParse("896Mi"), "pods": resource.MustParse("1")}, 2)
	got := Check(quotas, need)
	if len(got) != 1 {
		t.Fatalf("shortfalls %v, want one", got)
	}
	if s := got[0].String(); s != `ResourceQuota "compute": requests.memory: needs 1792Mi, 1Gi of 4Gi left (short by 768Mi)` {
		t.Errorf("shortfall %q", s)
	}
	if got := Check(quotas, Times(need, 0)); len(got) != 0 {
		t.Errorf("nothing needed: %v", got)
	}
}
