// Package v1alpha1 holds the sparkoperator.k8s.io/v1alpha1 API: SparkConnect, a long-running Spark
// Connect server (Spark 3.4+) with its executors. The type is field-for-field compatible with the
// Kubeflow Spark Operator's SparkConnect (v2.3+): same JSON names, states, condition and labels, so
// Kubeflow manifests apply unchanged. docs/spark-connect.md describes what the operator does with it.
//
// +kubebuilder:object:generate=true
// +groupName=sparkoperator.k8s.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "sparkoperator.k8s.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers the kinds of this package and the meta types of its group version.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &SparkConnect{}, &SparkConnectList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
