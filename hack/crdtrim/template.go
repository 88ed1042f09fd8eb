package main

import (
	"encoding/json"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Pod templates (spec.driver.template, spec.executor.template) are schemaless in the Go types
// (+kubebuilder:validation:Schemaless): the full PodSpec schema would take the CRD past kubectl
// apply's annotation limit, as Kubeflow's does. typeTemplates gives each template a shallow schema
// instead: the type of every top-level field of the pod's metadata (labels and annotations as maps of
// strings) and spec (generated from corev1.PodSpec by reflection), with everything below kept as is
// (x-kubernetes-preserve-unknown-fields). The API server then refuses a wrong-typed top-level value
// ("nodeSelector: linux", "containers: {}") at admission, naming the field; what it does not check
// deeper down is decoded leniently by the operator (api/v1beta2.PodTemplate) and fails only that
// application. Unknown fields stay stored, as before. Costs about 3 KiB of JSON per template.

// typeTemplates replaces the schema of every "template" property of a "driver" or "executor"
// property below node, keeping its description.
func typeTemplates(node any) {
	switch n := node.(type) {
	case map[string]any:
		if props, ok := n["properties"].(map[string]any); ok {
			for _, role := range []string{"driver", "executor"} {
				r, _ := props[role].(map[string]any)
				rp, _ := r["properties"].(map[string]any)
				if t, ok := rp["template"].(map[string]any); ok {
					rp["template"] = podTemplateSchema(t["description"])
				}
			}
		}
		for _, child := range n {
			typeTemplates(child)
		}
	case []any:
		for _, child := range n {
			typeTemplates(child)
		}
	}
}

// podTemplateSchema is the shallow schema of a PodTemplateSpec (see typeTemplates).
func podTemplateSchema(description any) map[string]any {
	stringMap := map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	s := map[string]any{
		"type":                                 "object",
		"x-kubernetes-preserve-unknown-fields": true,
		"properties": map[string]any{
			"metadata": map[string]any{
				"type":                                 "object",
				"x-kubernetes-preserve-unknown-fields": true,
				"properties":                           map[string]any{"labels": stringMap, "annotations": stringMap},
			},
			"spec": map[string]any{
				"type":                                 "object",
				"x-kubernetes-preserve-unknown-fields": true,
				"properties":                           shallowProperties(reflect.TypeFor[corev1.PodSpec]()),
			},
		},
	}
	if description != nil {
		s["description"] = description
	}
	return s
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// shallowProperties returns the JSON field names of struct typ with the schema of their type, one
// level deep (shallowSchema); fields of a type with its own JSON format are left out (unchecked).
func shallowProperties(typ reflect.Type) map[string]any {
	props := map[string]any{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		if s := shallowSchema(f.Type, true); s != nil {
			props[name] = s
		}
	}
	return props
}

// shallowSchema is the schema of a value of typ: its type, and for a list or map the type of its
// elements when they are scalars (top true) or an object kept as is; nil when typ has its own JSON
// format or is not one of those.
func shallowSchema(typ reflect.Type, top bool) map[string]any {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if reflect.PointerTo(typ).Implements(unmarshalerType) {
		return nil
	}
	switch typ.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Struct:
		return map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	case reflect.Slice, reflect.Map:
		if !top {
			return nil
		}
		s := map[string]any{"type": "object"}
		key := "additionalProperties"
		if typ.Kind() == reflect.Slice {
			s["type"], key = "array", "items"
		}
		if elem := shallowSchema(typ.Elem(), false); elem != nil {
			s[key] = elem
		} else {
			s["x-kubernetes-preserve-unknown-fields"] = true
		}
		return s
	}
	return nil
}
