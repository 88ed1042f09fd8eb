package sparkctl_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestSuspendResume suspends a running application (the operator stops it) and resumes it (the
// operator submits it again).
func TestSuspendResume(t *testing.T) {
	ns := env.ParallelNamespace(t, startOperator)
	sparkctlOK(t, ns, "create", "-f", writeManifest(t, wrappers.MakeSparkApplication("pause", "").Obj()))
	util.WaitForState(t, env.Client, ns, "pause", v1beta2.ApplicationStateSubmitted)
	runDriver(t, ns, "pause-driver")
	util.WaitForState(t, env.Client, ns, "pause", v1beta2.ApplicationStateRunning)

	out := sparkctlOK(t, ns, "suspend", "pause")
	mustContain(t, "suspend", out, "sparkapplication.sparkoperator.k8s.io/pause suspended")
	util.WaitForState(t, env.Client, ns, "pause", v1beta2.ApplicationStateSuspended)
	r := sparkctlRun(t, ns, "", "suspend", "pause")
	if r.err != nil || !strings.Contains(r.errOut, "pause is already suspended (state SUSPENDED)") || !strings.Contains(r.out, "pause unchanged") {
		t.Errorf("suspend twice: %v\n%s%s", r.err, r.errOut, r.out)
	}

	out = sparkctlOK(t, ns, "resume", "pause")
	mustContain(t, "resume", out, "sparkapplication.sparkoperator.k8s.io/pause resumed")
	app := util.WaitForState(t, env.Client, ns, "pause", v1beta2.ApplicationStateSubmitted)
	if app.Spec.Suspend == nil || *app.Spec.Suspend {
		t.Errorf("spec.suspend after resume = %v", app.Spec.Suspend)
	}

	r = sparkctlRun(t, ns, "", "suspend", "pause", "ghost")
	if r.err == nil || !strings.Contains(r.err.Error(), `SparkApplication "ghost" not found`) || !strings.Contains(r.out, "pause suspended") {
		t.Errorf("suspend of an existing and a missing application: %v\n%s", r.err, r.out)
	}
}

// TestRerunAndTrigger: rerun refuses a running application unless forced, and sets the rerun
// annotation on a finished one; trigger sets the trigger annotation of a ScheduledSparkApplication.
func TestRerunAndTrigger(t *testing.T) {
	ns := env.ParallelNamespace(t, startOperator)
	sparkctlOK(t, ns, "create", "-f", writeManifest(t, wrappers.MakeSparkApplication("again", "").Obj()))
	util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateSubmitted)

	r := sparkctlRun(t, ns, "", "rerun", "again")
	if r.err == nil || !strings.Contains(r.err.Error(), "again is SUBMITTED: rerun starts a finished application again; use --force") {
		t.Errorf("rerun of a submitted application: %v", r.err)
	}
	if _, ok := util.GetApp(t, env.Client, ns, "again").Annotations[v1beta2.AnnotationRerun]; ok {
		t.Error("a refused rerun set the annotation")
	}

	runDriver(t, ns, "again-driver")
	util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateRunning)
	util.FinishDriver(t, env.Client, ns, "again-driver", 1)
	util.WaitForState(t, env.Client, ns, "again", v1beta2.ApplicationStateFailed)
	out := sparkctlOK(t, ns, "rerun", "again", "-o", "name")
	if strings.TrimSpace(out) != "sparkapplication.sparkoperator.k8s.io/again" {
		t.Errorf("rerun -o name printed %q", out)
	}
	first := util.GetApp(t, env.Client, ns, "again").Annotations[v1beta2.AnnotationRerun]
	if _, err := time.Parse(time.RFC3339Nano, first); err != nil {
		t.Errorf("rerun token %q is not a timestamp: %v", first, err)
	}
	failed := util.GetApp(t, env.Client, ns, "again")
	out = sparkctlOK(t, ns, "rerun", "again", "--force", "--wait")
	rerun := util.GetApp(t, env.Client, ns, "again")
	if token := rerun.Annotations[v1beta2.AnnotationRerun]; token == "" || token == first {
		t.Errorf("rerun --force: annotation %q (before %q); each rerun needs a new token", token, first)
	}
	// The operator (which implements the annotation) submitted a new attempt with fresh counters.
	mustContain(t, "rerun --wait", out, "sparkapplication.sparkoperator.k8s.io/again rerun: attempt submitted (", "submission "+rerun.Status.SubmissionID+")")
	if rerun.Status.SubmissionID == failed.Status.SubmissionID || rerun.Status.ExecutionAttempts != 1 {
		t.Errorf("after rerun --wait: submission %s (before %s), attempts %d", rerun.Status.SubmissionID, failed.Status.SubmissionID, rerun.Status.ExecutionAttempts)
	}

	// trigger: the annotation is the contract; the scheduled controller (running here) starts a run.
	sched := wrappers.MakeScheduledSparkApplication("nightly", ns).Schedule("@daily").Suspend(true).Obj()
	util.Create(t, env.Client, sched)
	out = sparkctlOK(t, ns, "trigger", "nightly")
	mustContain(t, "trigger", out, "scheduledsparkapplication.sparkoperator.k8s.io/nightly triggered")
	got := &v1beta2.ScheduledSparkApplication{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "nightly"}, got); err != nil {
		t.Fatal(err)
	}
	first = got.Annotations[v1beta2.AnnotationTriggerRun]
	if _, err := time.Parse(time.RFC3339Nano, first); err != nil {
		t.Errorf("trigger token %q: %v", first, err)
	}
	r = sparkctlRun(t, ns, "", "trigger", "nightly", "--wait")
	logSession(t, []string{"trigger", "nightly", "--wait"}, r)
	if r.err != nil {
		t.Fatal(r.err)
	}
	_ = env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "nightly"}, got)
	if second := got.Annotations[v1beta2.AnnotationTriggerRun]; second == first {
		t.Errorf("two triggers set the same token %q", first)
	}
	mustContain(t, "trigger --wait", r.out, "scheduledsparkapplication.sparkoperator.k8s.io/nightly triggered: run "+got.Status.LastRunName+" started")
	mustContain(t, "trigger of a suspended schedule", r.errOut, "nightly is suspended; the triggered run starts anyway")
	util.GetApp(t, env.Client, ns, got.Status.LastRunName)
	r = sparkctlRun(t, ns, "", "trigger", "weekly")
	if r.err == nil || !strings.Contains(r.err.Error(), `ScheduledSparkApplication "weekly" not found in namespace "`+ns+`"`) {
		t.Errorf("trigger of a missing schedule: %v", r.err)
	}
}

