package chart_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// chartDir is the chart under test, relative to the repository root.
const chartDir = "charts/spark-operator"

// Release name and namespace of the renderings, unless a test says otherwise.
const (
	defaultRelease   = "spark-operator"
	defaultNamespace = "spark-operator"
)

// rendered is one object of a rendering and the template it came from, e.g.
// "templates/controller/deployment.yaml".
type rendered struct {
	template string
	obj      *unstructured.Unstructured
}

func (r rendered) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", r.obj.GetKind(), r.obj.GetNamespace(), r.obj.GetName(), r.template)
}

// rendering is the output of the chart for one set of values.
type rendering struct {
	objects []rendered
	notes   string
}

// capabilities are those of the API server the tests run against (bin/kube-apiserver, Kubernetes
// v1.36), as `helm install` would read them; Helm's defaults name Kubernetes 1.20.
func capabilities() *chartutil.Capabilities {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.36.3", Major: "1", Minor: "36"}
	return caps
}

// loadChart loads the chart from the working tree.
func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	root := framework.RepoRoot(t)
	c, err := loader.Load(filepath.Join(root, chartDir))
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return c
}

// renderChart renders the chart as `helm template` would, with the user's values given as YAML (on
// top of values.yaml), and decodes every object. The engine runs in strict mode, so that a template
// that reads a value missing from values.yaml fails instead of rendering an empty string.
func renderChart(t testing.TB, release, namespace, values string) (*rendering, error) {
	t.Helper()
	return renderLoaded(t, loadChart(t), release, namespace, values)
}

// renderLoaded is renderChart for a chart already loaded (Kubeflow's, say).
func renderLoaded(t testing.TB, c *chart.Chart, release, namespace, values string) (*rendering, error) {
	t.Helper()
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	opts := chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}
	renderVals, err := chartutil.ToRenderValues(c, vals, opts, capabilities())
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	out, err := engine.Engine{Strict: true}.Render(c, renderVals)
	if err != nil {
		return nil, err
	}
	files := make([]string, 0, len(out))
	for name := range out {
		files = append(files, name)
	}
	sort.Strings(files)
	r := &rendering{}
	for _, name := range files {
		rel := strings.TrimPrefix(name, c.Name()+"/")
		switch {
		case strings.HasSuffix(name, "NOTES.txt"):
			r.notes = out[name]
			continue
		case !strings.HasSuffix(name, ".yaml"):
			continue
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(out[name])), 4096)
		for {
			obj := map[string]any{}
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: not YAML: %w\n%s", rel, err, out[name])
			}
			if len(obj) == 0 {
				continue
			}
			r.objects = append(r.objects, rendered{template: rel, obj: &unstructured.Unstructured{Object: obj}})
		}
	}
	return r, nil
}

// mustRender renders the chart and fails the test on an error.
func mustRender(t testing.TB, values string) *rendering {
	t.Helper()
	r, err := renderChart(t, defaultRelease, defaultNamespace, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return r
}

// find returns the objects of kind (and name, when not empty) from template (when not empty).
func (r *rendering) find(template, kind, name string) []rendered {
	var out []rendered
	for _, o := range r.objects {
		if (template == "" || o.template == template) && o.obj.GetKind() == kind && (name == "" || o.obj.GetName() == name) {
			out = append(out, o)
		}
	}
	return out
}

// kinds lists "Kind namespace/name" of every object, for failure messages.
func (r *rendering) kinds() []string {
	var out []string
	for _, o := range r.objects {
		out = append(out, fmt.Sprintf("%s %s/%s", o.obj.GetKind(), o.obj.GetNamespace(), o.obj.GetName()))
	}
	return out
}

// lookup returns the value at path in obj: dot-separated keys, with [i] for list elements and
// [key=value] for the element of a list whose field key equals value, e.g.
// "spec.template.spec.containers[0].ports[name=metrics].containerPort", and [*] for every element
// (the values found, as a list; "rules[*].resources[*]" lists every resource). Keys holding dots are
// written in quotes: metadata.labels."app.kubernetes.io/name".
func lookup(obj any, path string) (any, bool) {
	return lookupParts(obj, splitPath(path))
}

func lookupParts(obj any, parts []string) (any, bool) {
	cur := obj
	for n, part := range parts {
		switch {
		case part == "[*]":
			list, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			var all []any
			for _, item := range list {
				v, found := lookupParts(item, parts[n+1:])
				if !found {
					continue
				}
				if vs, isList := v.([]any); isList && n+1 < len(parts) && parts[len(parts)-1] == "[*]" {
					all = append(all, vs...)
				} else {
					all = append(all, v)
				}
			}
			return all, true
		case strings.HasPrefix(part, "["):
			sel := strings.TrimSuffix(strings.TrimPrefix(part, "["), "]")
			list, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			if k, v, found := strings.Cut(sel, "="); found {
				var match any
				for _, item := range list {
					if m, ok := item.(map[string]any); ok && fmt.Sprint(m[k]) == v {
						match = item
						break
					}
				}
				if match == nil {
					return nil, false
				}
				cur = match
				continue
			}
			i, err := strconv.Atoi(sel)
			if err != nil || i < 0 || i >= len(list) {
				return nil, false
			}
			cur = list[i]
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			v, found := m[part]
			if !found {
				return nil, false
			}
			cur = v
		}
	}
	return cur, true
}

// splitPath splits a lookup path into keys and [selectors].
func splitPath(path string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(path); i++ {
		ch := path[i]
		switch {
		case ch == '"':
			quoted = !quoted
		case quoted:
			cur.WriteByte(ch)
		case ch == '.':
			flush()
		case ch == '[':
			flush()
			end := strings.IndexByte(path[i:], ']')
			parts = append(parts, path[i:i+end+1])
			i += end
		default:
			cur.WriteByte(ch)
		}
	}
	flush()
	return parts
}

// toYAML renders v for failure messages.
func toYAML(v any) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
