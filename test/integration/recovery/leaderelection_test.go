package recovery_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
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
	cmd := exec.Command(bin, "controller", "start", "--kubeconfig="+env.Kubeconfig, "--namespaces="+ns,
		"--leader-election", "--leader-election-lock-namespace="+ns,
		// A lease far longer than the outage below, kube-apiserver's restart on a loaded machine
		// included; a renew deadline far shorter.
		"--leader-election-lease-duration=90s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s",
		"--metrics-bind-address=0", "--health-probe-bind-address=0")
	op, err := framework.StartProcess("the operator", filepath.Join(t.TempDir(), "operator.log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = op.Stop(0) // kills it at once when the test ended early
		if t.Failed() {
			t.Logf("operator log:\n%s", op.Log())
		}
	}()

	holder := waitForHolder(t, ns)
	outage(t, 8*time.Second, nil)
	back := time.Now()
	create(t, wrappers.MakeSparkApplication("after", ns).Obj())
	waitForState(t, ns, "after", v1beta2.ApplicationStateSubmitted, 2*recoveryBound)
	t.Logf("measured: leader lost its Lease in the outage, restarted in place; new application SUBMITTED %s after kube-apiserver's return",
		time.Since(back).Round(10*time.Millisecond))
	if op.Exited() {
		t.Fatalf("the operator process exited: %v", op.Err())
	}
	if !strings.Contains(op.Log(), "restarting in place with the same identity") {
		t.Errorf("no in-place restart logged")
	}
	if l := lease(ns); l == nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
		t.Errorf("Lease after the outage: %+v, want held again by %s", l, holder)
	}
	for _, line := range strings.Split(strings.TrimSpace(op.Log()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("unstructured log line: %s", line)
		}
	}

	if err := op.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := op.Err(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if l := lease(ns); l == nil || (l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "") {
		t.Errorf("Lease not released on exit: %+v", l)
	}
}
