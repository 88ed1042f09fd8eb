package sparkapplication

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestPartialRestartHash: the second part of SpecHash ignores exactly the executor fields of
// Kubeflow's PartialRestart list; sameSpec accepts hashes written before it had a second part.
func TestPartialRestartHash(t *testing.T) {
	base := wrappers.MakeSparkApplication("pi", "default").Obj()
	full, part, ok := strings.Cut(SpecHash(base), "/")
	if !ok {
		t.Fatalf("SpecHash %q has no second part", SpecHash(base))
	}
	if !sameSpec(SpecHash(base), full) {
		t.Errorf("a hash without its second part no longer matches")
	}
	for name, change := range map[string]func(*v1beta2.SparkApplication){
		"priorityClassName": func(a *v1beta2.SparkApplication) { a.Spec.Executor.PriorityClassName = ptr.To("high") },
		"nodeSelector":      func(a *v1beta2.SparkApplication) { a.Spec.Executor.NodeSelector = map[string]string{"pool": "spot"} },
		"tolerations":       func(a *v1beta2.SparkApplication) { a.Spec.Executor.Tolerations = []corev1.Toleration{{Key: "spot"}} },
		"affinity":          func(a *v1beta2.SparkApplication) { a.Spec.Executor.Affinity = &corev1.Affinity{} },
		"schedulerName":     func(a *v1beta2.SparkApplication) { a.Spec.Executor.SchedulerName = ptr.To("volcano") },
	} {
		a := base.DeepCopy()
		change(a)
		f, p, _ := strings.Cut(SpecHash(a), "/")
		if f == full || p != part {
			t.Errorf("executor %s: full hash changed %v, partial hash changed %v; want true, false", name, f != full, p != part)
		}
	}
	for name, change := range map[string]func(*v1beta2.SparkApplication){
		"driver nodeSelector": func(a *v1beta2.SparkApplication) { a.Spec.Driver.NodeSelector = map[string]string{"pool": "spot"} },
		"executor memory":     func(a *v1beta2.SparkApplication) { a.Spec.Executor.Memory = ptr.To("8g") },
		"spec nodeSelector":   func(a *v1beta2.SparkApplication) { a.Spec.NodeSelector = map[string]string{"pool": "spot"} },
	} {
		a := base.DeepCopy()
		change(a)
		if _, p, _ := strings.Cut(SpecHash(a), "/"); p == part {
			t.Errorf("%s: the partial hash did not change", name)
		}
	}
}
