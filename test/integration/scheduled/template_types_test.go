package scheduled_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestWrongTypedTemplateValue: a ScheduledSparkApplication whose application template has a pod
// template value of the wrong type (stored by the API server: the CRD checks only a pod template's
// top-level fields) neither stops the controller, whose other schedules run, nor changes: its runs
// carry the pod template exactly as written, for the SparkApplication controller to refuse naming
// the field.
func TestWrongTypedTemplateValue(t *testing.T) {
	ns := env.ParallelNamespace(t)
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(wrappers.MakeScheduledSparkApplication("bad", ns).Schedule("@every 2s").Obj())
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("ScheduledSparkApplication"))
	ports := []any{map[string]any{"name": "spark-kubernetes-driver", "ports": "4040"}}
	if err := unstructured.SetNestedField(u.Object, map[string]any{"spec": map[string]any{"containers": ports}}, "spec", "template", "driver", "template"); err != nil {
		t.Fatal(err)
	}
	util.Create(t, env.Client, u)
	startOperator(t, ns)
	util.Create(t, env.Client, wrappers.MakeScheduledSparkApplication("good", ns).Schedule("@every 2s").Obj())
	waitForRuns(t, ns, "good", 1)
	run := waitForRuns(t, ns, "bad", 1)[0]
	if tmpl := run.Spec.Driver.Template; tmpl == nil || len(tmpl.Invalid) != 1 || tmpl.Invalid[0].Path != "spec.containers[0].ports" {
		t.Errorf("run %s decodes with template %+v", run.Name, tmpl)
	}
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("SparkApplication"))
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(&run), stored); err != nil {
		t.Fatal(err)
	}
	got, _, _ := unstructured.NestedSlice(stored.Object, "spec", "driver", "template", "spec", "containers")
	if len(got) != 1 || got[0].(map[string]any)["ports"] != "4040" {
		t.Errorf("run %s stored with driver template containers %v, want them as written", run.Name, got)
	}
}
