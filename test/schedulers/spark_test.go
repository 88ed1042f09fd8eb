package schedulers_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/internal/batchscheduler/kubernetes"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestSparkKeepsSchedulingGroup checks, with each Spark distribution already installed in
// .cache/spark (hack/spark-install.sh; `make conformance` installs 3.5.3 and 4.0.1), that Spark's own
// code builds executors that keep the template's spec.schedulingGroup: the field is newer than the
// fabric8 model Spark uses, which must carry it through as an unknown field. It needs java; it skips
// when no Spark is installed (installing one is a 300-450 MB download).
func TestSparkKeepsSchedulingGroup(t *testing.T) {
	skipUnlessEnabled(t)
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH")
	}
	root := framework.RepoRoot(t)
	homes, _ := filepath.Glob(filepath.Join(root, ".cache", "spark", "*", "pyspark"))
	var installed []string
	for _, h := range homes {
		if _, err := os.Stat(filepath.Join(filepath.Dir(h), ".complete")); err == nil {
			installed = append(installed, h)
		}
	}
	if len(installed) == 0 {
		t.Skip("no Spark in .cache/spark: run hack/spark-install.sh 3.5.3 (or make conformance) first")
	}

	app := wrappers.MakeSparkApplication("pi", "ns").ExecutorInstances(3).Obj()
	res, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 1, time.Now()), submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	template := executorTemplate(t, res.ExecutorTemplateConfigMap)
	if err := kubernetes.MutateExecutorTemplate(app, res, template); err != nil {
		t.Fatal(err)
	}
	file := util.WriteYAML(t, "pod-spec-template.yml", template)
	for _, home := range installed {
		version := filepath.Base(filepath.Dir(home))
		t.Run(version, func(t *testing.T) {
			start := time.Now()
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(java, "-cp", filepath.Join(home, "jars")+"/*", filepath.Join("testdata", "SparkExecutor.java"), file)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("Spark %s: %v; stderr ends with:\n%s", version, err, lastLines(stderr.String(), 20))
			}
			pod := &corev1.Pod{}
			if err := yaml.Unmarshal([]byte(strings.TrimPrefix(stdout.String(), "---\n")), pod); err != nil {
				t.Fatalf("Spark %s printed no pod (%v):\n%s", version, err, stdout.String())
			}
			if pod.Name != "pi-exec-1" || len(pod.Spec.Containers) == 0 {
				t.Fatalf("Spark %s built an unexpected executor:\n%s", version, stdout.String())
			}
			g := pod.Spec.SchedulingGroup
			if g == nil || g.PodGroupName == nil || *g.PodGroupName != kubernetes.ExecutorPodGroupName(app, res) {
				t.Fatalf("Spark %s's executor has schedulingGroup %v; want podGroupName %s:\n%s", version, g, kubernetes.ExecutorPodGroupName(app, res), stdout.String())
			}
			t.Logf("Spark %s: executor %s keeps schedulingGroup.podGroupName=%s (%s)", version, pod.Name, *g.PodGroupName, time.Since(start).Round(time.Second))
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
