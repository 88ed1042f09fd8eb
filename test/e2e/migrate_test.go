package e2e_test

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/kubeflow"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// kubeflowVersion is the release of Kubeflow's operator whose chart the migration starts from, the
// newest one ours is compared with; bin/kubeflow-spark-operator must be built from the same version
// (make kubeflow-operator, pinned by hack/kubeflow/go.mod; TestKubeflowBuildPin checks the pin).
var kubeflowVersion = kubeflow.Latest

// migrateTimeout bounds each wait of the migration: Spark's JVMs, Kubeflow's spark-submit and Helm
// on a loaded 2-core machine.
const migrateTimeout = 15 * time.Minute

// TestMigrateFromKubeflow walks through README.md's "Migrating from Kubeflow's operator" on the
// process-node cluster: Kubeflow's operator (kubeflowVersion) installed with its own chart (its controller
// image runs bin/kubeflow-spark-operator, which runs the real spark-submit of Spark 3.5.3)
// submits a long application (RUNNING at the swap), one whose driver is still Pending behind an
// init container (SUBMITTED at the swap), a ScheduledSparkApplication and one that COMPLETED with
// timeToLiveSeconds. Then the README's steps run as a user runs them (Helm's SDK for the helm
// commands, bin/kubectl for the kubectl ones), and ours must finish Kubeflow's work: no second driver,
// the attempt counters and submission ids kept, no FAILED, the schedule kept, the TTL honoured.
//
// Kubeflow's webhook is disabled (webhook.enable=false): on the process node pods have loopback
// addresses, which EndpointSlices refuse, so the API server cannot reach a webhook Service and
// Kubeflow's failurePolicy: Fail would block every pod (docs/e2e.md, Network).
//
// The suite's own install of our chart is uninstalled first and restored at the end.
func TestMigrateFromKubeflow(t *testing.T) {
	requireCluster(t)
	requireKubeflowBinary(t)
	ctx := context.Background()
	kfChart := kubeflowChartDir(t)
	sparkHome := kubeflowSparkHome(t)

	// The starting point: Kubeflow's CRDs and Kubeflow's chart, not ours.
	step("migrate: uninstalling the suite's chart, installing Kubeflow's chart %s", kubeflowVersion)
	helmUninstall(t, "spark-operator", true)
	t.Cleanup(func() { restoreChart(t) })
	// As README's "going back to Kubeflow" says: under a field manager of their own, so that
	// spec.conversion, which ours set and Kubeflow's leave out, stays.
	kubectl(t, "apply", "--server-side", "--force-conflicts", "--field-manager=kubeflow", "-f", filepath.Join(kfChart, "crds"))
	kfValues := map[string]any{
		"spark":   map[string]any{"jobNamespaces": []any{jobNamespace}},
		"webhook": map[string]any{"enable": false},
		"controller": map[string]any{
			"logLevel": "debug",
			// Kubeflow's image has Spark at /opt/spark; here the host's pyspark is mounted there.
			"env": []any{map[string]any{"name": "SPARK_HOME", "value": "/opt/spark"}},
			"volumes": []any{
				map[string]any{"name": "tmp", "emptyDir": map[string]any{"sizeLimit": "1Gi"}},
				map[string]any{"name": "spark", "hostPath": map[string]any{"path": sparkHome}},
			},
			"volumeMounts": []any{
				map[string]any{"name": "tmp", "mountPath": "/tmp"},
				map[string]any{"name": "spark", "mountPath": "/opt/spark", "readOnly": true},
			},
		},
	}
	helmInstall(t, kfChart, kfValues)

	watch := watchApplications(t)
	gate := t.TempDir()
	ttl := sparkExitApp(t, "kf-ttl", 0, 0)
	ttl.Spec.TimeToLiveSeconds = ptr.To[int64](420)
	long := sparkExitApp(t, "kf-long", 0, 420)
	long.Spec.RestartPolicy = v1beta2.RestartPolicy{Type: v1beta2.RestartPolicyOnFailure, OnFailureRetries: ptr.To[int32](2)}
	pending := sparkExitApp(t, "kf-pending", 0, 0)
	pending.Spec.Driver.Template = gatedTemplate(gate)
	sched := &v1beta2.ScheduledSparkApplication{
		ObjectMeta: metav1.ObjectMeta{Name: "kf-scheduled", Namespace: jobNamespace},
		Spec: v1beta2.ScheduledSparkApplicationSpec{
			Schedule: "@every 4m", ConcurrencyPolicy: v1beta2.ConcurrencyForbid,
			Template: sparkExitApp(t, "run", 0, 0).Spec,
		},
	}
	create(t, ttl)
	create(t, long)
	createObject(t, sched)

	step("migrate: waiting for Kubeflow: %s COMPLETED, %s RUNNING", ttl.Name, long.Name)
	waitForState(t, ttl, migrateTimeout, v1beta2.ApplicationStateCompleted)
	waitForState(t, long, migrateTimeout, v1beta2.ApplicationStateRunning)
	create(t, pending)
	waitForState(t, pending, migrateTimeout, v1beta2.ApplicationStateSubmitted)
	before := map[string]*v1beta2.SparkApplication{}
	for _, app := range []*v1beta2.SparkApplication{ttl, long, pending} {
		before[app.Name] = util.GetApp(t, k8s, app.Namespace, app.Name)
	}
	if st := before[long.Name].Status.AppState.State; st != v1beta2.ApplicationStateRunning {
		t.Fatalf("%s is %s before the swap, want RUNNING (sleep longer on this machine)", long.Name, st)
	}
	kfSched := &v1beta2.ScheduledSparkApplication{}
	get(t, sched, kfSched)
	if kfSched.Status.NextRun.IsZero() || kfSched.Status.ScheduleState != v1beta2.ScheduleStateScheduled {
		t.Fatalf("Kubeflow did not schedule %s: %+v", sched.Name, kfSched.Status)
	}
	spark := &corev1.ServiceAccount{}
	get(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: jobNamespace, Name: "spark-operator-spark"}}, spark)

	// README.md, "Migrating from Kubeflow's operator", steps 1 to 4.
	step("migrate: the swap, README's steps 1-4")
	swapStart := time.Now()
	valuesFile := filepath.Join(t.TempDir(), "kubeflow-values.yaml")
	// 1. helm -n spark-operator get values spark-operator -o yaml > kubeflow-values.yaml
	helmGetValues(t, "spark-operator", valuesFile)
	// 2. kubectl apply --server-side --force-conflicts -f charts/spark-operator/crds/
	kubectl(t, "apply", "--server-side", "--force-conflicts", "-f", filepath.Join(root, "charts", "spark-operator", "crds"))
	// 3. kubectl -n spark-operator delete deployment spark-operator-controller --cascade=foreground
	kubectl(t, "-n", operatorNamespace, "delete", "deployment", "spark-operator-controller", "--cascade=foreground", "--timeout=5m")
	if pods := kubectl(t, "-n", operatorNamespace, "get", "pods", "-o", "name"); strings.Contains(pods, "spark-operator-controller") {
		t.Errorf("Kubeflow's controller pod is left after step 3: %s", pods)
	}
	// 4. helm -n spark-operator upgrade spark-operator charts/spark-operator -f kubeflow-values.yaml \
	//      --set spark.serviceAccount.name=spark-operator-spark --wait
	helmUpgradeFiles(t, filepath.Join(root, "charts", "spark-operator"), []string{valuesFile},
		[]string{"spark.serviceAccount.name=spark-operator-spark"})
	checkNoKubeflowWebhooks(t, ctx)
	step("migrate: ours is installed (%.0fs after the swap started)", time.Since(swapStart).Seconds())

	if got := util.GetApp(t, k8s, pending.Namespace, pending.Name).Status.AppState.State; got != v1beta2.ApplicationStateSubmitted {
		t.Errorf("%s is %s once ours runs, want still SUBMITTED (its driver waits behind the gate)", pending.Name, got)
	}
	if err := os.WriteFile(filepath.Join(gate, "open"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kept := &corev1.ServiceAccount{}
	get(t, spark, kept)
	if kept.UID != spark.UID {
		t.Errorf("the drivers' service account was recreated (UID %s, was %s)", kept.UID, spark.UID)
	}

	// The schedule: ours runs when Kubeflow planned to (Kubeflow counts "@every" from its first look,
	// ours from the creation, so up to a slow reconcile's seconds apart), or at once when that time
	// passed during the swap; then every 4 minutes after.
	const slack = 30 * time.Second
	var ours v1beta2.ScheduledSparkApplication
	framework.WaitFor(t, migrateTimeout, "a run of "+sched.Name+" by ours", func() (bool, string) {
		get(t, sched, &ours)
		return ours.Status.LastRunName != "" && ours.Status.LastRunName != kfSched.Status.LastRunName, fmt.Sprintf("%+v", ours.Status)
	})
	if kfNext := kfSched.Status.NextRun.Time; ours.Status.LastRun.Time.Before(kfNext.Add(-slack)) ||
		kfNext.After(swapStart) && ours.Status.LastRun.Time.After(kfNext.Add(2*slack)) {
		t.Errorf("ours ran %s at %s; Kubeflow planned %s (the swap started at %s)", sched.Name, ours.Status.LastRun, kfNext, swapStart)
	}
	if d := ours.Status.NextRun.Sub(ours.Status.LastRun.Time); d < 4*time.Minute-slack || d > 4*time.Minute+slack {
		t.Errorf("ours plans the run after %s at %s, want 4 min later", ours.Status.LastRun, ours.Status.NextRun)
	}
	run := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: jobNamespace, Name: ours.Status.LastRunName}}
	waitForState(t, run, migrateTimeout, v1beta2.ApplicationStateCompleted)
	for _, app := range []*v1beta2.SparkApplication{long, pending} {
		done := waitForState(t, app, migrateTimeout, v1beta2.ApplicationStateCompleted)
		was := before[app.Name].Status
		if done.Status.SubmissionID != was.SubmissionID || done.Status.ExecutionAttempts != was.ExecutionAttempts ||
			done.Status.SubmissionAttempts != was.SubmissionAttempts || done.Status.DriverInfo.PodName != was.DriverInfo.PodName {
			t.Errorf("%s: completed with submission %s, attempts %d/%d, driver %s; Kubeflow left submission %s, attempts %d/%d, driver %s",
				app.Name, done.Status.SubmissionID, done.Status.ExecutionAttempts, done.Status.SubmissionAttempts, done.Status.DriverInfo.PodName,
				was.SubmissionID, was.ExecutionAttempts, was.SubmissionAttempts, was.DriverInfo.PodName)
		}
		if was.SparkApplicationID != "" && done.Status.SparkApplicationID != was.SparkApplicationID || done.Status.SparkApplicationID == "" {
			t.Errorf("%s: sparkApplicationId %q, Kubeflow's was %q", app.Name, done.Status.SparkApplicationID, was.SparkApplicationID)
		}
	}

	// The TTL: ours deletes the application Kubeflow completed, and the garbage collector what
	// spark-submit made for its driver (the driver Service and ConfigMaps are owned by the pod).
	driverUID := watch.driverUIDs(ttl.Name)
	framework.WaitFor(t, migrateTimeout, ttl.Name+" deleted at its TTL", func() (bool, string) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ttl), &v1beta2.SparkApplication{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprintf("%v", err)
	})
	framework.WaitFor(t, 2*time.Minute, "spark-submit's objects of "+ttl.Name+" gone", func() (bool, string) {
		left := ownedBy(t, ctx, driverUID)
		return len(left) == 0, strings.Join(left, ", ")
	})

	watch.stop()
	watch.checkTakenOver(t, ttl, long, pending, run)
}

