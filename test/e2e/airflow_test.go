package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// The Airflow suite drives the operator through Apache Airflow's cncf.kubernetes provider
// (SparkKubernetesOperator, SparkKubernetesSensor), installed pinned from PyPI by
// hack/airflow-install.sh. Each task runs in its own Python process
// (test/e2e/testdata/airflow/run_task.py) under the "airflow" ServiceAccount with exactly the Role
// that docs/airflow.md gives, through a kubeconfig holding that account's token.

// airflowEnv is the installed Airflow, set up once for the suite.
var airflowEnv struct {
	once       sync.Once
	python     string // the venv's python
	home       string // AIRFLOW_HOME
	kubeconfig string // the "airflow" ServiceAccount's kubeconfig
	skip, err  string
}

// airflowRole is the Role docs/airflow.md gives Airflow's account in the job namespace.
var airflowRole = []rbacv1.PolicyRule{
	{APIGroups: []string{"sparkoperator.k8s.io"}, Resources: []string{"sparkapplications"}, Verbs: []string{"create", "get", "list", "watch", "delete"}},
	{APIGroups: []string{"sparkoperator.k8s.io"}, Resources: []string{"sparkapplications/status"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "patch"}},
	{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
}

// requireAirflow installs Airflow (once; hack/airflow-install.sh), creates the "airflow" account
// with its Role and writes its kubeconfig, or skips the test when PyPI cannot be reached.
func requireAirflow(t *testing.T) {
	t.Helper()
	requireCluster(t)
	airflowEnv.once.Do(func() {
		start := time.Now()
		cmd := exec.Command(filepath.Join(root, "hack", "airflow-install.sh"))
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && exit.ExitCode() == exitRegistryUnreachable:
			airflowEnv.skip = "PyPI cannot be reached, so Airflow cannot be installed"
			return
		case err != nil:
			airflowEnv.err = fmt.Sprintf("hack/airflow-install.sh: %v", err)
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		airflowEnv.python, airflowEnv.home = lines[0], lines[len(lines)-1]
		step("Airflow ready in %.0fs (hack/airflow-install.sh)", time.Since(start).Seconds())
		if airflowEnv.kubeconfig, err = airflowAccount(); err != nil {
			airflowEnv.err = err.Error()
		}
	})
	if airflowEnv.skip != "" {
		t.Skip(airflowEnv.skip)
	}
	if airflowEnv.err != "" {
		t.Fatal(airflowEnv.err)
	}
}

// airflowAccount creates the "airflow" ServiceAccount, Role and RoleBinding in the job namespace and
// writes a kubeconfig with a token of that account; it returns the kubeconfig's path.
func airflowAccount() (string, error) {
	ctx := context.Background()
	meta := metav1.ObjectMeta{Name: "airflow", Namespace: jobNamespace}
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: meta},
		&rbacv1.Role{ObjectMeta: meta, Rules: airflowRole},
		&rbacv1.RoleBinding{ObjectMeta: meta,
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "airflow"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "airflow", Namespace: jobNamespace}}},
	} {
		if err := k8s.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", err
		}
	}
	tr, err := clientset.CoreV1().ServiceAccounts(jobNamespace).CreateToken(ctx, "airflow",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](4 * 3600)}}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	admin, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return "", err
	}
	cfg := clientcmdapi.NewConfig()
	for name, c := range admin.Clusters {
		cfg.Clusters[name] = c
		cfg.AuthInfos["airflow"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
		cfg.Contexts["airflow"] = &clientcmdapi.Context{Cluster: name, AuthInfo: "airflow", Namespace: jobNamespace}
		cfg.CurrentContext = "airflow"
	}
	path := filepath.Join(workDir, "airflow-kubeconfig.yaml")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// airflowTask is one run of run_task.py.
type airflowTask struct {
	cmd  *exec.Cmd
	out  *util.SyncBuffer
	done chan struct{}
}

// airflowResult is run_task.py's last line.
type airflowResult struct {
	OK        bool              `json:"ok"`
	Error     string            `json:"error"`
	ErrorType string            `json:"error_type"`
	Name      string            `json:"name"`
	XCom      map[string]string `json:"xcom"`
}

// startAirflowTask starts run_task.py with args (see its doc) as the "airflow" account.
func startAirflowTask(t *testing.T, args map[string]any) *airflowTask {
	t.Helper()
	for k, v := range map[string]any{"dag_id": "spark_e2e", "namespace": jobNamespace} {
		if _, ok := args[k]; !ok {
			args[k] = v
		}
	}
	data, _ := json.Marshal(args)
	conn, _ := json.Marshal(map[string]any{"conn_type": "kubernetes",
		"extra": map[string]any{"kube_config_path": airflowEnv.kubeconfig, "namespace": jobNamespace}})
	cmd := exec.Command(airflowEnv.python, filepath.Join(root, "test", "e2e", "testdata", "airflow", "run_task.py"), string(data))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AIRFLOW_HOME="+airflowEnv.home, "AIRFLOW_CONN_KUBERNETES_DEFAULT="+string(conn),
		"AIRFLOW__CORE__LOAD_EXAMPLES=False", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///"+filepath.Join(airflowEnv.home, "airflow.db"))
	task := &airflowTask{cmd: cmd, out: &util.SyncBuffer{}, done: make(chan struct{})}
	logFile, err := os.Create(filepath.Join(workDir, fmt.Sprintf("airflow-%s-%s.log", args["task_id"], args["run_id"])))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.MultiWriter(task.out, logFile)
	cmd.Stderr = cmd.Stdout
	t.Logf("airflow task %s", data)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(task.done)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return task
}

// wait waits for the task's process to exit (Airflow's imports alone take a minute on a loaded
// machine) and returns its result.
func (a *airflowTask) wait(t *testing.T) airflowResult {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(12 * time.Minute):
		t.Fatalf("the Airflow task did not end within 12 min:\n%s", tail(a.out.String(), 40))
	}
	out := a.out.String()
	i := strings.LastIndex(out, "AIRFLOW_RESULT ")
	if i < 0 {
		t.Fatalf("the Airflow task printed no result (exit %v):\n%s", a.cmd.ProcessState, tail(out, 40))
	}
	var r airflowResult
	line, _, _ := strings.Cut(out[i+len("AIRFLOW_RESULT "):], "\n")
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitForOutput waits until the task printed s.
// succeeded waits for the task (what, e.g. "the task", for the message) and fails the test, with
// the tail of its output, unless it succeeded; it returns the result and the whole output.
func (a *airflowTask) succeeded(t *testing.T, what string) (airflowResult, string) {
	t.Helper()
	r := a.wait(t)
	out := a.out.String()
	if !r.OK {
		t.Fatalf("%s failed: %s: %s\n%s", what, r.ErrorType, r.Error, tail(out, 40))
	}
	return r, out
}

func (a *airflowTask) waitForOutput(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for !strings.Contains(a.out.String(), s) {
		select {
		case <-a.done:
			t.Fatalf("the Airflow task ended before printing %q:\n%s", s, tail(a.out.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Airflow task did not print %q within 10 min", s)
		}
		time.Sleep(time.Second)
	}
}

// sparkExitSpec is the SparkExit application (a small job, a sleep, an exit code) as an Airflow
// template_spec: the SparkApplication document as a dict.
func sparkExitSpec(t *testing.T, name string, code, sleepSeconds int) map[string]any {
	t.Helper()
	return toTemplateSpec(t, sparkExitApp(t, name, code, sleepSeconds))
}

func toTemplateSpec(t *testing.T, app *v1beta2.SparkApplication) map[string]any {
	t.Helper()
	app.TypeMeta = metav1.TypeMeta{APIVersion: v1beta2.GroupVersion.String(), Kind: "SparkApplication"}
	data, err := yaml.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	delete(spec, "status")
	return spec
}

// waitForNoApp waits until the application and all its pods are gone.
func waitForNoApp(t *testing.T, name string) {
	t.Helper()
	app := &v1beta2.SparkApplication{}
	app.Name, app.Namespace = name, jobNamespace
	deadline := time.Now().Add(3 * time.Minute)
	for {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(app), &v1beta2.SparkApplication{})
		pods := appPods(t, context.Background(), app)
		if apierrors.IsNotFound(err) && len(pods) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("3 min later, SparkApplication %s: %v; %d pods left", name, err, len(pods))
		}
		time.Sleep(time.Second)
	}
}

// TestAirflowSparkPi: SparkKubernetesOperator with the seed examples/spark-pi.yaml as its
// application_file succeeds, streams the driver's log into the task log, and deletes the
// application afterwards (delete_on_termination, the default).
func TestAirflowSparkPi(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	task := startAirflowTask(t, map[string]any{"kind": "operator", "task_id": "spark_pi", "run_id": "manual__pi",
		"application_file": filepath.Join(root, "examples", "spark-pi.yaml")})
	r, out := task.succeeded(t, "the task")
	if !strings.Contains(out, "[spark-kubernetes-driver] Pi is roughly 3.14") {
		t.Errorf("the task log lacks the driver's \"Pi is roughly 3.14\":\n%s", tail(out, 40))
	}
	if !strings.HasPrefix(r.Name, "spark-pi-") || r.XCom["pod_name"] != r.Name+"-driver" {
		t.Errorf("application %q, driver pod %q: want spark-pi-<suffix> and its driver", r.Name, r.XCom["pod_name"])
	}
	waitForNoApp(t, r.Name)
}

// TestAirflowSubmissionFailure: an application that fails before its driver runs (its service account
// does not exist) fails the task with the application's errorMessage, read by the provider's start-up
// wait. The provider leaves the FAILED application in place.
func TestAirflowSubmissionFailure(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	app := sparkExitApp(t, "af-no-account", 0, 0)
	app.Spec.Driver.ServiceAccount = ptr.To("no-such-account")
	task := startAirflowTask(t, map[string]any{"kind": "operator", "task_id": "no_account", "run_id": "manual__noacct",
		"template_spec": toTemplateSpec(t, app), "random_name_suffix": false})
	r := task.wait(t)
	if r.OK {
		t.Fatalf("the task succeeded, want a failure")
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), app) })
	got := &v1beta2.SparkApplication{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(app), got); err != nil {
		t.Fatal(err)
	}
	msg := got.Status.AppState.ErrorMessage
	if got.Status.AppState.State != v1beta2.ApplicationStateFailed || msg == "" {
		t.Fatalf("application %s: state %s, errorMessage %q; want FAILED with a message", app.Name, got.Status.AppState.State, msg)
	}
	if !strings.Contains(r.Error, "Spark Job Failed") || !strings.Contains(r.Error, msg) {
		t.Errorf("task error %q lacks the application's errorMessage %q", r.Error, msg)
	}
}

