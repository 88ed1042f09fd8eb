package kubeflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestComparisonBlock(t *testing.T) {
	ours := Result{Build: "abc1234", N: 60, Submission: 20, PodP50: 100 * time.Millisecond, PodP99: 2 * time.Second,
		CPUPerApp: 12 * time.Millisecond, PeakMemory: 50 << 20, WritesPerApp: 30, LagP50: 50 * time.Millisecond, LagP99: 200 * time.Millisecond, Checks: "all COMPLETED; double submissions 0"}
	kf := Result{Build: "Kubeflow v2.5.0", N: 60, Submission: 0.25, PodP50: 100 * time.Second, PodP99: 200 * time.Second,
		CPUPerApp: 7 * time.Second, PeakMemory: 2500 << 20, WritesPerApp: 27, LagP50: 5 * time.Second, LagP99: 40 * time.Second, Checks: "all COMPLETED; double submissions 0"}
	c := Comparison{Command: "go run ./hack/bench -n 60 -kubeflow bin/kubeflow-spark-operator", Ours: ours, Kubeflow: kf, At: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	text := strings.Join(c.Lines(), "\n")
	for _, want := range []string{
		"`go run ./hack/bench -n 60 -kubeflow bin/kubeflow-spark-operator` (2026-12-06 12:00)",
		"| ours | abc1234 | 60 | 20.00 | 100 ms / 2000 ms | 12 ms | 50 MiB | 30.0 | 50 ms / 200 ms | all COMPLETED; double submissions 0 |",
		"| Kubeflow | Kubeflow v2.5.0 | 60 | 0.25 | 100.0 s / 200.0 s | 7000 ms | 2500 MiB | 27.0 | 5000 ms / 40.0 s |",
		"| ours is better by | | | 80x | 1000x / 100x | 583x | 50x | 0.9x | 100x / 200x | |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	if err := os.WriteFile(path, []byte("# Benchmarks\n\nintro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := c
	other.Command = "go run ./hack/bench -n 40 -kubeflow x"
	for _, cc := range []Comparison{c, other, c} {
		if err := Write(path, cc); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	got := string(data)
	if strings.Count(got, "-n 60 -kubeflow") != 1 || strings.Count(got, "-n 40 -kubeflow") != 1 || !strings.HasPrefix(got, "# Benchmarks\n\nintro\n") ||
		strings.Count(got, Begin) != 1 || !strings.HasSuffix(got, End+"\n") {
		t.Errorf("file after three writes:\n%s", got)
	}
	if got := ratio(1, 0); got != "n/a" {
		t.Errorf("ratio by 0 = %q", got)
	}
}

func TestOperatorEnv(t *testing.T) {
	leg := &Leg{SparkHome: "/spark"}
	env, err := leg.OperatorEnv(&rest.Config{Host: "https://127.0.0.1:32766"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(env, " "), "SPARK_HOME=/spark KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=32766"; got != want {
		t.Errorf("env %q, want %q", got, want)
	}
	if _, err := leg.OperatorEnv(&rest.Config{Host: "https://127.0.0.1"}); err == nil {
		t.Error("an address without a port accepted")
	}
}
