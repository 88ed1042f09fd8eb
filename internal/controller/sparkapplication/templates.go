package sparkapplication

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// reportDroppedTemplateFields records a Warning Event naming the fields of the application's pod
// templates that a v1 PodTemplateSpec does not have (submission.TemplateUnknownFields): the API server
// keeps them, the operator drops them, as Spark would. It runs once per submitted spec and only for
// applications with a template, reading the stored object from the API server (the cache holds the
// decoded object, without those fields); a failed read is logged and never holds the submission back.
func (r *Reconciler) reportDroppedTemplateFields(ctx context.Context, s *scope) {
	if r.apiReader == nil || (s.app.Spec.Driver.Template == nil && s.app.Spec.Executor.Template == nil) {
		return
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("SparkApplication"))
	if err := r.apiReader.Get(ctx, client.ObjectKeyFromObject(s.app), u); err != nil {
		s.log.Error(err, "Reading the application's pod templates as stored; unknown template fields are not reported")
		return
	}
	if fields := submission.TemplateUnknownFields(u.Object); len(fields) > 0 {
		s.event(corev1.EventTypeWarning, ReasonTemplateFieldsDropped,
			"Pod template fields that Kubernetes' PodTemplateSpec does not have are dropped (they have no effect): %s", strings.Join(fields, ", "))
	}
}