// TestAirflowDriverFailure: a driver that exits 3 while running fails the task; the provider judges
// the driver pod ("returned a failure") and deletes the application.
func TestAirflowDriverFailure(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	// The sleep keeps the driver running past the provider's start-up poll (every 10 s), so that the
	// failure is always seen on the pod, as it is for any real job that runs a while.
	spec := sparkExitSpec(t, "af-exit-3", 3, 25)
	task := startAirflowTask(t, map[string]any{"kind": "operator", "task_id": "exit_3", "run_id": "manual__exit3",
		"template_spec": spec, "random_name_suffix": false})
	r := task.wait(t)
	if r.OK {
		t.Fatalf("the task succeeded, want a failure")
	}
	if !strings.Contains(r.Error, "af-exit-3-driver returned a failure") {
		t.Errorf("task error %q: want the driver pod's failure", r.Error)
	}
	if !strings.Contains(task.out.String(), "exiting with 3") {
		t.Errorf("the task log lacks the driver's last line")
	}
	waitForNoApp(t, "af-exit-3")
}

// TestAirflowOnKill: killing the task (SIGTERM, as the worker does; the task runner calls on_kill)
// deletes the application, and no pod is left.
func TestAirflowOnKill(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	app := sparkExitApp(t, "af-kill", 0, 600)
	task := startAirflowTask(t, map[string]any{"kind": "operator", "task_id": "kill", "run_id": "manual__kill",
		"template_spec": toTemplateSpec(t, app), "random_name_suffix": false})
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), app) })
	waitForState(t, app, 10*time.Minute, v1beta2.ApplicationStateRunning)
	task.waitForOutput(t, "[spark-kubernetes-driver]") // the task follows the driver's log
	if err := task.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := task.wait(t)
	if r.OK || !strings.Contains(task.out.String(), "Deleting spark job for task kill") {
		t.Errorf("on_kill did not run:\n%s", tail(task.out.String(), 20))
	}
	waitForNoApp(t, app.Name)
}

