package submission

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TestRenderRefusesWrongTypedTemplate: a template value that did not decode makes Render fail with a
// FieldError naming the first value's full path, what was given and what is expected, and the others.
func TestRenderRefusesWrongTypedTemplate(t *testing.T) {
	app := &v1beta2.SparkApplication{}
	if err := yaml.Unmarshal([]byte(`
metadata: {name: a, namespace: default}
spec:
  type: Scala
  image: spark:4.0.1
  mainClass: C
  mainApplicationFile: local:///a.jar
  sparkVersion: 4.0.1
  driver:
    template: {spec: {priority: high}}
  executor:
    template: {metadata: {labels: {a: [1]}}}
`), app); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	_, err := Render(app, NewSubmission(app.UID, "1", 1, testTime), testOpts)
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Render: %v, want a FieldError", err)
	}
	if fe.Field != "spec.driver.template.spec.priority" || !strings.Contains(fe.Detail, `string "high" where an integer is expected`) ||
		!strings.Contains(fe.Detail, "spec.executor.template.metadata.labels[a]: array where a string is expected") {
		t.Errorf("FieldError %q: %q", fe.Field, fe.Detail)
	}
	app.Spec.Driver.Template, app.Spec.Executor.Template = nil, nil
	if _, err := Render(app, NewSubmission(app.UID, "1", 1, testTime), testOpts); err != nil {
		t.Errorf("without the templates: %v", err)
	}
}
