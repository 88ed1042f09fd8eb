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

// TestTemplateUnknownFieldsDropped: a driver template with fields a v1 PodTemplateSpec does not have
// (as in Kubeflow's spark-pi-pod-template example: capabilities in the pod's securityContext) is
// stored by the API server; the application is submitted with the fields dropped, and a Warning Event
// names them.
func TestTemplateUnknownFieldsDropped(t *testing.T) {
	ns := parallelWithOperator(t)
	app := wrappers.MakeSparkApplication("tmpl", ns).Obj()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(app)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("SparkApplication"))
	template := map[string]any{"spec": map[string]any{
		"securityContext": map[string]any{"runAsUser": int64(185), "capabilities": map[string]any{"drop": []any{"ALL"}}, "allowPrivilegeEscalation": false},
		"nodeSelector":    map[string]any{"kubernetes.io/os": "linux"},
	}}
	if err := unstructured.SetNestedField(u.Object, template, "spec", "driver", "template"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(context.Background(), u, client.FieldValidation("Strict")); err != nil {
		t.Fatalf("the API server refuses the template: %v", err)
	}
	util.WaitForState(t, env.Client, ns, "tmpl", v1beta2.ApplicationStateSubmitted)
	driver := util.GetPod(t, env.Client, ns, "tmpl-driver")
	if sc := driver.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 185 || driver.Spec.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("driver pod lost the template's known fields: securityContext %+v, nodeSelector %v", sc, driver.Spec.NodeSelector)
	}
	framework.WaitFor(t, 20*time.Second, "the SparkTemplateFieldsDropped event", func() (bool, string) {
		events := &eventsv1.EventList{}
		if err := env.Client.List(context.Background(), events, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range events.Items {
			if e.Reason == sparkapplication.ReasonTemplateFieldsDropped && e.Type == "Warning" &&
				strings.Contains(e.Note, "spec.driver.template.spec.securityContext.capabilities") &&
				strings.Contains(e.Note, "spec.driver.template.spec.securityContext.allowPrivilegeEscalation") {
				return true, ""
			}
		}
		return false, fmt.Sprint(util.EventReasons(t, env.Client, ns, "tmpl"))
	})
}
