// Package cluster starts and stops the local kwok cluster of the benchmarks (hack/bench, hack/chaos):
// real etcd, kube-apiserver, kube-controller-manager and kube-scheduler from bin/, nodes and pods
// simulated by kwok, all state in .cache/kwok.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// ServiceCIDR is the benchmark cluster's Service IP range.
const ServiceCIDR = "10.96.0.0/12"

// Cluster is a kwok cluster, driven through bin/kwokctl and hack/kwok-cluster.sh with the same
// environment as that script: all state in .cache/kwok, binaries from bin/ only. Root is the
// repository root, Name the cluster's name, LogPath the file that collects the output of every
// command run for it.
type Cluster struct {
	Root, Name string
	LogPath    string
}

// Options say what Up starts.
type Options struct {
	// KwokDefaults starts the cluster with `hack/kwok-cluster.sh up` as is (QPS limits kept).
	KwokDefaults bool
	// Bare is etcd and kube-apiserver alone: no controllers, scheduler, kwok or nodes.
	Bare bool
	// Nodes is the number of simulated nodes.
	Nodes int
	// AuditPolicy, when set, is the path of a kube-apiserver audit policy (kwokctl
	// --kube-audit-policy); the API server then writes its audit log to AuditLog(). Not with
	// KwokDefaults.
	AuditPolicy string
}

// AuditLog is where kwokctl has kube-apiserver write its audit log (Options.AuditPolicy).
func (c *Cluster) AuditLog() string { return filepath.Join(c.Dir(), "logs", "audit.log") }

// WorkDir is kwokctl's working directory, .cache/kwok.
func (c *Cluster) WorkDir() string { return filepath.Join(c.Root, ".cache", "kwok") }

// Dir is the cluster's own directory under WorkDir (kubeconfig, pids, logs).
func (c *Cluster) Dir() string { return filepath.Join(c.WorkDir(), "clusters", c.Name) }

// Kubeconfig is the path of the cluster's kubeconfig (an admin client).
func (c *Cluster) Kubeconfig() string {
	return filepath.Join(c.Dir(), "kubeconfig.yaml")
}

// Bin is the path of a binary in bin/.
func (c *Cluster) Bin(name string) string {
	return filepath.Join(c.Root, "bin", name)
}

// Env is the environment of hack/kwok-cluster.sh.
func (c *Cluster) Env() []string {
	env := append(os.Environ(),
		"KWOK_WORKDIR="+c.WorkDir(),
		"KWOK_KUBECTL_BINARY="+c.Bin("kubectl"),
		"PATH="+filepath.Join(c.Root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECACHEDIR="+filepath.Join(c.WorkDir(), "kubectl-cache"),
		"KUBECONFIG="+c.Kubeconfig(),
	)
	if os.Getenv("KWOK_KUBE_VERSION") == "" {
		env = append(env, "KWOK_KUBE_VERSION=v1.36.3")
	}
	return env
}

// Command runs a command with the cluster's environment, its output appended to the cluster log.
func (c *Cluster) Command(ctx context.Context, name string, args ...string) error {
	f, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "\n$ %s %q\n", name, args)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.Root, c.Env(), f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w (output in %s)", filepath.Base(name), args, err, c.LogPath)
	}
	return nil
}

