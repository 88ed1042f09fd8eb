package v1beta2

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
)

// PodTemplate is spec.driver.template and spec.executor.template: in JSON exactly a Kubernetes v1
// PodTemplateSpec (as in Kubeflow's API), in Go a PodTemplateSpec that remembers what it could not
// decode.
//
// The CRD declares only the template's top-level fields (hack/crdtrim), so the API server can store a
// template with a value of the wrong type deeper down (a container's ports given as a string, a
// resource quantity that does not parse). Decoding such an object with the plain PodTemplateSpec type
// fails, and with it the operator's list of every SparkApplication. PodTemplate's UnmarshalJSON never
// fails for a JSON object: it decodes what it can, records each value it could not decode in Invalid,
// and keeps the JSON as received in Raw, which MarshalJSON writes back unchanged, so that nothing the
// user wrote is lost. The operator fails such an application alone (SUBMISSION_FAILED naming the field),
// and sparkctl lint and spark-operator render report it.
type PodTemplate struct {
	corev1.PodTemplateSpec `json:",inline"`

	// Invalid lists the values that could not be decoded, in the order found; empty for a template
	// that decoded completely. Not part of the API (never serialized).
	Invalid []TemplateFieldError `json:"-"`
	// Raw is the template's JSON as received, kept only when Invalid is not empty. Not part of the
	// API (MarshalJSON writes it in place of the decoded template).
	Raw json.RawMessage `json:"-"`
}

// TemplateFieldError is one value of a pod template that does not decode as a PodTemplateSpec.
type TemplateFieldError struct {
	// Path is the value's path inside the template, e.g. "spec.containers[0].ports" or
	// "spec.containers[1].resources.limits[cpu]"; "" for the template itself.
	Path string
	// Got is the JSON type of the value: object, array, string, number, boolean or null.
	Got string
	// Value is the value's JSON text for a string, number or boolean, shortened to 64 bytes; else "".
	Value string
	// Want is what the field needs: object, array, string, integer, number, boolean, or the name of
	// a Kubernetes type with its own format (resource.Quantity, intstr.IntOrString, v1.Time).
	Want string
	// Detail is the decoder's complaint for a value of the right JSON type and the wrong format
	// (e.g. a quantity that does not parse); else "".
	Detail string
}

// Error returns "<path>: <problem>" (see Problem); the path is relative to the template (callers
// that report it prefix it with e.g. "spec.driver.template.").
func (e TemplateFieldError) Error() string {
	return e.Path + ": " + e.Problem()
}

