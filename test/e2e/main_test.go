// Package e2e_test runs real Spark applications end to end: a local cluster (etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler from bin/, started by hack/kwok-cluster.sh) whose only
// node is a process node (internal/testing/processnode), the operator installed with its Helm chart and running
// as a pod of that node under its own service account, and Spark 3.5/4.0 drivers and executors
// running as real JVM and Python processes.
//
// It runs with SPARK_E2E=1 (`make e2e`) and is skipped otherwise; it needs root (mount namespaces),
// a JDK 17 and PyPI (pyspark, installed once into .cache/spark). SPARK_E2E_KEEP=1 leaves the
// cluster running afterwards; SPARK_E2E_REUSE=1 then runs tests against it again. Logs of the operator and the process node are copied to .cache/e2e/.
package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

const (
	clusterName = "sparkop-e2e"
	// operatorNamespace is where the chart is installed; jobNamespace is its job namespace.
	operatorNamespace = "spark-operator"
	jobNamespace      = "default"
	// exitRegistryUnreachable is hack/spark-install.sh's exit status when PyPI cannot be reached.
	exitRegistryUnreachable = 3
)

// The cluster, set up by TestMain; nil when the tests are skipped (skipReason says why).
var (
	root       string
	kubeconfig string
	k8s        client.Client
	clientset  *kubernetes.Clientset
	skipReason string
	workDir    string // .cache/e2e
)

func TestMain(m *testing.M) {
	if os.Getenv("SPARK_E2E") != "1" {
		skipReason = "the end-to-end test runs with SPARK_E2E=1 (make e2e): it starts a cluster with a process node and runs real Spark"
		os.Exit(m.Run())
	}
	if os.Geteuid() != 0 {
		skipReason = "the end-to-end test needs root: the process node runs containers in mount namespaces"
		os.Exit(m.Run())
	}
	// The suite's clients log API warnings through controller-runtime's logger.
	ctrllog.SetLogger(util.Logger())
	var err error
	if root, err = framework.FindRepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = filepath.Join(root, ".cache", "e2e")
	_ = os.MkdirAll(workDir, 0o755)
	code := 1
	if err := setUp(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == exitRegistryUnreachable {
			skipReason = "PyPI cannot be reached, so Spark cannot be installed: " + err.Error()
			code = m.Run()
		} else {
			fmt.Fprintln(os.Stderr, "e2e: setting up:", err)
		}
	} else {
		code = m.Run()
	}
	tearDown(code != 0)
	os.Exit(code)
}

// step logs a line of the set-up with the time since the start.
var started = time.Now()

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e [%5.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

func run(name string, args []string, env ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, os.Stderr), io.MultiWriter(&out, os.Stderr)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func setUp() error {
	if !reuse() {
		step("starting cluster %s with a process node (hack/kwok-cluster.sh)", clusterName)
		_ = run("hack/kwok-cluster.sh", []string{"down", clusterName})
		if err := run("hack/kwok-cluster.sh", []string{"up", clusterName}, "PROCESS_NODE=1"); err != nil {
			return err
		}
	}
	out, err := exec.Command(filepath.Join(root, "hack", "kwok-cluster.sh"), "kubeconfig", clusterName).Output()
	if err != nil {
		return err
	}
	kubeconfig = strings.TrimSpace(string(out))
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1beta2.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if reuse() {
		step("SPARK_E2E_REUSE=1: using the running cluster %s as it is", clusterName)
		return nil
	}
	step("installing the Helm chart (operator image = bin/spark-operator on the process node)")
	if err := installChart(); err != nil {
		return err
	}
	// examples/spark-pi-python.yaml runs as "spark"; the chart made "spark-operator-spark".
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark", Namespace: jobNamespace}}); err != nil {
		return err
	}
	if err := k8s.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "spark-e2e", Namespace: jobNamespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "spark-operator-spark"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "spark", Namespace: jobNamespace}},
	}); err != nil {
		return err
	}
	step("ready")
	return nil
}

