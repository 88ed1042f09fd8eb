package batchscheduler_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/batchscheduler/coscheduling"
	"github.com/sparkop/spark-operator/internal/batchscheduler/volcano"
	"github.com/sparkop/spark-operator/internal/batchscheduler/yunikorn"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// registry is the operator's registry with --enable-batch-scheduler
// --kube-scheduler-names=scheduler-plugins-scheduler.
func registry(t testing.TB) *batchscheduler.Registry {
	t.Helper()
	r, err := batchscheduler.NewRegistry("", volcano.Scheduler{}, yunikorn.Scheduler{}, coscheduling.Scheduler{SchedulerName: "scheduler-plugins-scheduler"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func loadApp(t testing.TB, path string) *v1beta2.SparkApplication {
	t.Helper()
	app := util.ReadYAML(t, path, &v1beta2.SparkApplication{})
	app.UID = types.UID("00000000-0000-0000-0000-000000000001")
	return app
}

// prepared renders app and hands it to its scheduler, as the controller does.
func prepared(t testing.TB, app *v1beta2.SparkApplication) (*submission.Resources, []any) {
	t.Helper()
	sub := submission.NewSubmission(app.UID, "1", 1, testTime)
	res, err := submission.Render(app, sub, submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sched, notice, err := registry(t).Resolve(app)
	if err != nil || sched == nil || notice != "" {
		t.Fatalf("Resolve: %v %v %q", sched, err, notice)
	}
	objs, err := batchscheduler.Prepare(sched, app, res)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return res, out
}

// podScheduling is what a batch scheduler may change on a pod.
type podScheduling struct {
	SchedulerName string            `json:"schedulerName"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	// TaskGroups is the yunikorn.apache.org/task-groups annotation, decoded for readability.
	TaskGroups any `json:"taskGroups,omitempty"`
}

func scheduling(t testing.TB, pod *corev1.Pod) podScheduling {
	p := podScheduling{SchedulerName: pod.Spec.SchedulerName, Labels: pod.Labels, Annotations: map[string]string{}}
	for k, v := range pod.Annotations {
		if k == yunikorn.TaskGroupsAnnotation {
			if err := yaml.Unmarshal([]byte(v), &p.TaskGroups); err != nil {
				t.Fatalf("task groups %q: %v", v, err)
			}
			continue
		}
		p.Annotations[k] = v
	}
	return p
}

// TestGolden hands the batch scheduler examples (and testdata/apps) to their schedulers and compares
// the objects created before the driver, and the scheduling fields of the driver pod and of the
// executor pod template as it is written into its ConfigMap, with testdata/golden/<name>.yaml. Run
// `go test ./internal/batchscheduler -update` to accept a change, then review the diff.
func TestGolden(t *testing.T) {
	files := []string{
		"../../examples/spark-pi-volcano.yaml",
		"../../examples/spark-pi-yunikorn.yaml",
		"../../examples/spark-pi-kube-scheduler.yaml",
	}
	more, _ := filepath.Glob("testdata/apps/*.yaml")
	for _, file := range append(files, more...) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			app := loadApp(t, file)
			res, objs := prepared(t, app)
			template := &corev1.Pod{}
			if err := yaml.Unmarshal([]byte(res.ExecutorTemplateConfigMap.Data["podspec-configmap-key"]), template); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, part := range []any{
				map[string]any{"objects": objs},
				map[string]any{"driver": scheduling(t, res.DriverPod)},
				map[string]any{"executorTemplate": scheduling(t, template)},
			} {
				data, err := submission.CleanYAML(part)
				if err != nil {
					t.Fatal(err)
				}
				buf.Write(data)
			}
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", golden, diff)
			}
		})
	}
}
