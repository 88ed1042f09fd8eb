package submission

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// FuzzRender feeds arbitrary YAML/JSON application specs to Render: it must never panic, and whatever
// it accepts must render to YAML with a named driver pod owned by the application.
// Run: go test ./internal/submission -run '^$' -fuzz FuzzRender -fuzztime 60s
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	more, _ := filepath.Glob("testdata/apps/*.yaml")
	for _, file := range append(files, more...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"metadata":{"name":"x"},"spec":{"sparkVersion":"4.1.0","image":"i","mainApplicationFile":"local:///a.py","type":"Python","driver":{"memoryLimit":"1Gi"},"executor":{}}}`))
	f.Add([]byte(`{"metadata":{"name":"x"},"spec":{"sparkConf":{"spark.kubernetes.driver.volumes.emptyDir.a.mount.path":"/a","spark.driver.resource.gpu.amount":"1","spark.driver.resource.gpu.vendor":"nvidia.com"},"image":"i","mainClass":"C","mainApplicationFile":"s3a://b/a.jar","driver":{},"executor":{}}}`))
	f.Add([]byte(`{"metadata":{"name":"x"},"spec":{"image":"i","mainClass":"C","mainApplicationFile":"local:///a.jar","driver":{"template":{"spec":{"nodeSelector":"linux","containers":[{"ports":"1"}]}}},"executor":{"template":{"spec":{"containers":{}}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		app := &v1beta2.SparkApplication{}
		if err := yaml.Unmarshal(data, app); err != nil {
			return
		}
		if app.Namespace == "" {
			app.Namespace = "default"
		}
		res, err := Render(app, NewSubmission(app.UID, "1", 1, testTime), testOpts)
		if err != nil {
			return
		}
		if res.DriverPod == nil || res.DriverPod.Name == "" || len(res.DriverPod.OwnerReferences) != 1 {
			t.Fatalf("accepted application rendered a bad driver pod: %+v", res.DriverPod)
		}
		if _, err := res.YAML(); err != nil {
			t.Fatalf("YAML: %v", err)
		}
	})
}
