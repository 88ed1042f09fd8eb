package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// serviceCIDR is the benchmark cluster's Service IP range.
const serviceCIDR = "10.96.0.0/12"

// cluster is the benchmark's kwok cluster, driven through bin/kwokctl and hack/kwok-cluster.sh with
// the same environment as that script: all state in .cache/kwok, binaries from bin/ only.
type cluster struct {
	root, name string
	logPath    string
}

func (c *cluster) workDir() string { return filepath.Join(c.root, ".cache", "kwok") }
func (c *cluster) kubeconfig() string {
	return filepath.Join(c.workDir(), "clusters", c.name, "kubeconfig.yaml")
}
func (c *cluster) bin(name string) string {
	return filepath.Join(c.root, "bin", name)
}

// env is the environment of hack/kwok-cluster.sh.
func (c *cluster) env() []string {
	env := append(os.Environ(),
		"KWOK_WORKDIR="+c.workDir(),
		"KWOK_KUBECTL_BINARY="+c.bin("kubectl"),
		"PATH="+filepath.Join(c.root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECACHEDIR="+filepath.Join(c.workDir(), "kubectl-cache"),
		"KUBECONFIG="+c.kubeconfig(),
	)
	if os.Getenv("KWOK_KUBE_VERSION") == "" {
		env = append(env, "KWOK_KUBE_VERSION=v1.36.3")
	}
	return env
}

// command runs a command with the cluster's environment, its output appended to the cluster log.
func (c *cluster) command(ctx context.Context, name string, args ...string) error {
	f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "\n$ %s %q\n", name, args)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.root, c.env(), f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w (output in %s)", filepath.Base(name), args, err, c.logPath)
	}
	return nil
}

// up deletes any leftover cluster of the same name and creates a new one with nodes Ready nodes and
// the Spark pod stages. Unless kwokDefaults is set it does what `hack/kwok-cluster.sh up` does with
// kwokctl's --disable-qps-limits added (no inflight limits or priority and fairness in the API
// server, and no client QPS limits in kube-scheduler and kube-controller-manager, whose defaults,
// 50 and 20 per second, would otherwise cap how fast driver pods are bound and Services get their
// endpoints), and a Service IP range of serviceCIDR instead of 254 addresses. A bare cluster is etcd
// and kube-apiserver alone: no controllers, scheduler, kwok or nodes.
func (c *cluster) up(ctx context.Context, kwokDefaults, bare bool, nodes int) error {
	_ = c.down(context.WithoutCancel(ctx))
	if kwokDefaults {
		cmd := exec.CommandContext(ctx, filepath.Join(c.root, "hack", "kwok-cluster.sh"), "up", c.name)
		cmd.Env = append(c.env(), "KWOK_NODES="+strconv.Itoa(nodes))
		f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Dir, cmd.Stdout, cmd.Stderr = c.root, f, f
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("hack/kwok-cluster.sh up %s: %w (output in %s)", c.name, err, c.logPath)
		}
		return nil
	}
	args := []string{"create", "cluster",
		"--name", c.name,
		"--runtime", "binary",
		"--kubeconfig", "",
		"--etcd-binary", c.bin("etcd"),
		"--kube-apiserver-binary", c.bin("kube-apiserver"),
		"--kube-controller-manager-binary", c.bin("kube-controller-manager"),
		"--kube-scheduler-binary", c.bin("kube-scheduler"),
		"--kwok-controller-binary", c.bin("kwok"),
		"--enable-crds", "Stage",
		"--disable-qps-limits",
		// kube-apiserver's default Service range, 10.0.0.0/24, holds 254 ClusterIPs: fewer than the
		// UI Services of the drivers running at once in a large run. A /12 as kubeadm's default.
		"--extra-args", "kube-apiserver=service-cluster-ip-range=" + serviceCIDR,
		"--wait", "2m",
	}
	if bare {
		args = append(args, "--disable", "kube-controller-manager,kube-scheduler,kwok-controller")
	}
	if err := c.command(ctx, c.bin("kwokctl"), args...); err != nil {
		return err
	}
	if bare {
		return nil
	}
	kubectl := func(args ...string) error {
		return c.command(ctx, c.bin("kubectl"), append([]string{"--kubeconfig", c.kubeconfig()}, args...)...)
	}
	if err := kubectl("apply", "-f", filepath.Join(c.root, "hack", "kwok", "stages")); err != nil {
		return err
	}
	if err := c.command(ctx, c.bin("kwokctl"), "scale", "node", "--name", c.name, "--replicas", strconv.Itoa(nodes)); err != nil {
		return err
	}
	return kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=120s")
}

// down deletes the cluster.
func (c *cluster) down(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.workDir(), "clusters", c.name)); err != nil {
		return nil
	}
	return c.command(ctx, filepath.Join(c.root, "hack", "kwok-cluster.sh"), "down", c.name)
}

// installCRDs applies config/crd/bases and waits until SparkApplications can be listed.
func (c *cluster) installCRDs(ctx context.Context, canList func(context.Context) error) error {
	if err := c.command(ctx, c.bin("kubectl"), "--kubeconfig", c.kubeconfig(), "apply", "-f", filepath.Join(c.root, "config", "crd", "bases")); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err := canList(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the SparkApplication CRD did not become usable: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// createNamespaces creates the namespaces and the `spark` service account the drivers run as.
func createNamespaces(ctx context.Context, cs kubernetes.Interface, names []string) error {
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
