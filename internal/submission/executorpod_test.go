package submission

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TestExecutorPod: the executor's size follows Spark's rules (cores, limit cores, memory plus the
// non-JVM overhead of a Python application), with the template's sidecar kept.
func TestExecutorPod(t *testing.T) {
	app := loadApp(t, "../../examples/spark-pi.yaml")
	app.UID = "uid"
	app.Spec.Type = v1beta2.SparkApplicationTypePython
	app.Spec.MainClass = nil
	app.Spec.MainApplicationFile = ptr.To("local:///opt/spark/examples/src/main/python/pi.py")
	app.Spec.Executor.Cores = ptr.To(int32(2))
	app.Spec.Executor.CoreLimit = ptr.To("3")
	app.Spec.Executor.Memory = ptr.To("2g")
	app.Spec.Executor.Instances = ptr.To(int32(4))
	app.Spec.Executor.Sidecars = []corev1.Container{{Name: "log", Image: "busybox"}}
	res, err := Render(app, NewSubmission(app.UID, "1", 1, testTime), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pod, err := res.ExecutorPod()
	if err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Containers) != 2 {
		t.Fatalf("containers %v, want the Spark container and the sidecar", pod.Spec.Containers)
	}
	r := pod.Spec.Containers[0].Resources
	for name, want := range map[string]resource.Quantity{
		"requests.cpu": resource.MustParse("2"), "limits.cpu": resource.MustParse("3"),
		// 2048Mi + 0.4 x 2048Mi = 2867Mi
		"requests.memory": resource.MustParse("2867Mi"), "limits.memory": resource.MustParse("2867Mi"),
	} {
		list, key := r.Requests, corev1.ResourceName(name[len("requests."):])
		if name[:7] == "limits." {
			list, key = r.Limits, corev1.ResourceName(name[len("limits."):])
		}
		if got := list[key]; got.Cmp(want) != 0 {
			t.Errorf("%s = %s, want %s", name, got.String(), want.String())
		}
	}
	if n := res.InitialExecutors(); n != 4 {
		t.Errorf("instances = %d, want 4", n)
	}
}
