package batchscheduler_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/submission"
)

// TestGangResources checks the sums a pod group is sized with, worked out by hand from Spark's rules
// (memory + overhead, where Kubeflow reads Spark's "512m" as 0.512 bytes).
func TestGangResources(t *testing.T) {
	for _, tc := range []struct {
		file     string
		initial  int32
		driver   corev1.ResourceList
		executor corev1.ResourceList
		total    corev1.ResourceList
	}{{
		// 512m + 384Mi overhead = 896Mi each; 1 CPU each; two executors.
		file:     "../../examples/spark-pi-volcano.yaml",
		initial:  2,
		driver:   list("cpu", "1", "memory", "896Mi"),
		executor: list("cpu", "1", "memory", "896Mi"),
		total:    list("cpu", "3", "memory", "2688Mi"),
	}, {
		// Driver: coreRequest 500m + sidecar 100m, but the 4-CPU init container is larger;
		// memory 2g + 1g explicit overhead + 64Mi sidecar = 3136Mi (more than the init's 128Mi).
		// Executor: 4g + 0.4 x 4096 = 1638Mi overhead + 1g off-heap + 256Mi PySpark = 7014Mi,
		// 2 CPUs, the GPU limit copied into the requests. Three executors at start.
		file:     "testdata/apps/yunikorn-python-resources.yaml",
		initial:  3,
		driver:   list("cpu", "4", "memory", "3136Mi"),
		executor: list("cpu", "2", "memory", "7014Mi", "nvidia.com/gpu", "1"),
		total:    list("cpu", "10", "memory", "24178Mi", "nvidia.com/gpu", "3"),
	}} {
		t.Run(tc.file, func(t *testing.T) {
			app := loadApp(t, tc.file)
			res, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 1, testTime), submission.Options{})
			if err != nil {
				t.Fatal(err)
			}
			exec, err := res.ExecutorPod()
			if err != nil {
				t.Fatal(err)
			}
			pods := &batchscheduler.Pods{Driver: res.DriverPod, ExecutorTemplate: res.ExecutorTemplate, Executor: exec, InitialExecutors: res.InitialExecutors()}
			if pods.InitialExecutors != tc.initial {
				t.Errorf("initial executors = %d, want %d", pods.InitialExecutors, tc.initial)
			}
			equal(t, "driver", batchscheduler.PodRequests(pods.Driver), tc.driver)
			equal(t, "executor", batchscheduler.PodRequests(pods.Executor), tc.executor)
			equal(t, "gang", batchscheduler.GangResources(pods), tc.total)
			equal(t, "min resources", batchscheduler.MinResources(app, pods), tc.total)

			app.Spec.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Resources: list("cpu", "7")}
			equal(t, "min resources with batchSchedulerOptions.resources", batchscheduler.MinResources(app, pods), list("cpu", "7"))
		})
	}
}

func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func equal(t *testing.T, what string, got, want corev1.ResourceList) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	for name, q := range want {
		if g, ok := got[name]; !ok || g.Cmp(q) != 0 {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}
