package operatortest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// Binary builds cmd/spark-operator once per test binary, into a temporary directory, and returns
// its path: for tests that need the operator as its own process (exit status, signals, exec).
var Binary = sync.OnceValues(func() (string, error) {
	root, err := framework.FindRepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "spark-operator-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "spark-operator")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/spark-operator")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})
