package submission

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// executorTemplate renders the executor pod template (YAML of a v1 Pod) that the driver reads from
// spark.kubernetes.executor.podTemplateFile. It starts from spec.executor.template and adds what
// Kubeflow's webhook added to executor pods; Spark then adds its own settings (name, labels from
// spark.kubernetes.executor.label.*, image, resources, env, owner reference to the driver) when it
// creates each executor. The Spark container (spark-kubernetes-executor, else "executor", else the
// first container) is put first and its name recorded in conf, so Spark picks it.
func executorTemplate(app *v1beta2.SparkApplication, conf Conf, opts Options, n names) (*corev1.Pod, string, error) {
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	if t := app.Spec.Executor.Template; t != nil {
		pod.ObjectMeta = *t.ObjectMeta.DeepCopy()
		pod.Spec = *t.Spec.DeepCopy()
	}
	// Owner references and names are Spark's to set; a template owner reference orphans executors
	// (Kubeflow #2961).
	pod.OwnerReferences = nil
	pod.Name, pod.GenerateName, pod.Namespace = "", "", ""

	idx := -1
	for _, want := range []string{executorContainerName, "executor"} {
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == want && idx < 0 {
				idx = i
			}
		}
	}
	switch {
	case len(pod.Spec.Containers) == 0:
		pod.Spec.Containers = []corev1.Container{{Name: executorContainerName}}
	case idx > 0:
		c := pod.Spec.Containers[idx]
		pod.Spec.Containers = append([]corev1.Container{c}, append(pod.Spec.Containers[:idx:idx], pod.Spec.Containers[idx+1:]...)...)
	}
	if pod.Spec.Containers[0].Name == "" {
		pod.Spec.Containers[0].Name = executorContainerName
	}
	if err := customizePod(pod, 0, app, roleExecutor, opts, n); err != nil {
		return nil, "", err
	}
	if on, _ := decommissioning(app); on { // a bad value was refused by buildConf
		decommissionGracePeriod(pod)
	}
	conf[keyExecutorTemplateName] = pod.Spec.Containers[0].Name
	out, err := cleanYAML(pod)
	if err != nil {
		return nil, "", err
	}
	return pod, string(out), nil
}
