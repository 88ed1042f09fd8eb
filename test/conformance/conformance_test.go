// Package conformance_test compares the objects our native submitter renders with those the real
// spark-submit creates for the same SparkApplication, against a real kube-apiserver (envtest).
//
// It needs a JDK and network access to PyPI (Spark comes from the pyspark package, installed by
// hack/spark-install.sh into .cache/spark/<version>), so it only runs with SPARK_CONFORMANCE=1
// (`make conformance`); otherwise it is skipped. SPARK_CONFORMANCE_VERSIONS overrides the Spark
// versions ("3.5.3 4.0.1"). Every difference must be listed in intendedDifferences
// (differences_test.go), which mirrors the table at the end of docs/submission.md.
package conformance_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// defaultVersions are the Spark versions compared: the 3.5 line of the seed examples and a 4.0.
const defaultVersions = "3.5.3 4.0.1"

// conformanceApps are the applications compared, from examples/.
var conformanceApps = []string{
	"spark-pi",
	"spark-pi-python",
	"spark-pi-secrets-volumes",
	"spark-pi-custom-resource",
	"spark-pi-long-name-0123456789-abcdefghij-0123456789-abcdefgh",
	"spark-pi-dynamic-allocation",
	"spark-streaming-long-running",
}

// exitRegistryUnreachable is hack/spark-install.sh's exit status when PyPI cannot be reached.
const exitRegistryUnreachable = 3

func TestSparkSubmitConformance(t *testing.T) {
	if os.Getenv("SPARK_CONFORMANCE") != "1" {
		t.Skip("the spark-submit conformance test runs with SPARK_CONFORMANCE=1 (make conformance); it downloads Spark from PyPI once into .cache/spark")
	}
	root := framework.RepoRoot(t)
	versions := strings.Fields(os.Getenv("SPARK_CONFORMANCE_VERSIONS"))
	if len(versions) == 0 {
		versions = strings.Fields(defaultVersions)
	}
	homes := map[string]string{}
	for _, v := range versions {
		homes[v] = installSpark(t, root, v)
	}
	javaHome := findJavaHome(t)

	env := framework.Start(t, framework.WithScheme(v1beta2.AddToScheme))
	ctx := context.Background()
	creds := submitterCredentials(t, ctx, env)

	doc, err := os.ReadFile(filepath.Join(root, "docs", "submission.md"))
	if err != nil {
		t.Fatal(err)
	}
	checkTableInDoc(t, string(doc))

	apps := conformanceApps
	if list := strings.Fields(os.Getenv("SPARK_CONFORMANCE_APPS")); len(list) > 0 {
		apps = list // example names without .yaml, for exploring other applications
	}
	used := map[int]bool{}
	var report bytes.Buffer
	for _, version := range versions {
		for _, name := range apps {
			t.Run(version+"/"+name, func(t *testing.T) {
				c := &caseRun{t: t, ctx: ctx, env: env, root: root, version: version, home: homes[version], javaHome: javaHome, creds: creds}
				diffs := c.run(filepath.Join(root, "examples", name+".yaml"))
				for _, d := range diffs {
					idx := matchIntended(version, name, d)
					if idx < 0 {
						t.Errorf("unexpected difference %s", d)
						fmt.Fprintf(&report, "%s %s: UNEXPECTED %s\n", version, name, d)
						continue
					}
					used[idx] = true
					fmt.Fprintf(&report, "%s %s: %s (%s)\n", version, name, d, intendedDifferences[idx].Reason)
				}
			})
		}
	}
	for i, d := range intendedDifferences {
		if !used[i] {
			t.Logf("intended difference not seen in this run: %s %s", d.Object, d.Path)
		}
	}
	if out := os.Getenv("SPARK_CONFORMANCE_REPORT"); out != "" {
		if err := os.WriteFile(out, report.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	} else if testing.Verbose() {
		t.Logf("all differences:\n%s", report.String())
	}
}

// installSpark runs hack/spark-install.sh (which downloads once and prints progress) and returns the
// Spark home. The test is skipped only when the package registry cannot be reached.
func installSpark(t *testing.T, root, version string) string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(root, "hack", "spark-install.sh"), version)
	cmd.Stderr = os.Stderr // progress lines
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == exitRegistryUnreachable {
		t.Skipf("skipping: Spark %s is not in .cache/spark and the package registry (PyPI) cannot be reached", version)
	}
	if err != nil {
		t.Fatalf("hack/spark-install.sh %s: %v", version, err)
	}
	home := strings.TrimSpace(string(out))
	t.Logf("Spark %s: %s (%s)", version, home, time.Since(start).Round(time.Second))
	return home
}