// kubeflowSparkHome is the host's Spark 3.5.3 (hack/spark-install.sh), which Kubeflow's controller
// pod mounts at /opt/spark, where Kubeflow's image has Spark.
func kubeflowSparkHome(t *testing.T) string {
	t.Helper()
	sparkHome, err := filepath.EvalSymlinks(filepath.Join(root, ".cache", "spark", "3.5.3", "pyspark"))
	if err != nil {
		t.Fatalf("Spark 3.5.3 (hack/spark-install.sh): %v", err)
	}
	return sparkHome
}

// gatedTemplate is a driver pod template whose init container waits for dir/open (a hostPath), so
// that the driver stays Pending and its application SUBMITTED until the test opens the gate.
func gatedTemplate(dir string) *v1beta2.PodTemplate {
	return &v1beta2.PodTemplate{PodTemplateSpec: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		// spark-submit fails on a template without containers (NullPointerException in Spark 3.5.3).
		Containers: []corev1.Container{{Name: "spark-kubernetes-driver"}},
		InitContainers: []corev1.Container{{
			Name: "gate", Image: "busybox",
			Command:      []string{"sh", "-c", "i=0; while [ ! -e /gate/open ] && [ $i -lt 1800 ]; do sleep 1; i=$((i+1)); done"},
			VolumeMounts: []corev1.VolumeMount{{Name: "gate", MountPath: "/gate"}},
		}},
		Volumes: []corev1.Volume{{Name: "gate", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}}}},
	}}}
}

