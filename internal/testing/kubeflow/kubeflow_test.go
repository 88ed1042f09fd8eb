package kubeflow

import (
	"os/exec"
	"strings"
	"testing"
)

// TestKubeflowBuildPin checks that hack/kubeflow/go.mod, from which make kubeflow-operator builds
// bin/kubeflow-spark-operator for the side-by-side tools (test/e2e's migration, make
// bench-kubeflow), pins Latest: the migration installs Latest's chart, whose flags an older binary
// may refuse.
func TestKubeflowBuildPin(t *testing.T) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", Module)
	cmd.Dir = "../../../hack/kubeflow"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m %s in hack/kubeflow: %v\n%s", Module, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != Latest {
		t.Errorf("hack/kubeflow/go.mod pins %s %s, want Latest (%s): bump it and run `go mod tidy` there", Module, got, Latest)
	}
}