// findJavaHome returns $JAVA_HOME, else the JDK of the java on $PATH.
func findJavaHome(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("JAVA_HOME"); h != "" {
		return h
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatal("spark-submit needs Java 17: set JAVA_HOME or put java on PATH")
	}
	real, err := filepath.EvalSymlinks(java)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(real))
}

// credentials let spark-submit's Kubernetes client talk to the envtest API server over TLS.
type credentials struct {
	master, caFile, token string
}

// submitterCredentials creates a cluster-admin service account for spark-submit (Kubeflow's operator
// runs it with the operator's service account) and returns its token and the API server's CA.
func submitterCredentials(t *testing.T, ctx context.Context, env *framework.Env) credentials {
	t.Helper()
	ns := env.NewNamespace(t)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark-submit", Namespace: ns}}
	util.Create(t, env.Client, sa)
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "spark-submit-conformance"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}},
	}
	util.Create(t, env.Client, crb)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200)}}
	if err := env.Client.SubResource("token").Create(ctx, sa, req); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, env.Config.CAData, 0o600); err != nil {
		t.Fatal(err)
	}
	host := env.Config.Host
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		t.Fatal(err)
	}
	return credentials{master: "k8s://https://" + u.Host, caFile: ca, token: req.Status.Token}
}

// caseRun is one application on one Spark version.
type caseRun struct {
	t        *testing.T
	ctx      context.Context
	env      *framework.Env
	root     string
	version  string
	home     string
	javaHome string
	creds    credentials
	// instancesOmitted says the example has no spec.executor.instances. Our schema then stores 1 (as
	// Kubeflow's defaulting webhook does, for Kueue), but Kubeflow's CRD stores nothing, and its webhook
	// sets 1 only without dynamic allocation: Kubeflow's args are built from the spec as written.
	instancesOmitted bool
}

// captured are the objects of one submission.
type captured struct {
	pod              *corev1.Pod
	service          *corev1.Service
	confMap          *corev1.ConfigMap
	executorTemplate *corev1.ConfigMap
	uniqueIDs        []string
	appID            string
}

// run submits the application with spark-submit, captures what it created, renders ours, and
// returns every difference.
func (c *caseRun) run(file string) []difference {
	t, ctx := c.t, c.ctx
	ns := c.env.NewNamespace(t)
	for _, sa := range []string{"spark", "spark-operator-spark", "default"} {
		obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}}
		if err := c.env.Client.Create(ctx, obj); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
	}
	app := c.loadApp(file, ns)

	sub := submission.NewSubmission(app.UID, "1", 1, time.Now())
	// With spark-submit's driver Service (--enable-driver-service), so that the Service and
	// spark.driver.host are compared too; without it (the default) the Service is left out and
	// spark.driver.host comes from the pod IP, which TestDriverService in internal/submission checks.
	res, err := submission.Render(app, sub, submission.Options{MasterURL: c.creds.master, DriverService: true})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}

	// spark-submit, as Kubeflow's operator runs it.
	spark := c.sparkSubmit(app, sub.ID)

	// Delete spark-submit's objects, then create ours with a dry run so that the API server applies
	// the same defaults and admission (service account token volume) to both.
	ours := c.dryRunOurs(res, spark)

	// The app id first: ours starts with the same hex digits as our unique id.
	sparkR, oursR := &replacer{}, &replacer{}
	sparkR.add(spark.appID, "<appID>")
	for _, id := range spark.uniqueIDs {
		sparkR.add(id, "<uniqueID>")
	}
	oursR.add(sub.AppID, "<appID>")
	for _, id := range ours.uniqueIDs {
		oursR.add(id, "<uniqueID>")
	}

	var diffs []difference
	for _, pair := range []struct {
		kind        string
		spark, ours any
	}{
		{"Pod", spark.pod, ours.pod},
		{"Service", spark.service, ours.service},
		{"ConfigMap", spark.confMap, ours.confMap},
		{"ExecutorTemplateConfigMap", spark.executorTemplate, ours.executorTemplate},
	} {
		diffs = append(diffs, c.compare(pair.kind, pair.spark, pair.ours, sparkR, oursR)...)
	}
	return diffs
}

// loadApp reads the example, moves it to namespace ns and Spark c.version, and creates it so that it
// has a UID and the CRD's defaults.
func (c *caseRun) loadApp(file, ns string) *v1beta2.SparkApplication {
	t := c.t
	app := util.ReadYAML(t, file, &v1beta2.SparkApplication{})
	app.Namespace = ns
	c.instancesOmitted = app.Spec.Executor.Instances == nil
	app.Spec.SparkVersion = c.version
	app.Spec.Image = ptr.To("spark:" + c.version)
	if err := c.env.Client.Create(c.ctx, app); err != nil {
		t.Fatalf("creating the SparkApplication: %v", err)
	}
	return app
}