// requireKubeflowBinary skips the test when bin/kubeflow-spark-operator, which the process node runs
// for Kubeflow's controller image, is missing, and fails it when the binary was built from another
// release than kubeflowVersion (its Go build information names the module and version it was built
// from): Kubeflow's deployment passes the flags of kubeflowVersion, which an older binary refuses.
func requireKubeflowBinary(t *testing.T) {
	t.Helper()
	path := filepath.Join(root, "bin", "kubeflow-spark-operator")
	info, err := buildinfo.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("needs Kubeflow's operator " + kubeflowVersion + " at bin/kubeflow-spark-operator: build it with `make kubeflow-operator` (about 15 min), then restart the cluster (its process node maps Kubeflow's image to it)")
	}
	if err != nil {
		t.Fatalf("reading the build information of %s: %v", path, err)
	}
	if info.Main.Path != kubeflow.Module || info.Main.Version != kubeflowVersion {
		t.Fatalf("%s is built from %s %s, want %s %s: run `make kubeflow-operator` (hack/kubeflow/go.mod pins the version)",
			path, info.Main.Path, info.Main.Version, kubeflow.Module, kubeflowVersion)
	}
}

// kubeflowChartDir is Kubeflow's chart in the module cache (go mod download).
func kubeflowChartDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(kubeflow.MustModuleDir(t, kubeflowVersion), "charts", "spark-operator-chart")
}

