package submission

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
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
