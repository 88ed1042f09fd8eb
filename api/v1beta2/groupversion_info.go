// Package v1beta2 holds the sparkoperator.k8s.io/v1beta2 API: SparkApplication and
// ScheduledSparkApplication. The types are field-for-field compatible with the Kubeflow Spark
// Operator v2.x (same JSON names, enums and state strings), so existing manifests, Airflow DAGs and
// Kueue keep working; on top of that the status carries standard conditions and observedGeneration.
//
// +kubebuilder:object:generate=true
// +groupName=sparkoperator.k8s.io
package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "sparkoperator.k8s.io", Version: "v1beta2"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers the kinds of this package and the meta types of its group version.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&SparkApplication{}, &SparkApplicationList{},
		&ScheduledSparkApplication{}, &ScheduledSparkApplicationList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