// kubectl runs bin/kubectl on the cluster and fails the test when it fails.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "bin", "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// helmInstall is `helm install spark-operator CHART -n spark-operator --wait` with values.
func helmInstall(t *testing.T, chartDir string, vals map[string]any) {
	t.Helper()
	cfg, chart := helmChart(t, chartDir)
	install := action.NewInstall(cfg)
	install.ReleaseName = "spark-operator"
	install.Namespace = operatorNamespace
	install.Wait = true
	install.Timeout = 5 * time.Minute
	if _, err := install.Run(chart, vals); err != nil {
		t.Fatalf("helm install %s: %v", chartDir, err)
	}
}

// helmChart is Helm's configuration for the release's namespace and the chart in chartDir.
func helmChart(t *testing.T, chartDir string) (*action.Configuration, *chart.Chart) {
	t.Helper()
	cfg, err := helmConfig(operatorNamespace)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, c
}

// helmUpgradeFiles is `helm -n spark-operator upgrade spark-operator CHART -f FILE... --set SET... --wait`:
// the values merged as Helm's CLI merges them.
func helmUpgradeFiles(t *testing.T, chartDir string, files, sets []string) {
	t.Helper()
	vals, err := (&values.Options{ValueFiles: files, Values: sets}).MergeValues(getter.All(helmSettings(operatorNamespace)))
	if err != nil {
		t.Fatal(err)
	}
	cfg, chart := helmChart(t, chartDir)
	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace = operatorNamespace
	upgrade.Wait = true
	upgrade.Timeout = 5 * time.Minute
	if _, err := upgrade.Run("spark-operator", chart, vals); err != nil {
		t.Fatalf("helm upgrade spark-operator %s: %v", chartDir, err)
	}
}

