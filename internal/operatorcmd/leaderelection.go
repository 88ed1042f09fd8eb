package operatorcmd

// How leader election behaves through an API server outage (docs/operations.md, "When the API server
// goes away"): the leader that cannot renew its Lease within the renew deadline stops leading, as it
// must (another replica may take the Lease once it expires); instead of exiting into a container
// restart, the operator then executes itself again in place (same process id, same container, no
// CrashLoopBackOff) with the same leader identity, so that when the API server returns before the
// Lease expired it takes its own Lease back at once, and when it returns later it competes for it
// like any replica. The new image waits for the API server at start-up (NewManagerWhenReachable).

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// LeaderIdentityEnv is the environment variable that carries the leader election identity across an
// in-place restart; set from outside it names the replica ("<hostname>_<uuid>" otherwise, as
// controller-runtime makes it).
const LeaderIdentityEnv = "SPARK_OPERATOR_LEADER_IDENTITY"

// inClusterNamespaceFile holds the pod's namespace, the default of --leader-election-lock-namespace.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// leaderIdentity is $SPARK_OPERATOR_LEADER_IDENTITY, or "<hostname>_<uuid>".
func leaderIdentity() (string, error) {
	if id := os.Getenv(LeaderIdentityEnv); id != "" {
		return id, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", err
	}
	return host + "_" + string(uuid.NewUUID()), nil
}

// UseStableLeaderIdentity gives the manager options a Lease lock (LeaderElectionResourceLockInterface)
// built as controller-runtime builds it (the Lease LeaderElectionID in LeaderElectionNamespace, or
// the pod's own namespace; clients with the user agent "leader-election" and a request timeout of
// half the renew deadline) but whose identity survives RestartInPlaceIfLeaseLost. It does nothing
// when leader election is off. The lock records no Events (controller-runtime's records
// "became leader" Events; the log says it).
func UseStableLeaderIdentity(cfg *rest.Config, opts *ctrl.Options) error {
	if !opts.LeaderElection {
		return nil
	}
	ns := opts.LeaderElectionNamespace
	if ns == "" {
		b, err := os.ReadFile(inClusterNamespaceFile)
		if err != nil {
			return fmt.Errorf("--leader-election-lock-namespace is needed outside a pod: %w", err)
		}
		ns = strings.TrimSpace(string(b))
	}
	id, err := leaderIdentity()
	if err != nil {
		return err
	}
	if err := os.Setenv(LeaderIdentityEnv, id); err != nil {
		return err
	}
	c := rest.AddUserAgent(rest.CopyConfig(cfg), "leader-election")
	if opts.RenewDeadline != nil {
		c.Timeout = max(*opts.RenewDeadline/2, time.Second)
	}
	core, err := corev1client.NewForConfig(c)
	if err != nil {
		return err
	}
	coord, err := coordinationv1client.NewForConfig(c)
	if err != nil {
		return err
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, ns, opts.LeaderElectionID, core, coord,
		resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	opts.LeaderElectionResourceLockInterface = lock
	return nil
}

// leaseLost says whether the manager stopped because it lost its Lease (controller-runtime's
// "leader election lost").
func leaseLost(err error) bool {
	return err != nil && strings.Contains(err.Error(), "leader election lost")
}

// execSelf replaces the process image; a variable so that tests can see the call.
var execSelf = func(argv0 string, argv, env []string) error { return syscall.Exec(argv0, argv, env) }

// RestartInPlaceIfLeaseLost returns err, the manager's, unless it says the Lease was lost: then it
// logs that and, after StartupRetryInterval, executes the operator's binary again in place with the
// same arguments and environment (the identity in LeaderIdentityEnv included). It returns only if
// that exec fails.
func RestartInPlaceIfLeaseLost(log logr.Logger, err error) error {
	if !leaseLost(err) {
		return err
	}
	self, exeErr := os.Executable()
	if exeErr != nil {
		return errors.Join(err, exeErr)
	}
	log.Info("Lost the leader Lease (the API server was unreachable for longer than the renew deadline, or another replica took it); restarting in place with the same identity to compete for it again",
		"identity", os.Getenv(LeaderIdentityEnv), "pid", os.Getpid())
	time.Sleep(StartupRetryInterval)
	return errors.Join(err, fmt.Errorf("restarting in place: %w", execSelf(self, os.Args, os.Environ())))
}

// logExit logs the error that ends `controller start` (a failure to start, a lost Lease whose
// in-place restart failed) as a structured line of the operator's log, instead of cobra's plain
// "Error: ..." line, and returns it for the exit status.
func logExit(cmd *cobra.Command, err error) error {
	if err != nil {
		cmd.SilenceErrors = true
		ctrl.Log.WithName("setup").Error(err, "The operator stopped")
	}
	return err
}
