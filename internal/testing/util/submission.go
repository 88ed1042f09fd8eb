package util

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// SubmissionConfig reads what the operator shipped to the driver of app's current attempt, from the
// ConfigMaps labelled with app's status.submissionID: the spark.properties text
// (submission.PropertiesFileName) and the executor pod template (submission.PodTemplateKey, as the
// driver reads spark.kubernetes.executor.podTemplateFile). It fails the test unless both are there.
func SubmissionConfig(t testing.TB, c client.Client, app *v1beta2.SparkApplication) (properties string, template *corev1.Pod) {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := c.List(context.Background(), list, client.InNamespace(app.Namespace),
		client.MatchingLabels{v1beta2.LabelSubmissionID: app.Status.SubmissionID}); err != nil {
		t.Fatalf("listing the ConfigMaps of submission %s: %v", app.Status.SubmissionID, err)
	}
	for _, cm := range list.Items {
		if p, ok := cm.Data[submission.PropertiesFileName]; ok {
			properties = p
		}
		if text, ok := cm.Data[submission.PodTemplateKey]; ok {
			template = &corev1.Pod{}
			if err := yaml.Unmarshal([]byte(text), template); err != nil {
				t.Fatalf("decoding the executor pod template of submission %s: %v", app.Status.SubmissionID, err)
			}
		}
	}
	if properties == "" || template == nil {
		t.Fatalf("submission %s of %s: spark.properties found %v, executor pod template found %v",
			app.Status.SubmissionID, app.Name, properties != "", template != nil)
	}
	return properties, template
}
