package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// createWithTemplate creates application name with the given role's pod template set to template,
// as unstructured JSON (a wrong-typed value cannot be written through the Go type).
func createWithTemplate(t *testing.T, ns, name, role string, template map[string]any) {
	t.Helper()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(wrappers.MakeSparkApplication(name, ns).Obj())
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("SparkApplication"))
	if err := unstructured.SetNestedField(u.Object, template, "spec", role, "template"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(context.Background(), u); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
}

// waitForStateUnstructured is waitForState for an application whose spec the test's typed client may
// not decode.
func waitForStateUnstructured(t *testing.T, ns, name string, state v1beta2.ApplicationStateType) (message string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("SparkApplication"))
	framework.WaitFor(t, 30*time.Second, name+" to be "+string(state), func() (bool, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
			return false, err.Error()
		}
		got, _, _ := unstructured.NestedString(u.Object, "status", "applicationState", "state")
		message, _, _ = unstructured.NestedString(u.Object, "status", "applicationState", "errorMessage")
		return got == string(state), fmt.Sprint("state ", got, " (", message, ")")
	})
	return message
}

// TestWrongTypedTemplateFailsOnlyItsApplication: pod templates are loosely typed in the CRD below their
// top-level fields, so the API server stores a template value of the wrong type (a container's ports
// as a string, a quantity that does not parse). Such an application, stored before the operator
// starts (its cache's first list) or created while it runs (a watch event), fails alone:
// SUBMISSION_FAILED (then FAILED, as its restart policy is Never) with the field path and the value's
// type in errorMessage and a Warning Event; a good application next to it runs to COMPLETED. Before
// v1beta2.PodTemplate decoded leniently, the cache's list failed and the good application was never
// processed.
func TestWrongTypedTemplateFailsOnlyItsApplication(t *testing.T) {
	ns := env.ParallelNamespace(t)
	createWithTemplate(t, ns, "bad-listed", "driver", map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "spark-kubernetes-driver", "ports": "4040"}},
	}})
	startOperator(t, ns, defaultOptions())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("good", ns).Obj())
	createWithTemplate(t, ns, "bad-watched", "executor", map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "executor", "resources": map[string]any{"limits": map[string]any{"cpu": "lots"}}}},
	}})

	util.WaitForState(t, env.Client, ns, "good", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "good-driver")
	util.FinishDriver(t, env.Client, ns, "good-driver", 0)
	util.WaitForState(t, env.Client, ns, "good", v1beta2.ApplicationStateCompleted)

	for name, want := range map[string][]string{
		"bad-listed":  {"spec.driver.template.spec.containers[0].ports", `string "4040"`, "array"},
		"bad-watched": {"spec.executor.template.spec.containers[0].resources.limits[cpu]", `string "lots"`, "Quantity"},
	} {
		// SUBMISSION_FAILED, then FAILED: the restart policy (Never) allows no retry.
		msg := waitForStateUnstructured(t, ns, name, v1beta2.ApplicationStateFailed)
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: errorMessage %q does not name %q", name, msg, w)
			}
		}
		waitForWarning(t, ns, name, sparkapplication.ReasonSubmissionFailed, want[0])
	}
}

// waitForWarning waits for a Warning Event of the application with the given reason whose note
// contains text.
func waitForWarning(t *testing.T, ns, name, reason, text string) {
	t.Helper()
	framework.WaitFor(t, 10*time.Second, "a "+reason+" event naming "+text, func() (bool, string) {
		list := &eventsv1.EventList{}
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason && e.Type == "Warning" {
				if strings.Contains(e.Note, text) {
					return true, ""
				}
				seen = append(seen, e.Note)
			}
		}
		return false, fmt.Sprint(seen)
	})
}