// TestAirflowSensor: SparkKubernetesSensor on an application created outside Airflow reports
// COMPLETED as success (with the driver log attached) and FAILED as a failure.
func TestAirflowSensor(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	ok := sparkExitApp(t, "af-sensor-ok", 0, 0)
	ok.Spec.TimeToLiveSeconds = ptr.To[int64](3600)
	bad := sparkExitApp(t, "af-sensor-bad", 4, 0)
	create(t, ok)
	create(t, bad)
	okTask := startAirflowTask(t, map[string]any{"kind": "sensor", "task_id": "sense_ok", "run_id": "manual__sense",
		"application_name": ok.Name, "attach_log": true})
	badTask := startAirflowTask(t, map[string]any{"kind": "sensor", "task_id": "sense_bad", "run_id": "manual__sense",
		"application_name": bad.Name})
	if r := okTask.wait(t); !r.OK {
		t.Errorf("sensor on %s: %s: %s", ok.Name, r.ErrorType, r.Error)
	} else if !strings.Contains(okTask.out.String(), "exiting with 0") {
		t.Errorf("attach_log: the sensor's log lacks the driver's log:\n%s", tail(okTask.out.String(), 20))
	}
	if r := badTask.wait(t); r.OK || !strings.Contains(r.Error, "Spark application failed with state: FAILED") {
		t.Errorf("sensor on %s: ok=%v %q, want a failure with state FAILED", bad.Name, r.OK, r.Error)
	}
}

