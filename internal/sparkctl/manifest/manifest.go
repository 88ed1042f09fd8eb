// Package manifest reads sparkctl's input: the YAML documents of a manifest, decoded strictly into a
// SparkApplication or ScheduledSparkApplication (unknown and duplicate fields reported with a
// suggestion), and the file references of a spec (main file and deps) that create uploads and lint checks.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Kinds sparkctl reads from manifests.
const (
	KindApp       = "SparkApplication"
	KindScheduled = "ScheduledSparkApplication"
)

// Document is one YAML document of a manifest.
type Document struct {
	// source is the file name, or "<stdin>".
	Source string
	// index is the 1-based position of the document in its source.
	Index int
	// data is the document as read.
	Data []byte
	// apiVersion and kind are the document's type.
	APIVersion, Kind string
}

// Where names the document in messages: "app.yaml" or "app.yaml (document 2)".
func (d Document) Where() string {
	if d.Index > 1 {
		return fmt.Sprintf("%s (document %d)", d.Source, d.Index)
	}
	return d.Source
}

// IsOurs reports whether the document is a sparkoperator.k8s.io/v1beta2 SparkApplication or
// ScheduledSparkApplication.
func (d Document) IsOurs() bool {
	return d.APIVersion == v1beta2.GroupVersion.String() && (d.Kind == KindApp || d.Kind == KindScheduled)
}

// KindError explains why a document is not something sparkctl handles.
func (d Document) KindError() error {
	if strings.HasPrefix(d.APIVersion, v1beta2.GroupVersion.Group+"/") && d.APIVersion != v1beta2.GroupVersion.String() {
		return fmt.Errorf("%s: apiVersion %s is not served; use %s (the fields are the same as Kubeflow's v1beta2)", d.Where(), d.APIVersion, v1beta2.GroupVersion)
	}
	if d.Kind == "" || d.APIVersion == "" {
		return fmt.Errorf("%s: not a Kubernetes object (apiVersion and kind are missing)", d.Where())
	}
	return fmt.Errorf("%s: %s %s is not a %s SparkApplication or ScheduledSparkApplication", d.Where(), d.APIVersion, d.Kind, v1beta2.GroupVersion)
}

// ReadDocuments reads the YAML documents of file ("-" is standard input), skipping empty ones.
func ReadDocuments(file string, stdin io.Reader) ([]Document, error) {
	var r io.Reader
	source := file
	if file == "-" {
		r, source = stdin, "<stdin>"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("reading the manifest: %w", err)
		}
		defer f.Close()
		r = f
	}
	return SplitDocuments(source, r)
}

// SplitDocuments splits a YAML stream into its non-empty documents.
func SplitDocuments(source string, r io.Reader) ([]Document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []Document
	for i := 1; ; i++ {
		data, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if len(bytes.TrimSpace(stripComments(data))) == 0 {
			continue
		}
		d := Document{Source: source, Index: i, Data: data}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return nil, fmt.Errorf("%s: not valid YAML: %w", d.Where(), err)
		}
		d.APIVersion, d.Kind = meta.APIVersion, meta.Kind
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no object found", source)
	}
	return docs, nil
}

// stripComments drops comment-only lines, so that a document of comments counts as empty.
func stripComments(data []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '#' {
			continue
		}
		out = append(out, line)
	}
	return bytes.Join(out, []byte("\n"))
}

// FieldProblem is a field that strict decoding refused: unknown or given twice.
type FieldProblem struct {
	// path is the field's path, e.g. "spec.driver.memroy" or "spec.volumes[0].nmae".
	Path string
	// duplicate is true for a field given twice, false for an unknown field.
	Duplicate bool
	// suggestion is the known field the path most likely meant, or "".
	Suggestion string
	// inTemplate is true for an unknown field inside a driver or executor pod template: the API server
	// stores it (the template keeps unknown fields, even under strict field validation), and the
	// operator, Kubernetes and Spark drop it. It is a warning, never a reason to refuse the manifest.
	InTemplate bool
}

// Refused reports whether sparkctl create and render refuse the manifest for the problem: every one
// but an unknown field inside a pod template.
func (p FieldProblem) Refused() bool { return !p.InTemplate }

// Message describes the problem in one line.
func (p FieldProblem) Message() string {
	if p.Duplicate {
		return "given more than once; only the last value is kept"
	}
	if p.InTemplate {
		msg := "unknown field of a pod template: dropped (the API server stores it, but the operator, Kubernetes and Spark ignore it)"
		if p.Suggestion != "" {
			msg = fmt.Sprintf("unknown field of a pod template; did you mean %q? As written, it is dropped", p.Suggestion)
		}
		return msg
	}
	msg := "unknown field: the operator ignores it (the API server drops it or, with strict field validation, refuses the object)"
	if p.Suggestion != "" {
		msg = fmt.Sprintf("unknown field; did you mean %q? As written, the operator ignores it", p.Suggestion)
	}
	return msg
}

