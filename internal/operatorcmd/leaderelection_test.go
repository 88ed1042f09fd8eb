package operatorcmd

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
)

func TestRestartInPlaceIfLeaseLost(t *testing.T) {
	var called []string
	old := execSelf
	execSelf = func(argv0 string, argv, env []string) error {
		called = append(called, argv0)
		return errors.New("exec refused")
	}
	defer func() { execSelf = old }()

	other := errors.New("something else")
	if err := RestartInPlaceIfLeaseLost(logr.Discard(), other); err != other || len(called) != 0 {
		t.Errorf("another error: got %v, exec calls %v", err, called)
	}
	if err := RestartInPlaceIfLeaseLost(logr.Discard(), nil); err != nil || len(called) != 0 {
		t.Errorf("no error: got %v, exec calls %v", err, called)
	}
	err := RestartInPlaceIfLeaseLost(logr.Discard(), errors.New("leader election lost"))
	if len(called) != 1 || err == nil {
		t.Fatalf("lease lost: exec calls %v, error %v", called, err)
	}
	if self, _ := os.Executable(); called[0] != self {
		t.Errorf("executed %q, want this binary %q", called[0], self)
	}
}

func TestUseStableLeaderIdentity(t *testing.T) {
	t.Setenv(LeaderIdentityEnv, "")
	opts := ctrl.Options{LeaderElection: true, LeaderElectionID: "spark-operator-lock", LeaderElectionNamespace: "ops", RenewDeadline: ptr.To(10 * time.Second)}
	if err := UseStableLeaderIdentity(&rest.Config{Host: "https://127.0.0.1:1"}, &opts); err != nil {
		t.Fatal(err)
	}
	id := os.Getenv(LeaderIdentityEnv)
	if opts.LeaderElectionResourceLockInterface == nil || id == "" || opts.LeaderElectionResourceLockInterface.Identity() != id {
		t.Fatalf("lock %v, identity %q", opts.LeaderElectionResourceLockInterface, id)
	}
	if got := opts.LeaderElectionResourceLockInterface.Describe(); got != "ops/spark-operator-lock" {
		t.Errorf("lock %s", got)
	}
	// After an in-place restart the identity is the same.
	again := ctrl.Options{LeaderElection: true, LeaderElectionID: "spark-operator-lock", LeaderElectionNamespace: "ops"}
	if err := UseStableLeaderIdentity(&rest.Config{Host: "https://127.0.0.1:1"}, &again); err != nil {
		t.Fatal(err)
	}
	if got := again.LeaderElectionResourceLockInterface.Identity(); got != id {
		t.Errorf("identity after a restart %q, want %q", got, id)
	}
	off := ctrl.Options{}
	if err := UseStableLeaderIdentity(&rest.Config{}, &off); err != nil || off.LeaderElectionResourceLockInterface != nil {
		t.Errorf("leader election off: %v, %v", err, off.LeaderElectionResourceLockInterface)
	}
}
