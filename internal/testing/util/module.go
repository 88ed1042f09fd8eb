package util

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ModuleDir downloads module (path@version, Kubeflow's operator say) into the Go module cache through
// the module proxy, a no-op when it is there, and returns its directory, for tests that read another
// project's files without copying them into this repository. The go command runs outside this module,
// so that go.mod and go.sum stay as they are. The error names the module and what the go command
// said.
func ModuleDir(module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = os.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %v %s %s", module, err, mod.Error, strings.TrimSpace(stderr.String()))
	}
	return mod.Dir, nil
}
