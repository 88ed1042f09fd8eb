package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	sparkctlcmd "github.com/sparkop/spark-operator/internal/sparkctl"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// appTimeout bounds one application's run; Spark's own start-up takes 10-20 s here.
const appTimeout = 5 * time.Minute

var piLine = regexp.MustCompile(`Pi is roughly (\d+\.\d+)`)

// TestSparkPi runs the seed SparkPi (examples/spark-pi.yaml, unchanged: Scala type, spark:3.5.3,
// the stand-in examples jar) and measures where its time goes.
func TestSparkPi(t *testing.T) {
	requireCluster(t)
	app := loadExample(t, "spark-pi")
	tm := runToCompletion(t, app)
	if log := checkPi(t, app, 0.01); !strings.Contains(log, "Pi is roughly 3.14") {
		t.Errorf("the driver log lacks \"Pi is roughly 3.14\" (500 million darts: the estimate is within 0.001)")
	}
	// sparkctl reads the same log through the API server and the process node.
	if out := sparkctl(t, "log", app.Name, "--tail", "100"); !strings.Contains(out, "Pi is roughly 3.14") {
		t.Errorf("sparkctl log %s lacks the estimate:\n%s", app.Name, tail(out, 20))
	}
	tm.sparkPhases = sparkPhases(driverLog(t, context.Background(), app))
	report := tm.report(app.Name)
	t.Log("\n" + report)
	_ = os.WriteFile(filepath.Join(workDir, "timings-"+app.Name+".md"), []byte(report), 0o644)
}

// TestSparkPiPython runs examples/spark-pi-python.yaml on Spark 3.5.3 and on Spark 4.0.1.
func TestSparkPiPython(t *testing.T) {
	requireCluster(t)
	for _, version := range []string{"3.5.3", "4.0.1"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			app := loadExample(t, "spark-pi-python")
			app.Name = "spark-pi-py-" + strings.ReplaceAll(version, ".", "")
			app.Spec.Image = ptr.To("spark:" + version)
			app.Spec.SparkVersion = version
			// 10 partitions instead of the example's 100: pi.py's darts are thrown in Python, about
			// 10 s per 10 partitions on this machine, and the test is about running, not computing.
			app.Spec.Arguments = []string{"10"}
			// sparkctl log --follow, started as soon as the application exists, waits for the
			// driver to start and streams its log until the driver ends.
			type result struct {
				out string
				err error
			}
			followed := make(chan result, 1)
			tm := runToCompletion(t, app, func() {
				go func() {
					out, err := runSparkctl("log", app.Name, "--follow")
					followed <- result{out, err}
				}()
			})
			select {
			case r := <-followed:
				out := r.out
				if r.err != nil {
					t.Error(r.err)
				}
				if !piLine.MatchString(out) || !strings.Contains(out, "Successfully stopped SparkContext") {
					t.Errorf("sparkctl log --follow did not stream the driver's log to its end:\n%s", tail(out, 20))
				}
			case <-time.After(time.Minute):
				t.Errorf("sparkctl log --follow did not return within a minute of the application's completion")
			}
			// PySpark forks each task's Python worker from one daemon, whose random state they
			// inherit: pi.py's partitions throw the same darts, so its estimate is that of 100000
			// darts (sd 0.005) whatever the partitions, and may not start with 3.14.
			checkPi(t, app, 0.05)
			t.Log("\n" + tm.report(app.Name))
		})
	}
}

