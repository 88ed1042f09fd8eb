// Package kubeflow runs the Kubeflow Spark Operator (built by hack/build-kubeflow.sh from the version
// hack/kubeflow/go.mod pins) in hack/bench, with spark-submit from the PyPI Spark distribution, and
// writes the comparison of a run of ours and a run of Kubeflow's on the same load (hack/bench
// -kubeflow, make bench-kubeflow).
package kubeflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// Module is the module of the Kubeflow Spark Operator, pinned by hack/kubeflow/go.mod.
const Module = "github.com/kubeflow/spark-operator/v2"

// SparkVersion is the Spark whose spark-submit Kubeflow's operator runs: the PyPI
// distribution installed by hack/spark-install.sh, the version of the benchmark's applications.
const SparkVersion = "3.5.3"

// Leg is what a run of Kubeflow's operator needs besides ours: its CRDs (from its module's
// Helm chart), the Spark home whose bin/spark-submit it runs, and its version for the tables.
type Leg struct {
	Version   string // the module's version, e.g. v2.5.0
	CRDDir    string // charts/spark-operator-chart/crds in the module cache
	SparkHome string // holds bin/spark-submit
}

// Prepare finds Kubeflow's CRDs in the module cache (hack/kubeflow pins the version; the
// module was downloaded when bin/kubeflow-spark-operator was built) and installs Spark from PyPI
// (hack/spark-install.sh; once, into .cache/spark).
func Prepare(ctx context.Context, root string) (*Leg, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", Module)
	cmd.Dir = filepath.Join(root, "hack", "kubeflow")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s in hack/kubeflow: %w", Module, err)
	}
	var mod struct{ Dir, Version string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return nil, fmt.Errorf("go mod download %s: no module directory in %q (%v)", Module, out, err)
	}
	leg := &Leg{Version: mod.Version, CRDDir: filepath.Join(mod.Dir, "charts", "spark-operator-chart", "crds")}
	if _, err := os.Stat(leg.CRDDir); err != nil {
		return nil, fmt.Errorf("the CRDs of Kubeflow's chart: %w", err)
	}
	install := exec.CommandContext(ctx, filepath.Join(root, "hack", "spark-install.sh"), SparkVersion)
	install.Stderr = os.Stderr
	home, err := install.Output()
	if err != nil {
		return nil, fmt.Errorf("hack/spark-install.sh %s: %w", SparkVersion, err)
	}
	leg.SparkHome = strings.TrimSpace(string(home))
	if _, err := exec.LookPath("java"); err != nil && os.Getenv("JAVA_HOME") == "" {
		return nil, errors.New("spark-submit needs Java 17: set JAVA_HOME or put java on PATH")
	}
	return leg, nil
}

// OperatorEnv is the environment Kubeflow's operator runs with: SPARK_HOME for its spark-submit, and
// KUBERNETES_SERVICE_HOST/PORT, from which it makes spark-submit's --master (in a cluster they come
// from the pod's environment). The operator and its spark-submit read the kubeconfig of
// SubmitterKubeconfig (KUBECONFIG, set by operator.Start).
func (k *Leg) OperatorEnv(cfg *rest.Config) ([]string, error) {
	u, err := url.Parse(cfg.Host)
	if err != nil || u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("API server address %q: want https://host:port", cfg.Host)
	}
	return []string{
		"SPARK_HOME=" + k.SparkHome,
		"KUBERNETES_SERVICE_HOST=" + u.Hostname(),
		"KUBERNETES_SERVICE_PORT=" + u.Port(),
	}, nil
}

// SubmitterKubeconfig writes a kubeconfig for Kubeflow's operator and its spark-submit: the API
// server's address and CA, and the token of a cluster-admin service account (default/spark-submit).
// spark-submit's Kubernetes client (fabric8) reads a kubeconfig's token and CA, not necessarily the
// client certificate of the kwok cluster's own kubeconfig; in a cluster both would use the operator's
// service account.
func SubmitterKubeconfig(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, path string) error {
	const ns, name = "default", "spark-submit"
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("service account %s/%s: %w", ns, name, err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "sparkop-bench-spark-submit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cluster role binding for %s/%s: %w", ns, name, err)
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, tr, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token of %s/%s: %w", ns, name, err)
	}
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			return err
		}
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bench"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: ca, InsecureSkipTLSVerify: len(ca) == 0}
	kc.AuthInfos["spark-submit"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "spark-submit", Namespace: ns}
	kc.CurrentContext = "bench"
	return clientcmd.WriteToFile(*kc, path)
}

