// Package v1beta2 holds the sparkoperator.k8s.io/v1beta2 API: SparkApplication and
// ScheduledSparkApplication. The types are field-for-field compatible with the Kubeflow Spark
// Operator v2.x (same JSON names, enums and state strings), so existing manifests, Airflow DAGs and
// Kueue keep working; on top of that the status carries standard conditions and observedGeneration.
//
// +kubebuilder:object:generate=true
// +groupName=sparkoperator.k8s.io
package v1beta2

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "sparkoperator.k8s.io", Version: "v1beta2"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