// DecodeStrict decodes the YAML document into obj and returns every unknown or duplicate field,
// with a suggestion for misspelt names. err is set when the document cannot be decoded at all
// (bad YAML, or a value of the wrong type).
func DecodeStrict(data []byte, obj any) (problems []FieldProblem, err error) {
	js, yerr := yaml.YAMLToJSONStrict(data)
	if yerr != nil {
		// Duplicate keys are the usual reason; decode leniently and report them below.
		js, err = yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
	}
	strictErrs, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		return nil, describeDecodeError(err)
	}
	if yerr != nil && !strings.Contains(yerr.Error(), "already set") {
		return nil, fmt.Errorf("not valid YAML: %w", yerr)
	}
	t := reflect.TypeOf(obj)
	for _, e := range strictErrs {
		var fe sigsjson.FieldError
		if !errors.As(e, &fe) {
			return nil, e
		}
		p := FieldProblem{Path: fe.FieldPath(), Duplicate: strings.HasPrefix(e.Error(), "duplicate")}
		if !p.Duplicate {
			p.Suggestion = suggestField(t, p.Path)
			p.InTemplate = podTemplateField.MatchString(p.Path)
		}
		problems = append(problems, p)
	}
	problems = append(problems, templateFieldProblems(js, t)...)
	if yerr != nil && !slices.ContainsFunc(problems, func(p FieldProblem) bool { return p.Duplicate }) {
		for _, m := range duplicateKey.FindAllStringSubmatch(yerr.Error(), -1) {
			problems = append(problems, FieldProblem{Path: fmt.Sprintf("%s (line %s)", m[2], m[1]), Duplicate: true})
		}
	}
	return problems, nil
}

// templateFieldProblems returns the unknown fields inside the driver and executor pod templates of
// the JSON document (submission.TemplateUnknownFields). The strict decoder does not see them:
// v1beta2.PodTemplate decodes its own JSON, leniently. A value of the wrong type inside a template is
// not one of them: the decoded template records it, and Render refuses it, naming the field.
func templateFieldProblems(js []byte, t reflect.Type) []FieldProblem {
	var obj map[string]any
	if json.Unmarshal(js, &obj) != nil {
		return nil
	}
	var out []FieldProblem
	for _, path := range submission.TemplateUnknownFields(obj) {
		if strings.Contains(path, " ") {
			continue // "path (decoding error)": a wrong-typed value, see above
		}
		out = append(out, FieldProblem{Path: path, InTemplate: true, Suggestion: suggestField(t, path)})
	}
	return out
}

// podTemplateField matches the paths inside a driver or executor pod template, of a SparkApplication
// or of a ScheduledSparkApplication's template.
var podTemplateField = regexp.MustCompile(`^spec\.(template\.)?(driver|executor)\.template\.`)

// duplicateKey matches what the YAML parser says about a key given twice in a map.
var duplicateKey = regexp.MustCompile(`line (\d+): key "([^"]*)" already set in map`)

// describeDecodeError turns a JSON type error into "spec.driver.cores: expected a number, got string".
func describeDecodeError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	if rest, ok := strings.CutPrefix(msg, "cannot unmarshal "); ok {
		// "string into Go struct field DriverSpec.spec.driver.cores of type int32"
		if what, field, ok := strings.Cut(rest, " into Go struct field "); ok {
			path, goType, _ := strings.Cut(field, " of type ")
			// The path starts with the Go type and names embedded structs by their Go type
			// ("DriverSpec.spec.driver.SparkPodSpec.cores"); JSON names start in lower case.
			var segs []string
			for _, s := range strings.Split(path, ".") {
				if s != "" && (s[0] < 'A' || s[0] > 'Z') {
					segs = append(segs, s)
				}
			}
			path = strings.Join(segs, ".")
			return fmt.Errorf("%s: a %s value was given where %s is expected", path, what, goTypeName(goType))
		}
	}
	return errors.New(msg)
}

// goTypeName names a Go type for users: int32 is "a number", string "a string", and so on.
func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string" || strings.HasSuffix(t, "Type") || strings.HasSuffix(t, "Mode") || strings.HasSuffix(t, "Policy"):
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a map"
	}
	return "an object (" + t + ")"
}

