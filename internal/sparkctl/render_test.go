package sparkctl

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// runOffline runs sparkctl with args and stdin, without a cluster.
func runOffline(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewRootCommand("sparkctl", genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestRenderCommand(t *testing.T) {
	out, _, err := runOffline(t, "", "render", "-f", "../../examples/spark-pi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: Pod\n", "  name: spark-pi-driver\n", "kind: ConfigMap\n", "spark.properties: |", "podspec-configmap-key: |", "memory: 896Mi"} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q", want)
		}
	}
	if strings.Contains(out, "kind: Service\n") {
		t.Errorf("render output has a driver Service without --enable-driver-service")
	}
	if out, _, err = runOffline(t, "", "render", "-f", "../../examples/spark-pi.yaml", "--enable-driver-service"); err != nil || !strings.Contains(out, "kind: Service\n") {
		t.Errorf("render --enable-driver-service: %v, no Service", err)
	}

	// JSON, from standard input, for a ScheduledSparkApplication's template, after a ConfigMap that
	// is skipped with a note.
	text, err := readFileString("../../examples/spark-pi-scheduled.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stdin := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + text
	out, errOut, err := runOffline(t, stdin, "render", "-f", "-", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Kind string `json:"kind"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 || list.Items[0].Kind != "Pod" {
		t.Errorf("render -o json: %v %+v", err, list)
	}
	if !strings.Contains(errOut, "render: skipping <stdin>: v1 ConfigMap is not a sparkoperator.k8s.io/v1beta2 SparkApplication") {
		t.Errorf("the ConfigMap was not reported as skipped: %q", errOut)
	}

	// What the operator refuses, and unknown fields, are errors naming the field.
	local := util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) { w.MainApplicationFile("app.jar") })
	if _, _, err := runOffline(t, local, "render", "-f", "-"); err == nil || !strings.Contains(err.Error(), "cannot be submitted: spec.mainApplicationFile: \"app.jar\" is a file on the submitter's disk") {
		t.Errorf("render of a local file: %v", err)
	}
	unknown := strings.Replace(util.SparkPiYAML(t, nil), "sparkVersion:", "sparkversion:", 1)
	if _, _, err := runOffline(t, unknown, "render", "-f", "-"); err == nil || !strings.Contains(err.Error(), `spec.sparkversion: unknown field; did you mean "sparkVersion"?`) {
		t.Errorf("render of an unknown field: %v", err)
	}
	wrongType := strings.Replace(util.SparkPiYAML(t, nil), "  driver:\n", "  driver:\n    template: {spec: {containers: [{name: c, ports: \"4040\"}]}}\n", 1)
	if _, _, err := runOffline(t, wrongType, "render", "-f", "-"); err == nil || !strings.Contains(err.Error(), `spec.driver.template.spec.containers[0].ports: string "4040" where an array is expected`) {
		t.Errorf("render of a wrong-typed pod template value: %v", err)
	}
	if _, _, err := runOffline(t, "", "render", "-f", "../../examples/spark-pi.yaml", "--attempt", "0"); err == nil || !strings.Contains(err.Error(), "--attempt must be 1 or more") {
		t.Errorf("render --attempt 0: %v", err)
	}
	if _, _, err := runOffline(t, "", "render"); err == nil || !strings.Contains(err.Error(), "a manifest is required") {
		t.Errorf("render without -f: %v", err)
	}
	if _, _, err := runOffline(t, "", "render", "-f", "/nonexistent.yaml"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("render of a missing file: %v", err)
	}
}

func readFileString(p string) (string, error) {
	data, err := os.ReadFile(p)
	return string(data), err
}
