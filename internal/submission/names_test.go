package submission

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// derivedSuffixes are the suffixes of every name derived from an application or a
// ScheduledSparkApplication that users or tools compute.
var derivedSuffixes = []string{"ui-svc", "ui-ingress", "driver-4040", "ing-4040", "driver-0", "driver-65535", "ing-65535", "1767225600", "manual-0a1b2c3d"}

// TestDerivedNameKubeflow: the names Kubeflow v2.5's operator gives (GetDefaultUIServiceName,
// GetDefaultUIIngressName; printed by its own pkg/util for these inputs), character for character.
func TestDerivedNameKubeflow(t *testing.T) {
	long := "spark-pi-long-name-0123456789-abcdefghij-0123456789-abcdefgh"
	maxName := "a" + strings.Repeat("0123456789", 6) + "bc"
	cases := []struct{ name, suffix, want string }{
		{"spark-pi", "ui-svc", "spark-pi-ui-svc"},
		{"spark-pi", "ui-ingress", "spark-pi-ui-ingress"},
		{"spark-pi", "driver-4040", "spark-pi-driver-4040"},
		{strings.Repeat("a", 56), "ui-svc", strings.Repeat("a", 56) + "-ui-svc"},
		{strings.Repeat("a", 52), "ui-ingress", strings.Repeat("a", 52) + "-ui-ingress"},
		{long, "ui-svc", "spark-pi-long-name-0123456789-abcdefghij-012345-78974077-ui-svc"},
		{long, "ui-ingress", "spark-pi-long-name-0123456789-abcdefghij-01-a00d9d89-ui-ingress"},
		{maxName, "ui-svc", "a0123456789012345678901234567890123456789012345-b1583045-ui-svc"},
		{maxName, "ui-ingress", "a012345678901234567890123456789012345678901-62149c37-ui-ingress"},
		{strings.Repeat("a", 57), "ui-svc", strings.Repeat("a", 47) + "-ab5c91e7-ui-svc"},
		{strings.Repeat("a", 57), "ui-ingress", strings.Repeat("a", 43) + "-50a00584-ui-ingress"},
		{strings.Repeat("a", 53), "ui-svc", strings.Repeat("a", 53) + "-ui-svc"},
		{strings.Repeat("a", 53), "ui-ingress", strings.Repeat("a", 43) + "-a21ca440-ui-ingress"},
		{"ab-----------------------------------------------------------cd", "ui-svc", "ab----------------------------------------------135a7312-ui-svc"},
		{"ab-----------------------------------------------------------cd", "ui-ingress", "ab------------------------------------------9fa4b8e2-ui-ingress"},
	}
	for _, c := range cases {
		if got := DerivedName(c.name, c.suffix); got != c.want {
			t.Errorf("DerivedName(%q, %q) = %q, want %q (Kubeflow's)", c.name, c.suffix, got, c.want)
		}
	}
}

// TestDerivedNameValid: every name Kubeflow accepts (a DNS-1035 label of at most 63 characters) yields
// a DNS-1035 label for every derived suffix, unchanged when it fits, and distinct names stay distinct.
func TestDerivedNameValid(t *testing.T) {
	var names []string
	for n := 1; n <= 63; n++ {
		names = append(names, "a"+strings.Repeat("b", n-1))
		if n >= 2 {
			names = append(names, "x"+strings.Repeat("-", n-2)+"y", "q"+strings.Repeat("-9", (n-2)/2)+strings.Repeat("z", (n-2)%2)+"7")
		}
	}
	for _, suffix := range derivedSuffixes {
		seen := map[string]string{}
		for _, name := range names {
			if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
				t.Fatalf("test input %q is not a DNS-1035 label: %v", name, errs)
			}
			got := DerivedName(name, suffix)
			if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
				t.Errorf("DerivedName(%q, %q) = %q: %v", name, suffix, got, errs)
			}
			if fits := len(name)+1+len(suffix) <= 63; fits != (got == name+"-"+suffix) {
				t.Errorf("DerivedName(%q, %q) = %q: shortened only when longer than 63 characters", name, suffix, got)
			}
			if !strings.HasSuffix(got, "-"+suffix) {
				t.Errorf("DerivedName(%q, %q) = %q: the suffix is kept", name, suffix, got)
			}
			if other, dup := seen[got]; dup {
				t.Errorf("DerivedName(%q) and DerivedName(%q) are both %q", name, other, got)
			}
			seen[got] = name
		}
	}
}

// TestTemplateUnknownFields: the fields a v1 PodTemplateSpec does not have, with their paths, in a
// SparkApplication and in a ScheduledSparkApplication's template; a value of the wrong type is named.
func TestTemplateUnknownFields(t *testing.T) {
	tmpl := map[string]any{"spec": map[string]any{
		"securityContext": map[string]any{"runAsUser": 185, "capabilities": map[string]any{}},
		"containers":      []any{map[string]any{"name": "c", "imagePullPolicyy": "Always"}},
	}}
	app := map[string]any{"spec": map[string]any{"driver": map[string]any{"template": tmpl}, "executor": map[string]any{"cores": 1}}}
	want := []string{"spec.driver.template.spec.containers[0].imagePullPolicyy", "spec.driver.template.spec.securityContext.capabilities"}
	if got := TemplateUnknownFields(app); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SparkApplication: %v, want %v", got, want)
	}
	scheduled := map[string]any{"spec": map[string]any{"schedule": "@daily", "template": map[string]any{"executor": map[string]any{"template": tmpl}}}}
	want = []string{"spec.template.executor.template.spec.containers[0].imagePullPolicyy", "spec.template.executor.template.spec.securityContext.capabilities"}
	if got := TemplateUnknownFields(scheduled); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ScheduledSparkApplication: %v, want %v", got, want)
	}
	bad := map[string]any{"spec": map[string]any{"driver": map[string]any{"template": map[string]any{"spec": map[string]any{"nodeSelector": "linux"}}}}}
	if got := TemplateUnknownFields(bad); len(got) != 1 || !strings.HasPrefix(got[0], "spec.driver.template (") {
		t.Errorf("wrong type: %v", got)
	}
	if got := TemplateUnknownFields(map[string]any{"spec": map[string]any{}}); len(got) != 0 {
		t.Errorf("no template: %v", got)
	}
}
