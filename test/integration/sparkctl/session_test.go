package sparkctl_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestSession is the session of docs/sparkctl.md: create an application, watch the list, read its
// status, events and logs, open its UI through a port forward, and delete it.
func TestSession(t *testing.T) {
	ns := env.ParallelNamespace(t, startOperator)
	k := kubelet(t)
	manifest := writeManifest(t, wrappers.MakeSparkApplication("spark-pi", "").Obj())

	out := sparkctlOK(t, ns, "create", "-f", manifest)
	mustContain(t, "create", out, "sparkapplication.sparkoperator.k8s.io/spark-pi created")

	watch := sparkctlStart(t, ns, "list", "--watch")
	util.WaitForState(t, env.Client, ns, "spark-pi", v1beta2.ApplicationStateSubmitted)
	runDriver(t, ns, "spark-pi-driver")
	app := util.WaitForState(t, env.Client, ns, "spark-pi", v1beta2.ApplicationStateRunning)
	createExecutor(t, ns, app, 1, corev1.PodRunning)
	createExecutor(t, ns, app, 2, corev1.PodRunning)
	createExecutor(t, ns, app, 3, corev1.PodPending)
	framework.WaitFor(t, 20*time.Second, "3 executors in the status", func() (bool, string) {
		a := util.GetApp(t, env.Client, ns, "spark-pi")
		return a.Status.ExecutorCounts[v1beta2.ExecutorStateRunning] == 2 && a.Status.ExecutorCounts[v1beta2.ExecutorStatePending] == 1, fmt.Sprint(a.Status.ExecutorCounts)
	})

	out = sparkctlOK(t, ns, "list")
	if !regexp.MustCompile(`(?m)^NAME\s+STATE\s+ATTEMPTS\s+START\s+DURATION\s+AGE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^spark-pi\s+RUNNING\s+1\s+\S+\s+\S+\s+\S+$`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	out = sparkctlOK(t, ns, "list", "-o", "wide")
	if !regexp.MustCompile(`spark-pi\s+RUNNING\s+1\s+\S+\s+\S+\s+\S+\s+1\s+spark-pi-driver\s+2/3\s+-`).MatchString(out) {
		t.Errorf("list -o wide:\n%s", out)
	}

	out = sparkctlOK(t, ns, "status", "spark-pi")
	mustContain(t, "status", out,
		"State:", "RUNNING",
		"Attempts:", "1 run(s), 1 submission(s)",
		"Driver:", "spark-pi-driver (Running on sparkctl-test-node, IP 10.0.0.1)",
		"Spark UI:", "service spark-pi-ui-svc port 4040", "`sparkctl forward spark-pi`",
		"Executors:", "2 running, 1 pending (3 total)",
		"Last error:", "Timeline:", "SparkApplicationSubmitted", "SparkDriverRunning")

	out = sparkctlOK(t, ns, "event", "spark-pi")
	if !regexp.MustCompile(`(?s)LAST SEEN\s+TYPE\s+REASON\s+MESSAGE.*Normal\s+SparkApplicationSubmitted.*Normal\s+SparkDriverRunning\s+Driver spark-pi-driver is running`).MatchString(out) {
		t.Errorf("event:\n%s", out)
	}

	// Logs: the driver's, followed, and an executor's.
	k.WriteLog(ns, "spark-pi-driver", "spark-kubernetes-driver", "INFO SparkContext: Running Spark version 3.5.3\n")
	out = sparkctlOK(t, ns, "log", "spark-pi")
	mustContain(t, "log", out, "Running Spark version 3.5.3")
	follow := sparkctlStart(t, ns, "log", "spark-pi", "--follow")
	k.WriteLog(ns, "spark-pi-driver", "spark-kubernetes-driver", "INFO DAGScheduler: Job 0 finished\nPi is roughly 3.1415\n")
	framework.WaitFor(t, 10*time.Second, "the followed log", func() (bool, string) {
		return strings.Contains(follow.out.String(), "Pi is roughly 3.1415"), follow.out.String()
	})
	k.WriteLog(ns, "spark-pi-exec-2", "spark-kubernetes-executor", "INFO Executor: Running task 1.0\n")
	out = sparkctlOK(t, ns, "log", "spark-pi", "--executor", "2")
	mustContain(t, "log --executor 2", out, "Running task 1.0")
	r := sparkctlRun(t, ns, "", "log", "spark-pi", "-e", "7")
	if r.err == nil || !strings.Contains(r.err.Error(), "no executor 7 in the current attempt; its executors there: 1, 2, 3") {
		t.Errorf("log -e 7: %v", r.err)
	}

	// The UI through a port forward: a local server plays the driver's UI on port 4040.
	ui := startUI(t)
	k.Forward(ns, "spark-pi-driver", 4040, ui)
	fwd := sparkctlStart(t, ns, "forward", "spark-pi", "--local-port", "0")
	var url string
	framework.WaitFor(t, 15*time.Second, "the port forward", func() (bool, string) {
		m := regexp.MustCompile(`http://localhost:\d+`).FindString(fwd.out.String())
		url = m
		return m != "", fwd.out.String() + fwd.errOut.String()
	})
	t.Logf("$ sparkctl forward spark-pi\n%s", fwd.out.String())
	resp, err := http.Get(url + "/jobs/")
	if err != nil {
		t.Fatalf("GET %s through the port forward: %v", url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Spark Jobs") {
		t.Errorf("the UI through the port forward answered %q", body)
	}
	if err := fwd.stop(t); err != nil {
		t.Errorf("forward ended with %v after Ctrl-C", err)
	}

	util.FinishDriver(t, env.Client, ns, "spark-pi-driver", 0)
	k.EndLog(ns, "spark-pi-driver", "spark-kubernetes-driver")
	util.WaitForState(t, env.Client, ns, "spark-pi", v1beta2.ApplicationStateCompleted)
	follow.waitEnd(t, "log --follow")
	framework.WaitFor(t, 10*time.Second, "the watch to show COMPLETED", func() (bool, string) {
		return strings.Contains(watch.out.String(), "COMPLETED"), watch.out.String()
	})
	if err := watch.stop(t); err != nil {
		t.Errorf("list --watch ended with %v after Ctrl-C", err)
	}
	t.Logf("$ sparkctl list --watch\n%s", watch.out.String())
	mustContain(t, "list --watch", watch.out.String(), "SUBMITTED", "RUNNING", "COMPLETED")

	out = sparkctlOK(t, ns, "status", "spark-pi")
	mustContain(t, "status", out, "COMPLETED", "Finished:", "SparkDriverCompleted")
	r = sparkctlRun(t, ns, "", "forward", "spark-pi")
	if r.err == nil || !strings.Contains(r.err.Error(), "spark-pi is COMPLETED: its driver, and the Spark UI with it, is gone") {
		t.Errorf("forward of a finished application: %v", r.err)
	}

	out = sparkctlOK(t, ns, "delete", "spark-pi")
	mustContain(t, "delete", out, "sparkapplication.sparkoperator.k8s.io/spark-pi deleted")
	r = sparkctlRun(t, ns, "", "status", "spark-pi")
	if r.err == nil || !strings.Contains(r.err.Error(), `SparkApplication "spark-pi" not found in namespace "`+ns+`"`) {
		t.Errorf("status after delete: %v", r.err)
	}
}

// startUI serves a page standing for the Spark UI and returns its address.
func startUI(t *testing.T) string {
	t.Helper()
	return util.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html><title>Spark Jobs</title></html>")
	}))
}
