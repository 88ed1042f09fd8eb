package operatorcmd

import (
	"io"
	"os"
	"strings"
	"testing"
)

// TestRenderPodTemplates: an unknown field inside a pod template is dropped (the application renders),
// and a value of the wrong type fails the render naming the field, its JSON type and what is expected.
func TestRenderPodTemplates(t *testing.T) {
	data, err := os.ReadFile("../../examples/spark-pi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := string(data)
	if !strings.Contains(base, "\n  driver:\n") {
		t.Fatal("examples/spark-pi.yaml has no spec.driver to add a template to")
	}
	with := func(template string) string {
		return strings.Replace(base, "\n  driver:\n", "\n  driver:\n    template: "+template+"\n", 1)
	}
	o := &renderOptions{attempt: 1}
	if err := o.run(strings.NewReader(with(`{spec: {securityContext: {runAsUser: 185, capabilities: {drop: [ALL]}}}}`)), io.Discard); err != nil {
		t.Errorf("unknown template field: %v", err)
	}
	err = o.run(strings.NewReader(with(`{spec: {containers: [{name: c, ports: "4040"}]}}`)), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `spec.driver.template.spec.containers[0].ports: string "4040" where an array is expected`) {
		t.Errorf("wrong-typed template value: %v", err)
	}
}

// TestRenderSparkConnect: render prints a SparkConnect's server pod, its ConfigMaps and headless
// Service, and the client Service.
func TestRenderSparkConnect(t *testing.T) {
	f, err := os.Open("../../examples/sparkconnect/spark-connect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	if err := (&renderOptions{attempt: 1}).run(f, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: spark-connect-server", "org.apache.spark.sql.connect.service.SparkConnectServer", "spark-role: connect-server", "port: 15002", "clusterIP: None"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("render lacks %q", want)
		}
	}
}