// helmGetValues is `helm -n spark-operator get values RELEASE -o yaml > file`.
func helmGetValues(t *testing.T, release, file string) {
	t.Helper()
	cfg, err := helmConfig(operatorNamespace)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := action.NewGetValues(cfg).Run(release)
	if err != nil {
		t.Fatalf("helm get values %s: %v", release, err)
	}
	data, err := yaml.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// helmUninstall is `helm -n spark-operator uninstall RELEASE`, with --wait when wait is set.
func helmUninstall(t *testing.T, release string, wait bool) {
	t.Helper()
	cfg, err := helmConfig(operatorNamespace)
	if err != nil {
		t.Fatal(err)
	}
	u := action.NewUninstall(cfg)
	u.Wait = wait
	u.Timeout = 3 * time.Minute
	if _, err := u.Run(release); err != nil {
		t.Fatalf("helm uninstall %s: %v", release, err)
	}
}

// restoreChart puts the suite's install of our chart back (CRDs included) for the tests after.
func restoreChart(t *testing.T) {
	cfg, err := helmConfig(operatorNamespace)
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := action.NewGetValues(cfg).Run("spark-operator"); err == nil {
		helmUninstall(t, "spark-operator", true)
	}
	kubectl(t, "apply", "--server-side", "--force-conflicts", "-f", filepath.Join(root, "charts", "spark-operator", "crds"))
	if err := installChart(); err != nil {
		t.Errorf("restoring the suite's chart: %v", err)
	}
}

// checkNoKubeflowWebhooks fails the test when a webhook configuration is left: Kubeflow's (named
// spark-operator-webhook) would block pods without its Deployment, and ours is disabled by the values
// taken from Kubeflow's release (webhook.enable=false).
func checkNoKubeflowWebhooks(t *testing.T, ctx context.Context) {
	t.Helper()
	m, err := clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := clientset.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, c := range m.Items {
		left = append(left, "mutating/"+c.Name)
	}
	for _, c := range v.Items {
		left = append(left, "validating/"+c.Name)
	}
	if len(left) > 0 {
		t.Errorf("webhook configurations after the upgrade: %v", left)
	}
}

// ownedBy lists the Services, ConfigMaps and pods in the job namespace owned by one of uids.
func ownedBy(t *testing.T, ctx context.Context, uids []types.UID) []string {
	t.Helper()
	var left []string
	check := func(kind string, objs []metav1.Object) {
		for _, o := range objs {
			for _, ref := range o.GetOwnerReferences() {
				if slices.Contains(uids, ref.UID) {
					left = append(left, kind+"/"+o.GetName())
				}
			}
		}
	}
	svcs := &corev1.ServiceList{}
	cms := &corev1.ConfigMapList{}
	pods := &corev1.PodList{}
	for _, l := range []client.ObjectList{svcs, cms, pods} {
		if err := k8s.List(ctx, l, client.InNamespace(jobNamespace)); err != nil {
			t.Fatal(err)
		}
	}
	var objs []metav1.Object
	for i := range svcs.Items {
		objs = append(objs, &svcs.Items[i])
	}
	check("service", objs)
	objs = nil
	for i := range cms.Items {
		objs = append(objs, &cms.Items[i])
	}
	check("configmap", objs)
	objs = nil
	for i := range pods.Items {
		objs = append(objs, &pods.Items[i])
	}
	check("pod", objs)
	return left
}

// appWatch records, by polling every second, the states each SparkApplication of the job namespace
// goes through and the UIDs of the driver pods of each (by their app-name label).
type appWatch struct {
	mu      sync.Mutex
	seen    map[string][]v1beta2.ApplicationStateType
	drivers map[string][]types.UID
	cancel  context.CancelFunc
	done    chan struct{}
}

func watchApplications(t *testing.T) *appWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &appWatch{seen: map[string][]v1beta2.ApplicationStateType{}, drivers: map[string][]types.UID{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			w.poll(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

// stop ends the polling after a last look, so that what happened just before is recorded.
func (w *appWatch) stop() {
	w.cancel()
	<-w.done
	w.poll(context.Background())
}

// poll records the applications' states and their drivers' UIDs once.
func (w *appWatch) poll(ctx context.Context) {
	apps := &v1beta2.SparkApplicationList{}
	pods := &corev1.PodList{}
	if k8s.List(ctx, apps, client.InNamespace(jobNamespace)) != nil ||
		k8s.List(ctx, pods, client.InNamespace(jobNamespace), client.MatchingLabels{v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver}) != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range apps.Items {
		st := a.Status.AppState.State
		if s := w.seen[a.Name]; st != "" && (len(s) == 0 || s[len(s)-1] != st) {
			w.seen[a.Name] = append(s, st)
		}
	}
	for _, p := range pods.Items {
		name := p.Labels[v1beta2.LabelAppName]
		if !slices.Contains(w.drivers[name], p.UID) {
			w.drivers[name] = append(w.drivers[name], p.UID)
		}
	}
}

// checkTakenOver fails the test when one of apps had more than one driver pod (ours must follow
// Kubeflow's), and when any application of the job namespace went through FAILED, FAILING,
// SUBMISSION_FAILED or UNKNOWN; it logs the states each went through. Call it after stop.
func (w *appWatch) checkTakenOver(t *testing.T, apps ...*v1beta2.SparkApplication) {
	t.Helper()
	for _, app := range apps {
		if uids := w.driverUIDs(app.Name); len(uids) != 1 {
			t.Errorf("%s had %d driver pods, want 1: %v", app.Name, len(uids), uids)
		}
	}
	for name, states := range w.states() {
		for _, st := range states {
			if st == v1beta2.ApplicationStateFailed || st == v1beta2.ApplicationStateFailing ||
				st == v1beta2.ApplicationStateFailedSubmission || st == v1beta2.ApplicationStateUnknown {
				t.Errorf("%s went through %s: %v", name, st, states)
			}
		}
		t.Logf("%s: %v", name, states)
	}
}

func (w *appWatch) driverUIDs(app string) []types.UID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.drivers[app])
}

func (w *appWatch) states() map[string][]v1beta2.ApplicationStateType {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string][]v1beta2.ApplicationStateType{}
	for k, v := range w.seen {
		out[k] = slices.Clone(v)
	}
	return out
}

func get(t *testing.T, key, into client.Object) {
	t.Helper()
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(key), into); err != nil {
		t.Fatal(err)
	}
}

// createObject creates obj and deletes it when the test ends.
func createObject(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
}
