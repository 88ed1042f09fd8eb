package recovery_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestLeaderRestartsInPlaceAfterOutageLongerThanRenewDeadline: `controller start` as its own process
// with leader election; kube-apiserver goes away for longer than the renew deadline but shorter than
// the lease. The leader stops leading (as it must), executes itself again in place (the process
// never exits), takes its own Lease back with the same identity once the API server is back, and
// submits a new application; on SIGTERM it releases the Lease.
func TestLeaderRestartsInPlaceAfterOutageLongerThanRenewDeadline(t *testing.T) {
	ns := env.NewNamespace(t)
	bin, err := operatortest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "operator.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "controller", "start", "--kubeconfig="+env.Kubeconfig, "--namespaces="+ns,
		"--leader-election", "--leader-election-lock-namespace="+ns,
		// A lease far longer than the outage below, kube-apiserver's restart on a loaded machine
		// included; a renew deadline far shorter.
		"--leader-election-lease-duration=90s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s",
		"--metrics-bind-address=0", "--health-probe-bind-address=0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	defer func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("operator log:\n%s", logText())
		}
	}()

	holder := waitForHolder(t, ns)
	outage(t, 8*time.Second, nil)
	back := time.Now()
	create(t, wrappers.MakeSparkApplication("after", ns).Obj())
	waitForState(t, ns, "after", v1beta2.ApplicationStateSubmitted, 2*recoveryBound)
	t.Logf("measured: leader lost its Lease in the outage, restarted in place; new application SUBMITTED %s after kube-apiserver's return",
		time.Since(back).Round(10*time.Millisecond))
	select {
	case err := <-exited:
		t.Fatalf("the operator process exited: %v", err)
	default:
	}
	if !strings.Contains(logText(), "restarting in place with the same identity") {
		t.Errorf("no in-place restart logged")
	}
	if l := lease(ns); l == nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
		t.Errorf("Lease after the outage: %+v, want held again by %s", l, holder)
	}
	for _, line := range strings.Split(strings.TrimSpace(logText()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("unstructured log line: %s", line)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the operator did not stop within 30 s of SIGTERM")
	}
	if l := lease(ns); l == nil || (l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "") {
		t.Errorf("Lease not released on exit: %+v", l)
	}
}