// TestFailingApplication: a driver that exits 3 ends FAILED after its retries, with the exit code
// in the status.
func TestFailingApplication(t *testing.T) {
	requireCluster(t)
	app := sparkExitApp(t, "spark-exit-3", 3, 0)
	app.Spec.RestartPolicy = v1beta2.RestartPolicy{
		Type: v1beta2.RestartPolicyOnFailure, OnFailureRetries: ptr.To[int32](1), OnFailureRetryInterval: ptr.To[int64](1),
	}
	ctx := context.Background()
	create(t, app)
	got := waitForState(t, app, appTimeout, v1beta2.ApplicationStateFailed)
	if got.Status.ExecutionAttempts != 2 {
		t.Errorf("executionAttempts = %d, want 2 (the first run and one retry)", got.Status.ExecutionAttempts)
	}
	if msg := got.Status.AppState.ErrorMessage; !strings.Contains(msg, "driver container failed with ExitCode: 3") {
		t.Errorf("errorMessage = %q, want the exit code 3", msg)
	}
	log := driverLog(t, ctx, got)
	if !strings.Contains(log, "exiting with 3") {
		t.Errorf("the driver log lacks SparkExit's line:\n%s", tail(log, 30))
	}
}

// TestDeleteRunningApplication: deleting an application whose driver and executor run stops their
// processes and leaves no pods.
func TestDeleteRunningApplication(t *testing.T) {
	requireCluster(t)
	app := sparkExitApp(t, "spark-sleep", 0, 600)
	ctx := context.Background()
	create(t, app)
	waitForState(t, app, appTimeout, v1beta2.ApplicationStateRunning)
	// Wait for an executor to run too, then note every container's process.
	var pids []int
	deadline := time.Now().Add(appTimeout)
	for len(pids) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no running executor within %s", appTimeout)
		}
		time.Sleep(500 * time.Millisecond)
		pids = pids[:0]
		for _, p := range appPods(t, ctx, app) {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.State.Running != nil {
					pid, err := strconv.Atoi(strings.TrimPrefix(cs.ContainerID, "processnode://"))
					if err == nil {
						pids = append(pids, pid)
					}
				}
			}
		}
	}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("process %d of a running container is not alive", pid)
		}
	}
	t.Logf("deleting %s while its driver and executor run (processes %v)", app.Name, pids)
	if err := k8s.Delete(ctx, app); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(2 * time.Minute)
	for {
		left := appPods(t, ctx, app)
		var living []int
		for _, pid := range pids {
			if alive(pid) {
				living = append(living, pid)
			}
		}
		if len(left) == 0 && len(living) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 min after the deletion: %d pods left, processes %v alive", len(left), living)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sparkctl runs the sparkctl command line in the test process against the cluster, in the job
// namespace, and returns what it printed; a failure is reported with t.Errorf.
func sparkctl(t *testing.T, args ...string) string {
	out, err := runSparkctl(args...)
	if err != nil {
		t.Error(err)
	}
	return out
}

// runSparkctl is sparkctl without a *testing.T, for goroutines that may outlive a test.
func runSparkctl(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := sparkctlcmd.NewRootCommand("sparkctl", genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append(args, "--kubeconfig", kubeconfig, "--namespace", jobNamespace))
	if err := cmd.Execute(); err != nil {
		return out.String(), fmt.Errorf("sparkctl %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// alive reports whether a process exists and has not exited (a zombie counts as gone).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// sparkExitApp is the seed SparkPi running SparkExit instead (test/e2e/testdata): a small job on
// its executor, then a sleep of sleepSeconds, then an exit with code.
func sparkExitApp(t *testing.T, name string, code, sleepSeconds int) *v1beta2.SparkApplication {
	app := loadExample(t, "spark-pi")
	app.Name = name
	app.Spec.MainClass = ptr.To("org.apache.spark.examples.SparkExit")
	app.Spec.Arguments = []string{strconv.Itoa(code), strconv.Itoa(sleepSeconds)}
	return app
}

func loadExample(t *testing.T, name string) *v1beta2.SparkApplication {
	t.Helper()
	app := util.ReadYAML(t, filepath.Join(root, "examples", name+".yaml"), &v1beta2.SparkApplication{})
	app.Namespace = jobNamespace
	return app
}

func create(t *testing.T, app *v1beta2.SparkApplication) {
	t.Helper()
	if err := k8s.Create(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpApp(t, app)
		}
		_ = k8s.Delete(context.Background(), app)
	})
}

// dumpApp logs the application's status and its driver's log tail, for a failed test.
func dumpApp(t *testing.T, app *v1beta2.SparkApplication) {
	ctx := context.Background()
	got := &v1beta2.SparkApplication{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
		return
	}
	status, _ := yaml.Marshal(got.Status)
	t.Logf("status of %s:\n%s", app.Name, status)
	for _, p := range appPods(t, ctx, app) {
		t.Logf("pod %s: phase %s", p.Name, p.Status.Phase)
	}
	if got.Status.DriverInfo.PodName != "" {
		t.Logf("driver log (tail):\n%s", tail(driverLog(t, ctx, got), 40))
	}
}

func appPods(t *testing.T, ctx context.Context, app *v1beta2.SparkApplication) []corev1.Pod {
	t.Helper()
	pods := &corev1.PodList{}
	if err := k8s.List(ctx, pods, client.InNamespace(app.Namespace),
		client.MatchingLabels{v1beta2.LabelAppName: app.Name}); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

func driverLog(t *testing.T, ctx context.Context, app *v1beta2.SparkApplication) string {
	t.Helper()
	name := app.Status.DriverInfo.PodName
	if name == "" {
		name = app.Name + "-driver"
	}
	data, err := clientset.CoreV1().Pods(app.Namespace).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Errorf("reading the log of driver %s through the API server: %v", name, err)
	}
	return string(data)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func waitForState(t *testing.T, app *v1beta2.SparkApplication, timeout time.Duration, want v1beta2.ApplicationStateType) *v1beta2.SparkApplication {
	t.Helper()
	deadline := time.Now().Add(timeout)
	got := &v1beta2.SparkApplication{}
	for {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(app), got)
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		state := got.Status.AppState.State
		if state == want {
			return got
		}
		if want != v1beta2.ApplicationStateFailed && state == v1beta2.ApplicationStateFailed ||
			want == v1beta2.ApplicationStateFailed && state == v1beta2.ApplicationStateCompleted {
			t.Fatalf("%s is %s (%s), want %s", app.Name, state, got.Status.AppState.ErrorMessage, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %q after %s, want %s", app.Name, state, timeout, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkPi checks the application's executors and the estimate in its driver log, and returns the log.
func checkPi(t *testing.T, app *v1beta2.SparkApplication, tolerance float64) string {
	t.Helper()
	ctx := context.Background()
	got := &v1beta2.SparkApplication{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.ExecutorState) == 0 {
		t.Errorf("status.executorState is empty: the driver's executors were not tracked")
	}
	for name, state := range got.Status.ExecutorState {
		if state != v1beta2.ExecutorStateCompleted {
			t.Errorf("executor %s is %s, want COMPLETED", name, state)
		}
	}
	log := driverLog(t, ctx, got)
	m := piLine.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("the driver log has no \"Pi is roughly\" line:\n%s", tail(log, 40))
		return log
	}
	pi, _ := strconv.ParseFloat(m[1], 64)
	if pi < 3.14159-tolerance || pi > 3.14159+tolerance {
		t.Errorf("Pi is roughly %v: off by more than %v", pi, tolerance)
	}
	t.Logf("%s: %s; executors %v", app.Name, m[0], got.Status.ExecutorState)
	return log
}

// timings are the moments of an application's life, seen by polling every 100 ms.
type timings struct {
	applied, driverCreated, driverRunning, driverEnded, completed time.Time
	executors                                                     int
	// sparkPhases splits the driver's run by the times in its log (1 s resolution).
	sparkPhases []phase
}

type phase struct {
	what string
	secs float64
}

// sparkMarks are the driver log lines that end each phase of a Spark run, in order.
var sparkMarks = []struct{ what, line string }{
	{"driver JVM up, SparkContext starting", "Running Spark version"},
	{"first executor pod requested", "Going to request"},
	{"first executor registered (its pod created, its JVM started)", "Registered executor"},
	{"job done", "Job 0 finished"},
	{"SparkContext stopped (executors deleted)", "Successfully stopped SparkContext"},
}

var logTime = regexp.MustCompile(`^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d) `)

// sparkPhases reads the time of each mark from a driver log: seconds since the log's first line.
func sparkPhases(log string) []phase {
	var start, last time.Time
	var out []phase
	next := 0
	for _, line := range strings.Split(log, "\n") {
		m := logTime.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ts, err := time.Parse("06/01/02 15:04:05", m[1])
		if err != nil {
			continue
		}
		if start.IsZero() {
			start, last = ts, ts
		}
		if next < len(sparkMarks) && strings.Contains(line, sparkMarks[next].line) {
			out = append(out, phase{sparkMarks[next].what, ts.Sub(last).Seconds()})
			last = ts
			next++
		}
	}
	return out
}

// runToCompletion creates app and follows it to COMPLETED, noting when its driver pod appeared,
// ran and ended.
func runToCompletion(t *testing.T, app *v1beta2.SparkApplication, afterCreate ...func()) *timings {
	t.Helper()
	ctx := context.Background()
	tm := &timings{applied: time.Now()}
	create(t, app)
	for _, f := range afterCreate {
		f()
	}
	deadline := time.Now().Add(appTimeout)
	for {
		now := time.Now()
		driver := &corev1.Pod{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: app.Name + "-driver"}, driver)
		if err == nil {
			if tm.driverCreated.IsZero() {
				tm.driverCreated = now
			}
			for _, cs := range driver.Status.ContainerStatuses {
				if cs.State.Running != nil && tm.driverRunning.IsZero() {
					tm.driverRunning = now
				}
				if cs.State.Terminated != nil && tm.driverEnded.IsZero() {
					tm.driverEnded = now
					if tm.driverRunning.IsZero() {
						tm.driverRunning = now
					}
				}
			}
		}
		got := &v1beta2.SparkApplication{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
			t.Fatal(err)
		}
		tm.executors = max(tm.executors, len(got.Status.ExecutorState))
		switch got.Status.AppState.State {
		case v1beta2.ApplicationStateCompleted:
			tm.completed = now
			return tm
		case v1beta2.ApplicationStateFailed:
			t.Fatalf("%s FAILED: %s", app.Name, got.Status.AppState.ErrorMessage)
		}
		if now.After(deadline) {
			t.Fatalf("%s is %q after %s, want COMPLETED", app.Name, got.Status.AppState.State, appTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// report is a Markdown table of where the application's time went.
func (tm *timings) report(name string) string {
	d := func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return "–"
		}
		return fmt.Sprintf("%.1f s", b.Sub(a).Seconds())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | time |\n|---|---|\n", name)
	fmt.Fprintf(&b, "| apply -> driver pod created (operator: render and submit) | %s |\n", d(tm.applied, tm.driverCreated))
	fmt.Fprintf(&b, "| driver pod created -> running (scheduler, process node) | %s |\n", d(tm.driverCreated, tm.driverRunning))
	fmt.Fprintf(&b, "| driver running -> driver exited (Spark: JVM start, executors, job, stop) | %s |\n", d(tm.driverRunning, tm.driverEnded))
	for _, p := range tm.sparkPhases {
		fmt.Fprintf(&b, "| - of which: %s | %.0f s |\n", p.what, p.secs)
	}
	fmt.Fprintf(&b, "| driver exited -> COMPLETED (operator) | %s |\n", d(tm.driverEnded, tm.completed))
	fmt.Fprintf(&b, "| apply -> COMPLETED | %s |\n", d(tm.applied, tm.completed))
	fmt.Fprintf(&b, "| executors tracked | %d |\n", tm.executors)
	return b.String()
}