// Comparison is one run of each operator on the same load.
type Comparison struct {
	Command        string // the hack/bench command line
	Ours, Kubeflow Result
	At             time.Time // when the runs ended (the block's date)
}

// Result is what the comparison shows of one run.
type Result struct {
	Build        string  // the operator: our commit, or "Kubeflow v2.5.0"
	N            int     // applications
	Submission   float64 // applications per second to driver pod
	PodP50       time.Duration
	PodP99       time.Duration // creation->driver pod
	CPUPerApp    time.Duration // the operator's CPU with its children (spark-submit) per application
	PeakMemory   int64         // bytes: the operator's process tree at its largest
	WritesPerApp float64       // API writes of every client per application
	LagP50       time.Duration
	LagP99       time.Duration // driver pod seen Running -> RUNNING seen in the application's status
	Checks       string        // the correctness checks in a few words
}

// Begin and End are the marker lines of the Kubeflow section in the -out file.
const (
	Begin = "<!-- kubeflow comparison: begin (written by hack/bench -kubeflow -out; a block is replaced when its command is run again) -->"
	End   = "<!-- kubeflow comparison: end -->"
)

// ratio is a/b with one decimal (none from 10 up), "n/a" when either is 0.
func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "n/a"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.1fx", r)
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// Lines is the comparison as a Markdown block: a line with the command and date, then the table of
// both runs and the ratios (each says how many times better ours is: below 1x, worse).
func (c Comparison) Lines() []string {
	at := c.At
	if at.IsZero() {
		at = time.Now()
	}
	row := func(name string, r Result) string {
		return fmt.Sprintf("| %s | %s | %d | %.2f | %s / %s | %.0f ms | %d MiB | %.1f | %s / %s | %s |",
			name, r.Build, r.N, r.Submission, ms(r.PodP50), ms(r.PodP99),
			float64(r.CPUPerApp.Microseconds())/1000, r.PeakMemory>>20, r.WritesPerApp,
			ms(r.LagP50), ms(r.LagP99), r.Checks)
	}
	o, k := c.Ours, c.Kubeflow
	return []string{
		fmt.Sprintf("`%s` (%s)", c.Command, at.Format("2006-01-02 15:04")),
		"",
		"| operator | build | N | submission (apps/s) | creation->driver pod p50 / p99 | CPU per app (incl. spark-submit) | peak memory (incl. spark-submit) | API writes per app | driver Running -> RUNNING in status p50 / p99 | checks |",
		"|---|---|---|---|---|---|---|---|---|---|",
		row("ours", o),
		row("Kubeflow", k),
		fmt.Sprintf("| ours is better by | | | %s | %s / %s | %s | %s | %s | %s / %s | |",
			ratio(o.Submission, k.Submission),
			ratio(k.PodP50.Seconds(), o.PodP50.Seconds()), ratio(k.PodP99.Seconds(), o.PodP99.Seconds()),
			ratio(k.CPUPerApp.Seconds(), o.CPUPerApp.Seconds()),
			ratio(float64(k.PeakMemory), float64(o.PeakMemory)),
			ratio(k.WritesPerApp, o.WritesPerApp),
			ratio(k.LagP50.Seconds(), o.LagP50.Seconds()), ratio(k.LagP99.Seconds(), o.LagP99.Seconds())),
	}
}

// Write puts the comparison's block into the Kubeflow section of the Markdown file at path
// (between Begin and End, created at the end of the file when missing), replacing the block of the
// same command.
func Write(path string, c Comparison) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(data)
	begin, end := strings.Index(text, Begin), strings.Index(text, End)
	if begin < 0 || end < begin {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + Begin + "\n" + End + "\n"
		begin, end = strings.Index(text, Begin), strings.Index(text, End)
	}
	// Blocks are separated by blank lines; a block starts with its command line.
	var blocks []string
	for b := range strings.SplitSeq(strings.TrimSpace(text[begin+len(Begin):end]), "\n\n\n") {
		if b = strings.TrimSpace(b); b != "" {
			blocks = append(blocks, b)
		}
	}
	block := strings.Join(c.Lines(), "\n")
	key := "`" + c.Command + "`"
	replaced := false
	for i, b := range blocks {
		if strings.HasPrefix(b, key+" (") {
			blocks[i], replaced = block, true
		}
	}
	if !replaced {
		blocks = append(blocks, block)
	}
	text = text[:begin] + Begin + "\n\n" + strings.Join(blocks, "\n\n\n") + "\n\n" + text[end:]
	return os.WriteFile(path, []byte(text), 0o644)
}