// suggestField returns the known field name closest to the last element of path in the struct type
// the path leads to from root, or "" when none is close.
func suggestField(root reflect.Type, path string) string {
	segs := strings.Split(path, ".")
	t := root
	for _, seg := range segs[:len(segs)-1] {
		name, indexes := seg, 0
		if i := strings.Index(seg, "["); i >= 0 {
			name, indexes = seg[:i], strings.Count(seg[i:], "[")
		}
		next, ok := jsonField(t, name)
		if !ok {
			return ""
		}
		t = next
		for range indexes {
			t = deref(t)
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map {
				return ""
			}
			t = t.Elem()
		}
	}
	last := segs[len(segs)-1]
	best, bestDist := "", 1<<30
	for _, known := range jsonFieldNames(t) {
		if strings.EqualFold(known, last) {
			return known
		}
		d := editDistance(strings.ToLower(known), strings.ToLower(last))
		if d < bestDist {
			best, bestDist = known, d
		}
	}
	if bestDist <= max(2, len(last)/4) {
		return best
	}
	return ""
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonField returns the type of the field with JSON name name in struct type t, looking into
// embedded (inline) structs.
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			if ft, ok := jsonField(f.Type, name); ok {
				return ft, true
			}
			continue
		}
		if tag == name {
			return f.Type, true
		}
	}
	return nil, false
}

// jsonFieldNames lists the JSON field names of struct type t, including those of embedded structs.
func jsonFieldNames(t reflect.Type) []string {
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			out = append(out, jsonFieldNames(f.Type)...)
			continue
		}
		if tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Application is a decoded SparkApplication or ScheduledSparkApplication, with the spec that runs.
type Application struct {
	Doc       Document
	App       *v1beta2.SparkApplication
	Scheduled *v1beta2.ScheduledSparkApplication
	Problems  []FieldProblem
}

// Object returns the decoded object.
func (a *Application) Object() client.Object {
	if a.Scheduled != nil {
		return a.Scheduled
	}
	return a.App
}

// Spec returns the SparkApplicationSpec that is submitted: the application's, or the template of a
// ScheduledSparkApplication.
func (a *Application) Spec() *v1beta2.SparkApplicationSpec {
	if a.Scheduled != nil {
		return &a.Scheduled.Spec.Template
	}
	return &a.App.Spec
}

// SpecPath is the path of spec() in messages.
func (a *Application) SpecPath() string {
	if a.Scheduled != nil {
		return "spec.template"
	}
	return "spec"
}

// DecodeApplication decodes a SparkApplication or ScheduledSparkApplication document strictly.
func DecodeApplication(d Document) (*Application, error) {
	if !d.IsOurs() {
		return nil, d.KindError()
	}
	a := &Application{Doc: d}
	var obj any
	if d.Kind == KindScheduled {
		a.Scheduled = &v1beta2.ScheduledSparkApplication{}
		obj = a.Scheduled
	} else {
		a.App = &v1beta2.SparkApplication{}
		obj = a.App
	}
	problems, err := DecodeStrict(d.Data, obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Where(), err)
	}
	a.Problems = problems
	return a, nil
}

// FileRef is a main application file or dependency URI in a spec.
type FileRef struct {
	// field is the path in messages, e.g. spec.deps.jars[1].
	Field string
	// value points at the URI in the spec, so that create can rewrite it.
	Value *string
}

// FileRefs lists the main application file and the jars, files, pyFiles and archives of spec, whose
// path in messages is p.
func FileRefs(spec *v1beta2.SparkApplicationSpec, p string) []FileRef {
	var refs []FileRef
	if spec.MainApplicationFile != nil && *spec.MainApplicationFile != "" {
		refs = append(refs, FileRef{p + ".mainApplicationFile", spec.MainApplicationFile})
	}
	lists := []struct {
		name string
		list []string
	}{{"jars", spec.Deps.Jars}, {"files", spec.Deps.Files}, {"pyFiles", spec.Deps.PyFiles}, {"archives", spec.Deps.Archives}}
	for _, l := range lists {
		for i := range l.list {
			refs = append(refs, FileRef{fmt.Sprintf("%s.deps.%s[%d]", p, l.name, i), &l.list[i]})
		}
	}
	return refs
}

// LocalFileRefs lists the references of spec to files on the submitter's disk: those that create
// --upload-to uploads and the operator otherwise refuses.
func LocalFileRefs(spec *v1beta2.SparkApplicationSpec, p string) []FileRef {
	var out []FileRef
	for _, r := range FileRefs(spec, p) {
		if submission.IsSubmitterLocal(*r.Value) {
			out = append(out, r)
		}
	}
	return out
}

// LocalPath splits a local file reference ("main.py", "file:///tmp/a.jar", "env.tar.gz#env") into the
// path on disk and the fragment (with its '#'), which Spark uses to rename files and archives.
func LocalPath(ref string) (p, fragment string) {
	base, frag, hasFrag := strings.Cut(ref, "#")
	if hasFrag {
		fragment = "#" + frag
	}
	if strings.HasPrefix(base, "file:") {
		if u, err := url.Parse(base); err == nil {
			if u.Path != "" {
				return u.Path, fragment
			}
			return u.Opaque, fragment
		}
	}
	return base, fragment
}

// ResolvePath makes a relative path absolute against dir.
func ResolvePath(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}
