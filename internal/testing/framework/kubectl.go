package framework

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Kubectl runs the kubectl of AssetsDir as the admin user (--kubeconfig=Kubeconfig) with args and
// stdin (nil for none), and returns its standard output. A non-zero exit fails tb with the command
// line and kubectl's standard error; use it for commands expected to succeed.
func (e *Env) Kubectl(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(filepath.Join(e.AssetsDir, "kubectl"), append([]string{"--kubeconfig=" + e.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}
