package schedulers_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// executorTemplate decodes the executor pod template from its ConfigMap, as the driver reads the file
// spark.kubernetes.executor.podTemplateFile.
func executorTemplate(t *testing.T, cm *corev1.ConfigMap) *corev1.Pod {
	t.Helper()
	text, ok := cm.Data[submission.PodTemplateKey]
	if !ok {
		t.Fatalf("the ConfigMap %s has no executor pod template (key %s)", cm.Name, submission.PodTemplateKey)
	}
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(text), pod); err != nil {
		t.Fatalf("decoding the executor pod template: %v", err)
	}
	return pod
}

// newExecutor builds executor number id the way a Spark driver does (BasicExecutorFeatureStep on
// the pod template): the template with Spark's name, labels, owner reference to the driver pod, and
// the Spark container's image and resources from the configuration; whatever else the template holds
// (spec.schedulingGroup among it) is kept.
func newExecutor(t *testing.T, template *corev1.Pod, conf submission.Conf, appType v1beta2.SparkApplicationType, driver *corev1.Pod, id int) *corev1.Pod {
	t.Helper()
	pod := template.DeepCopy()
	pod.Name = strings.TrimSuffix(driver.Name, "-driver") + "-exec-" + strconv.Itoa(id)
	pod.Namespace = driver.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	for k, v := range conf {
		if rest, ok := strings.CutPrefix(k, "spark.kubernetes.executor.label."); ok {
			pod.Labels[rest] = v
		}
	}
	pod.Labels[v1beta2.LabelSparkAppSelector] = conf["spark.app.id"]
	pod.Labels[v1beta2.LabelSparkRole] = "executor"
	pod.Labels[v1beta2.LabelSparkExecID] = strconv.Itoa(id)
	pod.Labels["spark-exec-resourceprofile-id"] = "0"
	pod.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "Pod", Name: driver.Name, UID: driver.UID, Controller: ptr.To(true),
	}}
	pod.Spec.Hostname = pod.Name
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if name := firstSet(conf["spark.kubernetes.executor.scheduler.name"], conf["spark.kubernetes.scheduler.name"]); name != "" {
		pod.Spec.SchedulerName = name
	}

	memoryMiB, err := submission.ParseSparkMemoryMiB(firstSet(conf["spark.executor.memory"], "1g"))
	if err != nil {
		t.Fatal(err)
	}
	overhead := submission.MemoryOverheadMiB(memoryMiB, submission.DefaultMemoryOverheadFactor(appType), nil, submission.MinMemoryOverheadMiB)
	memory := resource.MustParse(fmt.Sprintf("%dMi", memoryMiB+overhead))
	cpu := resource.MustParse(firstSet(conf["spark.kubernetes.executor.request.cores"], conf["spark.executor.cores"], "1"))
	c := &pod.Spec.Containers[0]
	c.Image = firstSet(conf["spark.kubernetes.executor.container.image"], conf["spark.kubernetes.container.image"])
	c.Args = []string{"executor"}
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory}
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: memory}
	return pod
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
