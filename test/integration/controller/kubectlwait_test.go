package controller_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// kubectlWait is one `kubectl wait` process started before the application ends, as a shell
// pipeline or an Argo Workflows step waiting on a SparkApplication would run it.
type kubectlWait struct {
	args []string
	done chan error
	out  bytes.Buffer
}

// startKubectlWait runs `bin/kubectl wait sparkapplication/<name> <for> --timeout=<timeout>` in the
// background against the test's API server.
func startKubectlWait(t *testing.T, ns, name, forArg string, timeout time.Duration) *kubectlWait {
	t.Helper()
	root := framework.RepoRoot(t)
	w := &kubectlWait{
		args: []string{"--kubeconfig", env.Kubeconfig, "-n", ns, "wait", "sparkapplication/" + name, forArg, "--timeout=" + timeout.String()},
		done: make(chan error, 1),
	}
	cmd := exec.Command(filepath.Join(root, "bin", "kubectl"), w.args...)
	cmd.Stdout, cmd.Stderr = &w.out, &w.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return w
}

// result waits for the kubectl process to exit and returns its error (nil: exit status 0).
func (w *kubectlWait) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-w.done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("kubectl %s did not return within 2 min", strings.Join(w.args[2:], " "))
		return nil
	}
}

// TestKubectlWait: `kubectl wait` on the state's JSONPath and on the Succeeded and Failed conditions,
// started while the application runs, returns 0 once it ends that way; waiting for the outcome that
// does not happen times out with a non-zero exit.
func TestKubectlWait(t *testing.T) {
	ns := parallelWithOperator(t)

	for _, tc := range []struct {
		name     string
		exitCode int32
		want     []string // --for arguments that must succeed
		notWant  []string // --for arguments that must time out
	}{
		{"wait-ok", 0,
			[]string{"--for=jsonpath={.status.applicationState.state}=COMPLETED", "--for=condition=Succeeded"},
			[]string{"--for=condition=Failed"}},
		{"wait-fail", 1,
			[]string{"--for=jsonpath={.status.applicationState.state}=FAILED", "--for=condition=Failed"},
			[]string{"--for=condition=Succeeded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Started right after the create, as `kubectl apply && kubectl wait` does: the status
			// may not be written yet.
			util.Create(t, env.Client, wrappers.MakeSparkApplication(tc.name, ns).Obj())
			var waits, timeouts []*kubectlWait
			for _, f := range tc.want {
				waits = append(waits, startKubectlWait(t, ns, tc.name, f, 2*time.Minute))
			}
			util.WaitForState(t, env.Client, ns, tc.name, v1beta2.ApplicationStateSubmitted)
			util.RunDriver(t, env.Client, ns, tc.name+"-driver")
			util.WaitForState(t, env.Client, ns, tc.name, v1beta2.ApplicationStateRunning)
			util.FinishDriver(t, env.Client, ns, tc.name+"-driver", tc.exitCode)
			for _, w := range waits {
				if err := w.result(t); err != nil {
					t.Errorf("kubectl %s: %v\n%s", strings.Join(w.args[2:], " "), err, w.out.String())
				}
			}
			// Once ended, the other outcome's condition is False and stays so.
			for _, f := range tc.notWant {
				timeouts = append(timeouts, startKubectlWait(t, ns, tc.name, f, 3*time.Second))
			}
			for _, w := range timeouts {
				if err := w.result(t); err == nil || !strings.Contains(w.out.String(), "timed out") {
					t.Errorf("kubectl %s: %v, want a time-out\n%s", strings.Join(w.args[2:], " "), err, w.out.String())
				}
			}
		})
	}
}
