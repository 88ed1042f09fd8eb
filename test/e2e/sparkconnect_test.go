package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// connectTimeout bounds the server's start (JVM, SparkContext, executors) on a busy machine.
const connectTimeout = 3 * time.Minute

// TestSparkConnect creates examples/sparkconnect/spark-connect.yaml (Spark 4.0.1, two executors), waits
// for it to be Ready, runs a PySpark Connect client (`pyspark[connect]` from PyPI, hack/connect-install.sh)
// against it: range(...).groupBy(id % 10).count() over 8 partitions, checks the counts and, through
// the server's Spark UI REST API, that its executors ran the tasks; then deletes the SparkConnect and
// checks that no pod, Service or ConfigMap of it is left.
func TestSparkConnect(t *testing.T) {
	requireCluster(t)
	python := connectClient(t)
	ctx := context.Background()
	conn := loadConnectExample(t)
	if err := k8s.Create(ctx, conn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpConnect(t, conn)
		}
		_ = k8s.Delete(context.Background(), conn)
	})

	got := waitForConnect(t, conn, v1alpha1.SparkConnectStateReady)
	addr := net.JoinHostPort(got.Status.Server.PodIP, "15002")
	t.Logf("%s is Ready: server %s at %s, executors %v", conn.Name, got.Status.Server.PodName, addr, got.Status.Executors)

	const rows, partitions = 1_000_000, 8
	cmd := exec.Command(python, filepath.Join(root, "test", "e2e", "testdata", "connect", "query.py"), "sc://"+addr, fmt.Sprint(rows), fmt.Sprint(partitions))
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the Connect client failed: %v\n%s", err, tail(string(out), 30))
	}
	want := "counts {"
	for k := range 10 {
		if k > 0 {
			want += ", "
		}
		want += fmt.Sprintf("%d: %d", k, rows/10)
	}
	want += "}"
	if !strings.Contains(string(out), want) {
		t.Fatalf("the client printed\n%s\nwant %q", tail(string(out), 10), want)
	}

	tasks := executorTasks(t, got.Status.Server.PodIP)
	total := 0
	for _, n := range tasks {
		total += n
	}
	if len(tasks) == 0 || total < partitions {
		t.Errorf("executors and their completed tasks %v: want the query's %d+ tasks run on executors", tasks, partitions)
	}
	t.Logf("tasks completed per executor: %v", tasks)

	if err := k8s.Delete(ctx, conn); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left := connectObjects(t, conn)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 min after the deletion these are left: %v", left)
		}
		time.Sleep(time.Second)
	}
}

// connectClient installs the PySpark Connect client once and returns its python; it skips the test
// when PyPI cannot be reached.
func connectClient(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "hack", "connect-install.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == exitRegistryUnreachable {
		t.Skip("PyPI cannot be reached, so the PySpark Connect client cannot be installed")
	}
	if err != nil {
		t.Fatalf("hack/connect-install.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func loadConnectExample(t *testing.T) *v1alpha1.SparkConnect {
	t.Helper()
	conn := util.ReadYAML(t, filepath.Join(root, "examples", "sparkconnect", "spark-connect.yaml"), &v1alpha1.SparkConnect{})
	conn.Namespace = jobNamespace
	return conn
}

func waitForConnect(t *testing.T, conn *v1alpha1.SparkConnect, want v1alpha1.SparkConnectState) *v1alpha1.SparkConnect {
	t.Helper()
	deadline := time.Now().Add(connectTimeout)
	for {
		got := &v1alpha1.SparkConnect{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(conn), got); err == nil {
			if got.Status.State == want {
				return got
			}
			if got.Status.State == v1alpha1.SparkConnectStateFailed {
				t.Fatalf("%s is Failed: %+v", conn.Name, got.Status.Conditions)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not %s within %s", conn.Name, want, connectTimeout)
		}
		time.Sleep(time.Second)
	}
}

// executorTasks reads the server's Spark UI REST API (port 4040 on the pod's address) and returns
// the completed tasks of each executor (the driver left out).
func executorTasks(t *testing.T, podIP string) map[string]int {
	t.Helper()
	base := "http://" + net.JoinHostPort(podIP, "4040") + "/api/v1/applications"
	var apps []struct{ ID string }
	getJSON(t, base, &apps)
	if len(apps) != 1 {
		t.Fatalf("%s lists %d applications", base, len(apps))
	}
	var execs []struct {
		ID             string
		CompletedTasks int
	}
	getJSON(t, base+"/"+apps[0].ID+"/allexecutors", &execs)
	out := map[string]int{}
	for _, e := range execs {
		if e.ID != "driver" {
			out[e.ID] = e.CompletedTasks
		}
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", url, err)
	}
}

// connectObjects lists the pods, Services and ConfigMaps labelled with the SparkConnect's name.
func connectObjects(t *testing.T, conn *v1alpha1.SparkConnect) []string {
	t.Helper()
	var left []string
	sel := client.MatchingLabels{v1alpha1.LabelSparkConnectName: conn.Name}
	for _, list := range []client.ObjectList{&corev1.PodList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}} {
		if err := k8s.List(context.Background(), list, client.InNamespace(conn.Namespace), sel); err != nil {
			t.Fatal(err)
		}
		switch l := list.(type) {
		case *corev1.PodList:
			for _, o := range l.Items {
				left = append(left, "pod/"+o.Name)
			}
		case *corev1.ServiceList:
			for _, o := range l.Items {
				left = append(left, "service/"+o.Name)
			}
		case *corev1.ConfigMapList:
			for _, o := range l.Items {
				left = append(left, "configmap/"+o.Name)
			}
		}
	}
	return left
}

// dumpConnect logs the SparkConnect's status and its server's log tail, for a failed test.
func dumpConnect(t *testing.T, conn *v1alpha1.SparkConnect) {
	ctx := context.Background()
	got := &v1alpha1.SparkConnect{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(conn), got); err != nil {
		return
	}
	status, _ := yaml.Marshal(got.Status)
	t.Logf("status of %s:\n%s", conn.Name, status)
	data, err := clientset.CoreV1().Pods(conn.Namespace).GetLogs(conn.Name+"-server", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err == nil {
		t.Logf("server log (tail):\n%s", tail(string(data), 60))
	}
}