// Up deletes any leftover cluster of the same name and creates a new one with nodes Ready nodes and
// the Spark pod stages. Unless kwokDefaults is set it does what `hack/kwok-cluster.sh up` does with
// kwokctl's --disable-qps-limits added (no inflight limits or priority and fairness in the API
// server, and no client QPS limits in kube-scheduler and kube-controller-manager, whose defaults,
// 50 and 20 per second, would otherwise cap how fast driver pods are bound and Services get their
// endpoints), and a Service IP range of ServiceCIDR instead of 254 addresses. A bare cluster is etcd
// and kube-apiserver alone: no controllers, scheduler, kwok or nodes.
func (c *Cluster) Up(ctx context.Context, o Options) error {
	kwokDefaults, bare, nodes := o.KwokDefaults, o.Bare, o.Nodes
	_ = c.Down(context.WithoutCancel(ctx))
	if kwokDefaults && o.AuditPolicy != "" {
		return errors.New("an audit policy needs the benchmark's own cluster set-up, not hack/kwok-cluster.sh's defaults")
	}
	if kwokDefaults {
		cmd := exec.CommandContext(ctx, filepath.Join(c.Root, "hack", "kwok-cluster.sh"), "up", c.Name)
		cmd.Env = append(c.Env(), "KWOK_NODES="+strconv.Itoa(nodes))
		f, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Dir, cmd.Stdout, cmd.Stderr = c.Root, f, f
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("hack/kwok-cluster.sh up %s: %w (output in %s)", c.Name, err, c.LogPath)
		}
		return nil
	}
	args := []string{"create", "cluster",
		"--name", c.Name,
		"--runtime", "binary",
		"--kubeconfig", "",
		"--etcd-binary", c.Bin("etcd"),
		"--kube-apiserver-binary", c.Bin("kube-apiserver"),
		"--kube-controller-manager-binary", c.Bin("kube-controller-manager"),
		"--kube-scheduler-binary", c.Bin("kube-scheduler"),
		"--kwok-controller-binary", c.Bin("kwok"),
		"--enable-crds", "Stage",
		"--disable-qps-limits",
		// kube-apiserver's default Service range, 10.0.0.0/24, holds 254 ClusterIPs: fewer than the
		// UI Services of the drivers running at once in a large run. A /12 as kubeadm's default.
		"--extra-args", "kube-apiserver=service-cluster-ip-range=" + ServiceCIDR,
		"--wait", "2m",
	}
	if o.AuditPolicy != "" {
		args = append(args, "--kube-audit-policy", o.AuditPolicy)
	}
	if bare {
		args = append(args, "--disable", "kube-controller-manager,kube-scheduler,kwok-controller")
	}
	if err := c.Command(ctx, c.Bin("kwokctl"), args...); err != nil {
		return err
	}
	if bare {
		return nil
	}
	kubectl := func(args ...string) error {
		return c.Command(ctx, c.Bin("kubectl"), append([]string{"--kubeconfig", c.Kubeconfig()}, args...)...)
	}
	if err := kubectl("apply", "-f", filepath.Join(c.Root, "hack", "kwok", "stages")); err != nil {
		return err
	}
	if err := c.Command(ctx, c.Bin("kwokctl"), "scale", "node", "--name", c.Name, "--replicas", strconv.Itoa(nodes)); err != nil {
		return err
	}
	return kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=120s")
}

// Down deletes the cluster (nothing when it does not exist).
func (c *Cluster) Down(ctx context.Context) error {
	if _, err := os.Stat(c.Dir()); err != nil {
		return nil
	}
	return c.Command(ctx, filepath.Join(c.Root, "hack", "kwok-cluster.sh"), "down", c.Name)
}

// Teardown ends a run's cluster, for a deferred call: with keep it logs how to reach the cluster and
// stop it, else it deletes it (Down, within 2 minutes) and joins a failure into *err.
func (c *Cluster) Teardown(keep bool, logf func(format string, args ...any), err *error) {
	if keep {
		logf("the cluster keeps running: export KUBECONFIG=%s; stop it with hack/kwok-cluster.sh down %s", c.Kubeconfig(), c.Name)
		return
	}
	logf("deleting kwok cluster %s", c.Name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if derr := c.Down(ctx); derr != nil {
		*err = errors.Join(*err, derr)
	}
}

// InstallCRDs applies config/crd/bases and waits until SparkApplications can be listed.
func (c *Cluster) InstallCRDs(ctx context.Context, canList func(context.Context) error) error {
	return c.InstallCRDsFrom(ctx, filepath.Join(c.Root, "config", "crd", "bases"), canList)
}

// InstallCRDsFrom applies the CRDs in dir (ours, or Kubeflow's from its chart) with a server-side
// apply (Kubeflow's are too large for kubectl's last-applied annotation) and waits until
// SparkApplications can be listed.
func (c *Cluster) InstallCRDsFrom(ctx context.Context, dir string, canList func(context.Context) error) error {
	if err := c.Command(ctx, c.Bin("kubectl"), "--kubeconfig", c.Kubeconfig(), "apply", "--server-side", "-f", dir); err != nil {
		return err
	}
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		lastErr = canList(ctx)
		return lastErr == nil, nil
	})
	if wait.Interrupted(err) && ctx.Err() == nil {
		return fmt.Errorf("the SparkApplication CRD did not become usable: %w", lastErr)
	}
	return err
}

// CreateNamespaces creates the namespaces and the `spark` service account the drivers run as.
func CreateNamespaces(ctx context.Context, cs kubernetes.Interface, names []string) error {
	for _, ns := range names {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark", Namespace: ns}}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("service account %s/spark: %w", ns, err)
		}
	}
	return nil
}

// Components are the cluster's processes, as named by kwokctl's pid files.
var Components = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok-controller"}

// PID is the process id of a component (see Components) from kwokctl's pid file in Dir()/pids/.
func (c *Cluster) PID(component string) (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir(), "pids", component+".pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// RepoRoot finds the repository root: the nearest ancestor of the working directory that has
// hack/kwok-cluster.sh.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "kwok-cluster.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the repository (no hack/kwok-cluster.sh above the working directory)")
		}
		dir = parent
	}
}