// installChart runs `helm install spark-operator charts/spark-operator` with Helm's Go SDK, waiting
// for the operator's Deployment to be available.
func installChart() error {
	cfg, err := helmConfig(operatorNamespace)
	if err != nil {
		return err
	}
	chart, err := loader.Load(filepath.Join(root, "charts", "spark-operator"))
	if err != nil {
		return err
	}
	install := action.NewInstall(cfg)
	install.ReleaseName = "spark-operator"
	install.Namespace = operatorNamespace
	install.CreateNamespace = true
	install.Wait = true
	install.Timeout = 3 * time.Minute
	_, err = install.Run(chart, chartValues())
	return err
}

// chartValues are the values the suite installs the chart with.
func chartValues() map[string]any {
	return map[string]any{
		"spark": map[string]any{
			"jobNamespaces":  []any{jobNamespace},
			"serviceAccount": map[string]any{"name": "spark-operator-spark"},
		},
		"controller": map[string]any{"logLevel": "debug"},
	}
}

// helmSettings are Helm's CLI settings for the cluster (`--kubeconfig ... -n namespace`), with Helm's
// own files under .cache/e2e/helm. The namespace is also where a chart's objects without one go.
func helmSettings(namespace string) *cli.EnvSettings {
	settings := cli.New()
	settings.KubeConfig = kubeconfig
	settings.SetNamespace(namespace)
	helmHome := filepath.Join(workDir, "helm")
	settings.RepositoryConfig = filepath.Join(helmHome, "repositories.yaml")
	settings.RepositoryCache = filepath.Join(helmHome, "cache")
	return settings
}

// helmConfig is the configuration of Helm actions on releases in namespace (`helm -n namespace`).
func helmConfig(namespace string) (*action.Configuration, error) {
	cfg := new(action.Configuration)
	getter := helmSettings(namespace).RESTClientGetter()
	if err := cfg.Init(getter, namespace, "secret", func(string, ...any) {}); err != nil {
		return nil, err
	}
	// bin/kube-apiserver is built from Kubernetes' source without the version ldflags and reports
	// v0.0.0-master+$Format:%H$, which charts comparing .Capabilities.KubeVersion (Kubeflow's does)
	// cannot parse: tell Helm the version it is built from (hack/tools/go.mod, KWOK_KUBE_VERSION).
	dc, err := getter.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	sv, err := dc.ServerVersion()
	if err != nil {
		return nil, err
	}
	apis, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, err
	}
	kv := chartutil.KubeVersion{Version: sv.GitVersion, Major: sv.Major, Minor: sv.Minor}
	if strings.HasPrefix(sv.GitVersion, "v0.0.0-") {
		kv = chartutil.KubeVersion{Version: "v1.36.3", Major: "1", Minor: "36"}
	}
	cfg.Capabilities = &chartutil.Capabilities{APIVersions: apis, KubeVersion: kv, HelmVersion: chartutil.DefaultCapabilities.HelmVersion}
	return cfg, nil
}

// tearDown copies the logs of the operator and the process node to .cache/e2e/, then deletes the
// cluster unless SPARK_E2E_KEEP=1.
func tearDown(failed bool) {
	if clientset != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pods, err := clientset.CoreV1().Pods(operatorNamespace).List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, p := range pods.Items {
				logs, err := clientset.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
				if err == nil {
					_ = os.WriteFile(filepath.Join(workDir, "operator-"+p.Name+".log"), logs, 0o644)
				}
			}
		}
	}
	if data, err := os.ReadFile(filepath.Join(root, ".cache", "kwok", "clusters", clusterName, "logs", "processnode.log")); err == nil {
		_ = os.WriteFile(filepath.Join(workDir, "processnode.log"), data, 0o644)
	}
	if failed {
		step("FAILED: logs of the operator and the process node are in %s", workDir)
	}
	if os.Getenv("SPARK_E2E_KEEP") == "1" || reuse() {
		step("SPARK_E2E_KEEP=1: the cluster keeps running; KUBECONFIG=%s; stop it with hack/kwok-cluster.sh down %s", kubeconfig, clusterName)
		return
	}
	_ = run("hack/kwok-cluster.sh", []string{"down", clusterName})
}

// reuse reports SPARK_E2E_REUSE=1: run the tests against the cluster a SPARK_E2E_KEEP=1 run left
// running (no start-up, no chart install), and leave it running.
func reuse() bool { return os.Getenv("SPARK_E2E_REUSE") == "1" }

// requireCluster skips the test when TestMain did not set the cluster up.
func requireCluster(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}