// TestListAndOutputs: list across namespaces, the printers, and errors for bad input.
func TestListAndOutputs(t *testing.T) {
	t.Parallel()
	ns1, ns2 := env.NewNamespace(t), env.NewNamespace(t)
	for _, ns := range []string{ns1, ns2} {
		util.Create(t, env.Client, wrappers.MakeSparkApplication("app-"+ns[len(ns)-5:], ns).Label("team", "data").Obj())
	}
	out := sparkctlOK(t, ns1, "list", "-A", "-l", "team=data")
	if !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+STATE`).MatchString(out) || !strings.Contains(out, ns1) || !strings.Contains(out, ns2) {
		t.Errorf("list -A:\n%s", out)
	}
	out = sparkctlOK(t, ns1, "list", "-o", "name")
	if strings.TrimSpace(out) != "sparkapplication.sparkoperator.k8s.io/app-"+ns1[len(ns1)-5:] {
		t.Errorf("list -o name: %q", out)
	}
	out = sparkctlOK(t, ns1, "list", "-o", "json")
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Items) != 1 {
		t.Errorf("list -o json: %v\n%s", err, out)
	}
	out = sparkctlOK(t, ns1, "list", "-o", "jsonpath={.items[0].spec.image}")
	if out != wrappers.DefaultImage {
		t.Errorf("list -o jsonpath: %q", out)
	}
	out = sparkctlOK(t, ns1, "status", "app-"+ns1[len(ns1)-5:], "-o", "yaml")
	mustContain(t, "status -o yaml", out, "kind: SparkApplication", "image: spark:3.5.3")
	out = sparkctlOK(t, ns1, "status", "app-"+ns1[len(ns1)-5:])
	mustContain(t, "status of a new application", out, "State:", "NEW", "Driver:", "none yet", "Timeline:")

	empty := env.NewNamespace(t)
	r := sparkctlRun(t, empty, "", "list")
	if r.err != nil || r.out != "" || !strings.Contains(r.errOut, "No SparkApplications found in namespace "+empty) {
		t.Errorf("list of an empty namespace: %v %q %q", r.err, r.out, r.errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "-o", "bogus"}, `--output "bogus" is not supported; use one of: wide, json, yaml`},
		{[]string{"status", "-o", "wide", "x"}, `--output "wide" is not supported`},
		{[]string{"list", "-l", "=x"}, `--selector "=x"`},
		{[]string{"status"}, "the name of the SparkApplication is required"},
		{[]string{"status", "a", "b"}, "exactly one SparkApplication name is expected, got 2: a b"},
		{[]string{"status", "ghost"}, `SparkApplication "ghost" not found in namespace "` + ns1 + `"`},
		{[]string{"event", "ghost"}, `SparkApplication "ghost" not found`},
		{[]string{"log", "ghost"}, `SparkApplication "ghost" not found`},
		{[]string{"delete", "ghost"}, `SparkApplication "ghost" not found`},
		{[]string{"forward", "app-" + ns1[len(ns1)-5:], "--local-port", "70000"}, "--local-port 70000 is not a port number"},
		{[]string{"forward", "app-" + ns1[len(ns1)-5:]}, "has no driver pod (state NEW)"},
		{[]string{"log", "app-" + ns1[len(ns1)-5:]}, "does not exist (state NEW)"},
		{[]string{"log", "app-" + ns1[len(ns1)-5:], "--previous"}, "no driver pod of an earlier attempt"},
		{[]string{"nonsense"}, `unknown command "nonsense"`},
	} {
		r := sparkctlRun(t, ns1, "", tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("sparkctl %s: error %v, want it to contain %q", strings.Join(tc.args, " "), r.err, tc.want)
		}
	}
}

// TestEventFollowAndCreateLogs follows the events of an application while it runs, and creates it
// with --logs, which waits for the driver and follows its log until it ends.
func TestEventFollowAndCreateLogs(t *testing.T) {
	ns := env.ParallelNamespace(t, startOperator)
	k := kubelet(t)
	create := sparkctlStart(t, ns, "create", "-f", writeManifest(t, wrappers.MakeSparkApplication("evented", "").Obj()), "--logs")
	util.WaitForState(t, env.Client, ns, "evented", v1beta2.ApplicationStateSubmitted)
	follow := sparkctlStart(t, ns, "event", "evented", "--follow")
	framework.WaitFor(t, 10*time.Second, "the recorded events", func() (bool, string) {
		return strings.Contains(follow.out.String(), "SparkApplicationSubmitted"), follow.out.String()
	})
	k.WriteLog(ns, "evented-driver", "spark-kubernetes-driver", "Pi is roughly 3.14\n")
	runDriver(t, ns, "evented-driver")
	framework.WaitFor(t, 10*time.Second, "the driver's log after create --logs", func() (bool, string) {
		return strings.Contains(create.out.String(), "Pi is roughly 3.14"), create.out.String() + create.errOut.String()
	})
	util.FinishDriver(t, env.Client, ns, "evented-driver", 0)
	k.EndLog(ns, "evented-driver", "spark-kubernetes-driver")
	framework.WaitFor(t, 15*time.Second, "the new events", func() (bool, string) {
		return strings.Contains(follow.out.String(), "SparkDriverCompleted"), follow.out.String()
	})
	if err := follow.stop(t); err != nil {
		t.Errorf("event --follow ended with %v after Ctrl-C", err)
	}
	out := follow.out.String()
	if strings.Index(out, "SparkApplicationSubmitted") > strings.Index(out, "SparkDriverRunning") ||
		strings.Index(out, "SparkDriverRunning") > strings.Index(out, "SparkDriverCompleted") {
		t.Errorf("events out of order:\n%s", out)
	}
	create.waitEnd(t, "create --logs")
	mustContain(t, "create --logs", create.out.String(), "sparkapplication.sparkoperator.k8s.io/evented created\nPi is roughly 3.14\n")
	sparkctlOK(t, ns, "delete", "evented")
}

// TestCompletion: shell completion scripts, and names completed from the cluster.
func TestCompletion(t *testing.T) {
	ns := env.ParallelNamespace(t)
	for _, name := range []string{"alpha", "beta"} {
		util.Create(t, env.Client, wrappers.MakeSparkApplication(name, ns).Obj())
	}
	out := sparkctlOK(t, ns, "completion", "bash")
	mustContain(t, "completion bash", out, "__start_sparkctl")
	// The shell calls `sparkctl __complete ARGS... PARTIAL`: __complete must come first.
	complete := func(args ...string) string {
		t.Helper()
		r := sparkctlRun(t, "", "", append([]string{"__complete", "--kubeconfig", env.Kubeconfig, "-n", ns}, args...)...)
		if r.err != nil {
			t.Fatalf("__complete %v: %v", args, r.err)
		}
		return r.out
	}
	out = complete("status", "a")
	if !strings.Contains(out, "alpha\tNEW") || strings.Contains(out, "beta") {
		t.Errorf("completion of status a:\n%s", out)
	}
	out = complete("delete", "alpha", "")
	if !strings.Contains(out, "beta") || strings.Contains(out, "alpha\t") {
		t.Errorf("completion of delete alpha <TAB>:\n%s", out)
	}
	out = complete("list", "-o", "")
	mustContain(t, "completion of -o", out, "wide", "yaml", "json", "name")
}