// sparkSubmit runs spark-submit for app and returns the objects it created.
func (c *caseRun) sparkSubmit(app *v1beta2.SparkApplication, submissionID string) *captured {
	t, ctx := c.t, c.ctx
	dir := t.TempDir()
	kf := app.DeepCopy()
	if c.instancesOmitted {
		kf.Spec.Executor.Instances = nil
	}
	kubeflowDefaults(kf)
	built, err := buildKubeflowArgs(kf, c.creds.master, submissionID, dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, pod := range map[string]*corev1.Pod{"driver-pod-template.yaml": built.driverTemplate, "executor-pod-template.yaml": built.executorTemplate} {
		out, err := yaml.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	confDir := filepath.Join(dir, "conf") // an empty SPARK_CONF_DIR: no conf files of this machine
	if err := os.Mkdir(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--conf", "spark.kubernetes.authenticate.submission.caCertFile=" + c.creds.caFile,
		"--conf", "spark.kubernetes.authenticate.submission.oauthToken=" + c.creds.token,
	}, built.args...)
	t.Logf("spark-submit %s", strings.Join(redact(built.args), " "))

	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, filepath.Join(c.home, "bin", "spark-submit"), args...)
	cmd.Env = append(os.Environ(),
		"JAVA_HOME="+c.javaHome,
		"SPARK_HOME="+c.home,
		"SPARK_CONF_DIR="+confDir,
		// Kubeflow's operator image runs spark-submit as the user "spark" (uid 185), which is what
		// spark-submit puts in SPARK_USER (it reads $SPARK_USER first).
		"SPARK_USER=spark",
		"HOME="+dir,
		"KUBECONFIG="+filepath.Join(dir, "no-kubeconfig"),
		"SPARK_LOCAL_IP=127.0.0.1",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("spark-submit failed after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, out)
	}
	t.Logf("spark-submit took %s", time.Since(start).Round(time.Millisecond))

	cap := &captured{pod: &corev1.Pod{}}
	if err := c.env.Client.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: submission.DriverPodName(app)}, cap.pod); err != nil {
		t.Fatalf("spark-submit created no driver pod: %v\n%s", err, out)
	}
	cap.appID = cap.pod.Labels[v1beta2.LabelSparkAppSelector]
	cms := &corev1.ConfigMapList{}
	svcs := &corev1.ServiceList{}
	if err := c.env.Client.List(ctx, cms, client.InNamespace(app.Namespace)); err != nil {
		t.Fatal(err)
	}
	if err := c.env.Client.List(ctx, svcs, client.InNamespace(app.Namespace)); err != nil {
		t.Fatal(err)
	}
	for i := range cms.Items {
		cm := &cms.Items[i]
		switch {
		case strings.HasPrefix(cm.Name, "spark-drv-") && strings.HasSuffix(cm.Name, "-conf-map"):
			cap.confMap = cm
			cap.uniqueIDs = append(cap.uniqueIDs, strings.TrimSuffix(strings.TrimPrefix(cm.Name, "spark-drv-"), "-conf-map"))
		case strings.HasSuffix(cm.Name, "-driver-podspec-conf-map"):
			cap.executorTemplate = cm
		}
	}
	if len(svcs.Items) != 1 || cap.confMap == nil {
		t.Fatalf("spark-submit created %d services and conf map %v; want 1 and a spark-drv-*-conf-map", len(svcs.Items), cap.confMap != nil)
	}
	cap.service = &svcs.Items[0]
	cap.uniqueIDs = append(cap.uniqueIDs, uniqueIDOf(cap.service.Name, app.Name, "-driver-svc"))
	if cap.executorTemplate != nil {
		cap.uniqueIDs = append(cap.uniqueIDs, uniqueIDOf(cap.executorTemplate.Name, app.Name, "-driver-podspec-conf-map"))
	}
	return cap
}

// uniqueIDOf returns the 16-hex-character unique id in a name "<prefix>-<id><suffix>" or
// "spark-<id><suffix>".
func uniqueIDOf(name, appName, suffix string) string {
	base := strings.TrimSuffix(name, suffix)
	if i := strings.LastIndex(base, "-"); i >= 0 {
		return base[i+1:]
	}
	return base
}

