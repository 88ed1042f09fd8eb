package submission

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TestExecutorDecommissioning: the annotation turns on decommissioning with block migration and
// gives the executor pods their grace period; sparkConf and spec.executor win; without it nothing
// is set; a bad value is refused naming the annotation.
func TestExecutorDecommissioning(t *testing.T) {
	annotate := func(v string) func(*v1beta2.SparkApplication) {
		return func(a *v1beta2.SparkApplication) {
			a.Annotations = map[string]string{v1beta2.AnnotationExecutorDecommissioning: v}
		}
	}
	all := []string{keyDecommissionEnabled, keyStorageDecommission, keyDecommissionShuffle, keyDecommissionRDD}

	res := render(t, app(annotate("true")))
	for _, k := range all {
		if res.Conf[k] != "true" {
			t.Errorf("%s = %q, want true", k, res.Conf[k])
		}
	}
	if res.Conf[keyDecommissionReattempt] != defaultDecommissionRecheck {
		t.Errorf("%s = %q, want %s", keyDecommissionReattempt, res.Conf[keyDecommissionReattempt], defaultDecommissionRecheck)
	}
	if g := res.ExecutorTemplate.Spec.TerminationGracePeriodSeconds; g == nil || *g != DefaultDecommissionGracePeriodSeconds {
		t.Errorf("executor terminationGracePeriodSeconds = %v, want %d", g, DefaultDecommissionGracePeriodSeconds)
	}
	if !strings.Contains(res.ExecutorTemplateConfigMap.Data[PodTemplateKey], "terminationGracePeriodSeconds: 60") {
		t.Error("the grace period is not in the executor template ConfigMap")
	}
	if res.DriverPod.Spec.TerminationGracePeriodSeconds != nil {
		t.Errorf("the driver got a grace period: %d", *res.DriverPod.Spec.TerminationGracePeriodSeconds)
	}

	res = render(t, app(annotate("true"), func(a *v1beta2.SparkApplication) {
		a.Spec.SparkConf = map[string]string{keyDecommissionRDD: "false", keyDecommissionReattempt: "30s"}
		a.Spec.Executor.TerminationGracePeriodSeconds = ptr.To[int64](120)
	}))
	if res.Conf[keyDecommissionRDD] != "false" || res.Conf[keyDecommissionReattempt] != "30s" {
		t.Errorf("sparkConf overridden: %s=%q %s=%q", keyDecommissionRDD, res.Conf[keyDecommissionRDD], keyDecommissionReattempt, res.Conf[keyDecommissionReattempt])
	}
	if g := res.ExecutorTemplate.Spec.TerminationGracePeriodSeconds; g == nil || *g != 120 {
		t.Errorf("spec.executor.terminationGracePeriodSeconds overridden: %v", g)
	}

	for _, a := range []*v1beta2.SparkApplication{app(), app(annotate("false"))} {
		res = render(t, a)
		for _, k := range append(all, keyDecommissionReattempt) {
			if v, ok := res.Conf[k]; ok {
				t.Errorf("%v: %s = %q set without the annotation", a.Annotations, k, v)
			}
		}
		if res.ExecutorTemplate.Spec.TerminationGracePeriodSeconds != nil {
			t.Errorf("%v: executor grace period set without the annotation", a.Annotations)
		}
	}

	_, err := Render(app(annotate("yes please")), NewSubmission(testUID, "1", 1, testTime), testOpts)
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Field, v1beta2.AnnotationExecutorDecommissioning) {
		t.Errorf("Render with a bad value = %v, want a FieldError naming the annotation", err)
	}
}