// Problem returns "<got> [<value>] where <want> is expected[: <detail>]", e.g.
// `string "4040" where an array is expected`.
func (e TemplateFieldError) Problem() string {
	got := e.Got
	if e.Value != "" {
		got += " " + e.Value
	}
	msg := fmt.Sprintf("%s where %s is expected", got, article(e.Want))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func article(want string) string {
	if want != "" && strings.ContainsAny(want[:1], "aeiouAEIOU") {
		return "an " + want
	}
	return "a " + want
}

// UnmarshalJSON decodes a PodTemplateSpec as the API machinery does (case-sensitive field names,
// unknown fields ignored). It fails only for JSON that is not an object (null is decoded by the
// caller); a value of the wrong type inside the object is left at its zero value and recorded in
// Invalid, and the JSON kept in Raw.
func (t *PodTemplate) UnmarshalJSON(data []byte) error {
	*t = PodTemplate{}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &t.PodTemplateSpec); err == nil {
		return nil
	}
	t.PodTemplateSpec = corev1.PodTemplateSpec{}
	d := &lenientDecoder{}
	d.decode(data, reflect.ValueOf(&t.PodTemplateSpec).Elem(), "")
	if len(d.errs) == 0 {
		// The strict decode failed for a reason the lenient one does not see; keep it visible.
		d.errs = append(d.errs, TemplateFieldError{Got: jsonType(data), Want: "object", Detail: "does not decode as a PodTemplateSpec"})
	}
	t.Invalid = d.errs
	t.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// MarshalJSON writes the JSON as received when the template did not decode completely, and the
// PodTemplateSpec otherwise.
func (t PodTemplate) MarshalJSON() ([]byte, error) {
	if len(t.Invalid) > 0 && len(t.Raw) > 0 {
		return t.Raw, nil
	}
	return json.Marshal(t.PodTemplateSpec)
}

// Template returns the template's PodTemplateSpec, nil for a nil template.
func (t *PodTemplate) Template() *corev1.PodTemplateSpec {
	if t == nil {
		return nil
	}
	return &t.PodTemplateSpec
}

// lenientDecoder decodes JSON into a Go value field by field, collecting the values it cannot decode.
type lenientDecoder struct {
	errs []TemplateFieldError
}

// maxTemplateErrors bounds the errors recorded for one template (a huge wrong template is reported by
// its first values).
const maxTemplateErrors = 20

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decode sets v from data: the whole value when it decodes, else, for an object, array or map, each
// part on its own; a part that does not decode is left zero and recorded.
func (d *lenientDecoder) decode(data []byte, v reflect.Value, path string) {
	target := reflect.New(v.Type())
	err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, target.Interface())
	if err == nil {
		v.Set(target.Elem())
		return
	}
	typ := v.Type()
	if reflect.PointerTo(typ).Implements(unmarshalerType) {
		d.fail(path, data, typ, err.Error())
		return
	}
	switch typ.Kind() {
	case reflect.Pointer:
		p := reflect.New(typ.Elem())
		d.decode(data, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if sigsjson.UnmarshalCaseSensitivePreserveInts(data, &obj) != nil || obj == nil {
			d.fail(path, data, typ, "")
			return
		}
		d.fields(obj, v, path)
	case reflect.Slice:
		var items []json.RawMessage
		if sigsjson.UnmarshalCaseSensitivePreserveInts(data, &items) != nil || items == nil {
			d.fail(path, data, typ, "")
			return
		}
		s := reflect.MakeSlice(typ, len(items), len(items))
		for i, item := range items {
			d.decode(item, s.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case reflect.Map:
		var obj map[string]json.RawMessage
		if typ.Key().Kind() != reflect.String || sigsjson.UnmarshalCaseSensitivePreserveInts(data, &obj) != nil || obj == nil {
			d.fail(path, data, typ, "")
			return
		}
		m := reflect.MakeMapWithSize(typ, len(obj))
		for k, raw := range obj {
			e := reflect.New(typ.Elem()).Elem()
			d.decode(raw, e, path+"["+k+"]")
			m.SetMapIndex(reflect.ValueOf(k).Convert(typ.Key()), e)
		}
		v.Set(m)
	default:
		d.fail(path, data, typ, "")
	}
}

// fields decodes the members of obj into the fields of struct v, following json tags and inlined
// embedded structs; members the struct does not have are ignored, as the API machinery does.
func (d *lenientDecoder) fields(obj map[string]json.RawMessage, v reflect.Value, path string) {
	typ := v.Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				p := reflect.New(f.Type.Elem())
				d.fields(obj, p.Elem(), path)
				fv.Set(p)
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				d.fields(obj, fv, path)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		raw, ok := obj[name]
		if !ok {
			continue
		}
		p := name
		if path != "" {
			p = path + "." + name
		}
		d.decode(raw, fv, p)
	}
}

func (d *lenientDecoder) fail(path string, data []byte, typ reflect.Type, detail string) {
	if len(d.errs) >= maxTemplateErrors {
		return
	}
	e := TemplateFieldError{Path: path, Got: jsonType(data), Want: wantOf(typ), Detail: detail}
	if e.Got == "string" || e.Got == "number" || e.Got == "boolean" {
		e.Value = string(data)
		if len(e.Value) > 64 {
			e.Value = e.Value[:61] + "..."
		}
	}
	d.errs = append(d.errs, e)
}

// jsonType names the JSON type of a (valid) JSON value by its first byte.
func jsonType(data []byte) string {
	s := strings.TrimLeft(string(data), " \t\r\n")
	if s == "" {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// wantOf names what a Go type is decoded from.
func wantOf(typ reflect.Type) string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if reflect.PointerTo(typ).Implements(unmarshalerType) {
		return typ.String()
	}
	switch typ.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	default:
		return typ.String()
	}
}