// dryRunOurs deletes what spark-submit created and creates our objects with a server-side dry run,
// returning them as the API server would store them.
func (c *caseRun) dryRunOurs(res *submission.Resources, spark *captured) *captured {
	t, ctx := c.t, c.ctx
	for _, o := range []client.Object{spark.pod, spark.service, spark.confMap} {
		if err := c.env.Client.Delete(ctx, o, client.GracePeriodSeconds(0)); err != nil {
			t.Fatal(err)
		}
	}
	if spark.executorTemplate != nil {
		if err := c.env.Client.Delete(ctx, spark.executorTemplate); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the pod is gone (it is not scheduled, so deletion is immediate).
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(spark.pod), &corev1.Pod{})
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spark-submit's driver pod was not deleted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pod := res.DriverPod.DeepCopy()
	pod.UID = "00000000-0000-0000-0000-0000000000d1" // what the create would give; normalised away
	owned := []submission.Object{res.ConfConfigMap.DeepCopy(), res.DriverService.DeepCopy()}
	submission.OwnDriverResources(pod, owned...)
	pod.UID = ""
	out := &captured{}
	for i, o := range append([]submission.Object{pod}, owned...) {
		obj := o.(client.Object)
		if err := c.env.Client.Create(ctx, obj, client.DryRunAll); err != nil {
			t.Fatalf("dry-run create of our %T %s: %v", obj, obj.GetName(), err)
		}
		switch i {
		case 0:
			out.pod = obj.(*corev1.Pod)
		case 1:
			out.confMap = obj.(*corev1.ConfigMap)
		case 2:
			out.service = obj.(*corev1.Service)
		}
	}
	out.confMap, out.executorTemplate = splitConfigMap(out.confMap)
	out.uniqueIDs = append(out.uniqueIDs, strings.TrimSuffix(strings.TrimPrefix(out.confMap.Name, "spark-drv-"), "-conf-map"))
	return out
}

// compare flattens both objects and returns their differences. A nil object has no fields.
func (c *caseRun) compare(kind string, spark, ours any, sparkR, oursR *replacer) []difference {
	flat := func(o any, r *replacer) map[string]string {
		if o == nil || (fmt.Sprint(o) == "<nil>") {
			return map[string]string{}
		}
		m, err := flatten(o, r)
		if err != nil {
			c.t.Fatal(err)
		}
		return m
	}
	s, o := flat(spark, sparkR), flat(ours, oursR)
	if dir := os.Getenv("SPARK_CONFORMANCE_DUMP"); dir != "" {
		// The normalised fields of both sides, one "path = value" a line, for inspection.
		for side, m := range map[string]map[string]string{"spark-submit": s, "ours": o} {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(m)) {
				fmt.Fprintf(&b, "%s = %s\n", k, m[k])
			}
			name := strings.NewReplacer("/", "_").Replace(c.t.Name()) + "." + kind + "." + side + ".txt"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
				c.t.Error(err)
			}
		}
	}
	var diffs []difference
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(s, o))) {
		if strings.HasPrefix(k, harnessPropertyPrefix) {
			continue
		}
		sv, sok := s[k]
		ov, ook := o[k]
		if sok && ook && sv == ov {
			continue
		}
		d := difference{Object: kind, Path: k, Spark: sv, Ours: ov}
		switch {
		case !ook:
			d.Ours = "<absent>"
		case !sok:
			d.Spark = "<absent>"
		}
		diffs = append(diffs, d)
	}
	return diffs
}

func mergeKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// harnessPropertyPrefix marks the properties only the test passes to spark-submit (how it reaches the
// envtest API server: CA file and token); they are not compared.
const harnessPropertyPrefix = "data.spark.properties/spark.kubernetes.authenticate.submission."

// redact hides the submission token in logged arguments.
func redact(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if strings.HasPrefix(a, "spark.kubernetes.authenticate.submission.oauthToken=") {
			out[i] = "spark.kubernetes.authenticate.submission.oauthToken=<redacted>"
		}
	}
	return out
}

// splitConfigMap splits our one ConfigMap of a submission into the two spark-submit creates, so that
// each is compared with its counterpart: the same object with spark.properties and the namespace key
// (conf), and the same object with only the executor pod template (template). The names stay ours;
// the intended difference in the template's ConfigMap name is listed in differences_test.go.
func splitConfigMap(cm *corev1.ConfigMap) (conf, template *corev1.ConfigMap) {
	conf, template = cm.DeepCopy(), cm.DeepCopy()
	delete(conf.Data, submission.PodTemplateKey)
	template.Data = map[string]string{submission.PodTemplateKey: cm.Data[submission.PodTemplateKey]}
	return conf, template
}
