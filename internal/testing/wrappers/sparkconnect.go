package wrappers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
)

// SparkConnectWrapper wraps a SparkConnect under construction.
type SparkConnectWrapper struct {
	v1alpha1.SparkConnect
}

// MakeSparkConnect returns a valid SparkConnect named name in namespace ns: Spark 4.0.1, image
// spark:4.0.1, one executor of 1 core and 512m, the server and executors under service account spark.
func MakeSparkConnect(name, ns string) *SparkConnectWrapper {
	sa := func() *v1beta2.PodTemplate {
		return &v1beta2.PodTemplate{PodTemplateSpec: corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: "spark"}}}
	}
	return &SparkConnectWrapper{v1alpha1.SparkConnect{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "SparkConnect"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.SparkConnectSpec{
			SparkVersion: "4.0.1",
			Image:        ptr.To("spark:4.0.1"),
			Server:       v1alpha1.ServerSpec{SparkPodSpec: v1alpha1.SparkPodSpec{Template: sa()}},
			Executor: v1alpha1.ExecutorSpec{
				SparkPodSpec: v1alpha1.SparkPodSpec{Cores: ptr.To[int32](1), Memory: ptr.To("512m"), Template: sa()},
				Instances:    ptr.To[int32](1),
			},
		},
	}}
}

// Obj returns the wrapped SparkConnect.
func (w *SparkConnectWrapper) Obj() *v1alpha1.SparkConnect { return &w.SparkConnect }

// Spec calls f on the spec, for changes without a dedicated method.
func (w *SparkConnectWrapper) Spec(f func(*v1alpha1.SparkConnectSpec)) *SparkConnectWrapper {
	f(&w.SparkConnect.Spec)
	return w
}

// ExecutorInstances sets spec.executor.instances.
func (w *SparkConnectWrapper) ExecutorInstances(n int32) *SparkConnectWrapper {
	w.SparkConnect.Spec.Executor.Instances = ptr.To(n)
	return w
}