// TestAirflowReattach: the worker running the task dies (SIGKILL) while the driver runs; the task's
// next try (same run id) finds the driver by its labels, follows it to its end and succeeds, without
// a second application or driver.
func TestAirflowReattach(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	app := sparkExitApp(t, "af-reattach", 0, 40)
	args := func(try int) map[string]any {
		return map[string]any{"kind": "operator", "task_id": "reattach", "run_id": "manual__reattach", "try_number": try,
			"template_spec": toTemplateSpec(t, app.DeepCopy()), "random_name_suffix": false}
	}
	first := startAirflowTask(t, args(1))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), app) })
	waitForState(t, app, 10*time.Minute, v1beta2.ApplicationStateRunning)
	first.waitForOutput(t, "[spark-kubernetes-driver]")
	_ = first.cmd.Process.Kill()
	<-first.done
	driver := &corev1.Pod{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: jobNamespace, Name: app.Name + "-driver"}, driver); err != nil {
		t.Fatal(err)
	}
	second := startAirflowTask(t, args(2))
	r, out := second.succeeded(t, "the second try")
	if !strings.Contains(out, "Reattaching to it") || !strings.Contains(out, "exiting with 0") {
		t.Errorf("the second try did not reattach to the driver and follow it:\n%s", tail(out, 40))
	}
	if strings.Contains(out, "Creating sparkApplication") {
		t.Errorf("the second try created the application again")
	}
	if r.XCom["pod_name"] != driver.Name {
		t.Errorf("the second try followed pod %q, want %s", r.XCom["pod_name"], driver.Name)
	}
	waitForNoApp(t, app.Name)
}

// TestAirflowDeferrable: deferrable=True with template_spec: the task defers to the provider's pod
// trigger (run in the task's process, as the triggerer would run it) and resumes to success.
func TestAirflowDeferrable(t *testing.T) {
	requireAirflow(t)
	t.Parallel()
	spec := sparkExitSpec(t, "af-deferred", 0, 0)
	task := startAirflowTask(t, map[string]any{"kind": "operator", "task_id": "deferred", "run_id": "manual__deferred",
		"template_spec": spec, "random_name_suffix": false, "deferrable": true})
	_, out := task.succeeded(t, "the deferred task")
	if !strings.Contains(out, "run_task: deferred to") {
		t.Errorf("the task did not defer:\n%s", tail(out, 20))
	}
	waitForNoApp(t, "af-deferred")
}
