package v1beta2

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	sigsjson "sigs.k8s.io/json"
)

// TestPodTemplateDecodesLeniently: a template with values of the wrong type decodes everything else,
// records each bad value with its path, JSON type and what is expected, and writes the JSON back as
// received; a good template records nothing and is written from the decoded value.
func TestPodTemplateDecodesLeniently(t *testing.T) {
	cases := map[string]struct {
		json string
		want []string // TemplateFieldError.Error() of Invalid
	}{
		"good": {json: `{"metadata":{"labels":{"a":"b"}},"spec":{"nodeSelector":{"k":"v"},"containers":[{"name":"c","ports":[{"containerPort":80}]}]}}`},
		"node selector string": {
			json: `{"spec":{"nodeSelector":"linux","schedulerName":"s"}}`,
			want: []string{`spec.nodeSelector: string "linux" where an object is expected`},
		},
		"containers object": {
			json: `{"spec":{"containers":{},"nodeSelector":{"k":"v"}}}`,
			want: []string{`spec.containers: object where an array is expected`},
		},
		"deep and several": {
			json: `{"metadata":{"labels":{"a":1}},"spec":{"containers":[{"name":"ok"},{"name":"c","ports":"4040","resources":{"limits":{"cpu":"lots","memory":"1Gi"}}}],"priority":"high"}}`,
			want: []string{
				`metadata.labels[a]: number 1 where a string is expected`,
				`spec.containers[1].ports: string "4040" where an array is expected`,
				`spec.containers[1].resources.limits[cpu]: string "lots" where a resource.Quantity is expected: quantities must match the regular expression`,
				`spec.priority: string "high" where an integer is expected`,
			},
		},
		"inline volume source": {
			json: `{"spec":{"volumes":[{"name":"v","emptyDir":{"sizeLimit":true}}]}}`,
			want: []string{`spec.volumes[0].emptyDir.sizeLimit: boolean true where a resource.Quantity is expected`},
		},
		"spec not an object": {
			json: `{"spec":[1,2]}`,
			want: []string{`spec: array where an object is expected`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var tmpl PodTemplate
			if err := sigsjson.UnmarshalCaseSensitivePreserveInts([]byte(tc.json), &tmpl); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if len(tmpl.Invalid) != len(tc.want) {
				t.Fatalf("Invalid = %v, want %d errors %v", tmpl.Invalid, len(tc.want), tc.want)
			}
			// Map members are decoded in no particular order; compare as sets.
			got := map[string]bool{}
			for _, e := range tmpl.Invalid {
				got[e.Error()] = true
			}
			for _, w := range tc.want {
				found := false
				for g := range got {
					if strings.HasPrefix(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error %q in %v", w, tmpl.Invalid)
				}
			}
			out, err := json.Marshal(&tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) > 0 && string(out) != tc.json {
				t.Errorf("written back as %s, want the JSON as received %s", out, tc.json)
			}
			if len(tc.want) == 0 && len(tmpl.Raw) != 0 {
				t.Errorf("a good template keeps its raw JSON")
			}
		})
	}
}

// TestPodTemplateKeepsWhatDecodes: the values around a bad one are decoded.
func TestPodTemplateKeepsWhatDecodes(t *testing.T) {
	var tmpl PodTemplate
	data := `{"metadata":{"labels":{"app":"x"}},"spec":{"nodeSelector":"linux","containers":[{"name":"c","image":"i","resources":{"limits":{"cpu":"lots","memory":"1Gi"}}}],"schedulerName":"s"}}`
	if err := json.Unmarshal([]byte(data), &tmpl); err != nil {
		t.Fatal(err)
	}
	c := tmpl.Spec.Containers
	if tmpl.Labels["app"] != "x" || tmpl.Spec.SchedulerName != "s" || len(c) != 1 || c[0].Image != "i" ||
		!c[0].Resources.Limits.Memory().Equal(resource.MustParse("1Gi")) || tmpl.Spec.NodeSelector != nil {
		t.Errorf("decoded %+v", tmpl.PodTemplateSpec)
	}
}

// TestSparkApplicationWithBadTemplateRoundTrips: an application with a wrong-typed template value
// decodes (as the operator's cache does), converts to unstructured and back, deep-copies, and is
// written back with the template unchanged.
func TestSparkApplicationWithBadTemplateRoundTrips(t *testing.T) {
	data := []byte(`{"apiVersion":"sparkoperator.k8s.io/v1beta2","kind":"SparkApplication","metadata":{"name":"a"},"spec":{"type":"Scala","sparkVersion":"4.0.1","mainApplicationFile":"local:///x.jar","driver":{"cores":1,"template":{"spec":{"nodeSelector":"linux"}}},"executor":{"template":{"spec":{"containers":{}}}}}}`)
	app := &SparkApplication{}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, app); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if len(app.Spec.Driver.Template.Invalid) != 1 || len(app.Spec.Executor.Template.Invalid) != 1 || *app.Spec.Driver.Cores != 1 {
		t.Fatalf("decoded %+v / %+v", app.Spec.Driver.Template, app.Spec.Executor.Template)
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(app.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	if got := u["spec"].(map[string]any)["driver"].(map[string]any)["template"]; got.(map[string]any)["spec"].(map[string]any)["nodeSelector"] != "linux" {
		t.Errorf("unstructured template %v", got)
	}
	back := &SparkApplication{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, back); err != nil {
		t.Fatal(err)
	}
	if len(back.Spec.Executor.Template.Invalid) != 1 || back.Spec.Executor.Template.Invalid[0].Path != "spec.containers" {
		t.Errorf("from unstructured: %+v", back.Spec.Executor.Template.Invalid)
	}
	out, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"template":{"spec":{"nodeSelector":"linux"}}`) || !strings.Contains(string(out), `"template":{"spec":{"containers":{}}}`) {
		t.Errorf("written back as %s", out)
	}
}

// FuzzSparkApplicationDecode decodes arbitrary JSON as a SparkApplication, as the operator's cache
// does: it must never panic, and whatever decodes must deep-copy and encode again, and every template
// that did not decode completely must name what it could not decode.
// Run: go test ./api/v1beta2 -run '^$' -fuzz FuzzSparkApplicationDecode -fuzztime 60s
func FuzzSparkApplicationDecode(f *testing.F) {
	f.Add([]byte(`{"spec":{"driver":{"template":{"spec":{"nodeSelector":"linux"}}},"executor":{"template":{"spec":{"containers":{}}}}}}`))
	f.Add([]byte(`{"spec":{"driver":{"template":{"metadata":{"labels":{"a":1}},"spec":{"containers":[{"ports":"1","resources":{"limits":{"cpu":"x"}}}],"volumes":[{"name":"v","emptyDir":{"sizeLimit":[]}}]}}}}}`))
	f.Add([]byte(`{"spec":{"driver":{"template":[]},"executor":{"template":"x"}}}`))
	f.Add([]byte(`{"spec":{"template":{"driver":{"template":{"spec":{"affinity":{"nodeAffinity":7}}}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		app := &SparkApplication{}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, app); err != nil {
			return
		}
		for _, tmpl := range []*PodTemplate{app.Spec.Driver.Template, app.Spec.Executor.Template} {
			if tmpl == nil {
				continue
			}
			for _, e := range tmpl.Invalid {
				if e.Got == "" || e.Want == "" || e.Error() == "" {
					t.Fatalf("undescribed template error %+v", e)
				}
			}
		}
		if _, err := json.Marshal(app.DeepCopy()); err != nil {
			t.Fatalf("encoding a decoded application: %v", err)
		}
		scheduled := &ScheduledSparkApplication{}
		_ = sigsjson.UnmarshalCaseSensitivePreserveInts(data, scheduled)
	})
}
