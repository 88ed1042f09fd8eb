package submission

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TemplateUnknownFields returns the fields of the driver and executor pod templates of a
// SparkApplication, or of a ScheduledSparkApplication's application template, that a Kubernetes v1
// PodTemplateSpec does not have, as paths such as "spec.driver.template.spec.securityContext.capabilities".
// obj is the object as the API server stores it (unstructured JSON). The templates are schemaless in
// the CRD, so the API server keeps such fields; the operator decodes a template as a PodTemplateSpec,
// as Spark does, which drops them: they have no effect, and are reported (an Event, sparkctl lint)
// rather than refused. A template that is not an object at all, or has a value of the wrong type, is
// reported as one path with the decoding error.
func TemplateUnknownFields(obj map[string]any) []string {
	spec, _ := obj["spec"].(map[string]any)
	prefix := "spec."
	if tmpl, ok := spec["template"].(map[string]any); ok {
		spec, prefix = tmpl, "spec.template."
	}
	var out []string
	for _, role := range []string{"driver", "executor"} {
		r, _ := spec[role].(map[string]any)
		t, ok := r["template"]
		if !ok || t == nil {
			continue
		}
		path := prefix + role + ".template"
		data, err := json.Marshal(t)
		if err != nil {
			out = append(out, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		strict, err := sigsjson.UnmarshalStrict(data, &corev1.PodTemplateSpec{})
		if err != nil {
			out = append(out, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		for _, e := range strict {
			var fe sigsjson.FieldError
			if errors.As(e, &fe) {
				out = append(out, path+"."+fe.FieldPath())
			} else {
				out = append(out, fmt.Sprintf("%s (%v)", path, e))
			}
		}
	}
	sort.Strings(out)
	return out
}

// templateError returns a *FieldError for the values of the driver and executor pod templates that
// did not decode as a PodTemplateSpec (v1beta2.PodTemplate.Invalid: the CRD leaves the inside of a
// template loosely typed, so the API server stores them). The field is the first such value, e.g.
// "spec.driver.template.spec.containers[0].ports"; the detail says what was given and what is
// expected, and names the other values. nil when both templates decoded completely.
func templateError(app *v1beta2.SparkApplication) error {
	var first *FieldError
	var more []string
	for _, t := range []struct {
		path     string
		template *v1beta2.PodTemplate
	}{{"spec.driver.template", app.Spec.Driver.Template}, {"spec.executor.template", app.Spec.Executor.Template}} {
		if t.template == nil {
			continue
		}
		for _, e := range t.template.Invalid {
			path := t.path
			if e.Path != "" {
				path += "." + e.Path
			}
			if first == nil {
				first = &FieldError{Field: path, Detail: e.Problem()}
			} else {
				more = append(more, path+": "+e.Problem())
			}
		}
	}
	if first == nil {
		return nil
	}
	first.Detail += " (a pod template must be a Kubernetes v1 PodTemplateSpec; the application is not submitted)"
	if len(more) > 0 {
		first.Detail += "; also " + strings.Join(more, "; ")
	}
	return first
}
