package render

import (
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

func TestApplication(t *testing.T) {
	data, err := os.ReadFile("../../examples/spark-pi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	app := &v1beta2.SparkApplication{}
	if err := yaml.Unmarshal(data, app); err != nil {
		t.Fatal(err)
	}
	app.Namespace = ""
	text, err := Application(app, Options{Attempt: 2, Submission: submission.Options{MasterURL: submission.DefaultMasterURL}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if app.Namespace != "default" || app.UID != ZeroUID {
		t.Errorf("defaults not applied: namespace %q, uid %q", app.Namespace, app.UID)
	}
	for _, want := range []string{"kind: Pod\n", "kind: ConfigMap\n", "namespace: default\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("rendered objects lack %q", want)
		}
	}
	app.Spec.MainApplicationFile = nil
	if _, err := Application(app, Options{Attempt: 1}, time.Now()); err == nil {
		t.Error("an application without a main file rendered")
	}
}
