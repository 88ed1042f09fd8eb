package chart_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestChartCRDsAreConfigCRDs checks that the chart's crds/ holds exactly the CRDs of
// config/crd/bases (`make manifests` copies them), byte for byte: those are the ones the admission
// tests check and that fit `kubectl apply`.
func TestChartCRDsAreConfigCRDs(t *testing.T) {
	want := globNames(t, "config/crd/bases/*.yaml")
	got := globNames(t, chartDir+"/crds/*.yaml")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s/crds holds %v, config/crd/bases holds %v: run `make manifests`", chartDir, got, want)
	}
	for _, name := range want {
		if !bytes.Equal(readFile(t, "config/crd/bases/"+name), readFile(t, chartDir+"/crds/"+name)) {
			t.Errorf("%s/crds/%s differs from config/crd/bases/%s: run `make manifests`", chartDir, name, name)
		}
	}
	c := loadChart(t)
	if n := len(c.CRDObjects()); n != len(want) {
		t.Errorf("Helm sees %d CRDs in the chart, want %d", n, len(want))
	}
}

// TestOperatorRulesAreTheMarkers checks that the operator's rules everywhere are those of the
// +kubebuilder:rbac markers: config/rbac/role.yaml is what controller-gen generates from them now,
// the chart's files/controller-role.yaml is a copy of it, and the chart renders those rules in its
// Roles and its ClusterRole.
func TestOperatorRulesAreTheMarkers(t *testing.T) {
	role := readFile(t, "config/rbac/role.yaml")
	if !bytes.Equal(role, readFile(t, chartDir+"/files/controller-role.yaml")) {
		t.Errorf("%s/files/controller-role.yaml differs from config/rbac/role.yaml: run `make manifests`", chartDir)
	}
	want := rulesOf(t, readManifestFile(t, "config/rbac/role.yaml")[0])

	controllerGen := filepath.Join(env.RepoRoot, "bin", "controller-gen")
	if _, err := os.Stat(controllerGen); err == nil {
		out := t.TempDir()
		cmd := exec.Command(controllerGen, "rbac:roleName=spark-operator-controller", "paths=./internal/controller/...", "output:rbac:artifacts:config="+out)
		cmd.Dir = env.RepoRoot
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("controller-gen: %v\n%s", err, msg)
		} else if generated, err := os.ReadFile(filepath.Join(out, "role.yaml")); err != nil {
			t.Error(err)
		} else if !bytes.Equal(generated, role) {
			t.Errorf("config/rbac/role.yaml is not what the +kubebuilder:rbac markers generate: run `make manifests`\ngenerated:\n%s", generated)
		}
	} else {
		t.Logf("bin/controller-gen missing; not regenerating the ClusterRole from the markers")
	}

	// In a Role, rules about cluster-scoped resources only (namespaces, read for
	// --namespace-selector, which makes the chart use a ClusterRole) would mean nothing: the chart
	// leaves them out. Which resources are cluster-scoped, the API server says.
	var wantNamespaced []rbacv1.PolicyRule
	for _, rule := range want {
		for _, res := range rule.Resources {
			if namespacedResource(t, rule.APIGroups[0], res) {
				wantNamespaced = append(wantNamespaced, rule)
				break
			}
		}
	}
	if len(wantNamespaced) == 0 {
		t.Fatalf("config/rbac/role.yaml has no rule about namespaced resources:\n%s", toYAML(want))
	}
	for _, tc := range []struct {
		values, kind string
		want         []rbacv1.PolicyRule
	}{
		{"", "Role", wantNamespaced},
		{"spark: {jobNamespaces: [a, b]}", "Role", wantNamespaced},
		{"spark: {jobNamespaces: []}", "ClusterRole", want},
		{"spark: {jobNamespaceSelector: spark=enabled}", "ClusterRole", want},
	} {
		// With the optional features on, whose rules the chart drops when they are off (the
		// values tests check that).
		r := mustRender(t, optionalFeaturesOn+"\n"+tc.values)
		objs := r.find(rbacTmpl, tc.kind, "spark-operator-controller")
		if len(objs) == 0 {
			t.Errorf("values %q: no operator %s rendered", tc.values, tc.kind)
		}
		for _, o := range objs {
			if got := rulesOf(t, o); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("values %q: %s has rules\n%s\nwant those of config/rbac/role.yaml\n%s", tc.values, o, toYAML(got), toYAML(tc.want))
			}
		}
	}
}

// optionalFeaturesOn are chart values that turn on the features whose rules the chart grants only
// when they are enabled: batch schedulers and driver PodDisruptionBudgets.
const optionalFeaturesOn = "controller: {batchScheduler: {enable: true}, driverPodDisruptionBudget: {enable: true}}"

// alphaNamespaced are the namespaced resources of alpha APIs that the test API server does not serve
// (scheduling.k8s.io/v1alpha2 needs feature gates): Kubernetes 1.36's Workload and PodGroup.
var alphaNamespaced = map[string]bool{"scheduling.k8s.io/workloads": true, "scheduling.k8s.io/podgroups": true}

// namespacedResource asks the API server's discovery whether resource (plural, maybe with a
// subresource) of group is namespaced.
func namespacedResource(t *testing.T, group, resource string) bool {
	t.Helper()
	resource, _, _ = strings.Cut(resource, "/")
	if alphaNamespaced[group+"/"+resource] {
		return true
	}
	gvk, err := env.Client.RESTMapper().KindFor(schema.GroupVersionResource{Group: group, Resource: resource})
	if err != nil {
		t.Fatalf("%s.%s: %v", resource, group, err)
	}
	mapping, err := env.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s: %v", gvk, err)
	}
	return mapping.Scope.Name() == meta.RESTScopeNameNamespace
}

// TestChartRBACIsConfigRBAC checks that the chart grants the Spark driver and leader election the
// same rules as the plain manifests in config/rbac.
func TestChartRBACIsConfigRBAC(t *testing.T) {
	r := mustRender(t, "")
	pairs := []struct {
		chart  []rendered
		config string
		kind   string
	}{
		{r.find(sparkTmpl, "Role", "spark-operator-spark"), "config/spark-rbac/spark_driver.yaml", "Role"},
		{r.find(rbacTmpl, "Role", "spark-operator-controller-leader-election"), "config/rbac/leader_election_role.yaml", "Role"},
	}
	for _, p := range pairs {
		if len(p.chart) != 1 {
			t.Fatalf("the chart renders %d objects for %s", len(p.chart), p.config)
		}
		var cfg []rendered
		for _, o := range readManifestFile(t, p.config) {
			if o.obj.GetKind() == p.kind {
				cfg = append(cfg, o)
			}
		}
		if len(cfg) != 1 {
			t.Fatalf("%s has %d %ss", p.config, len(cfg), p.kind)
		}
		if got, want := rulesOf(t, p.chart[0]), rulesOf(t, cfg[0]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s has rules\n%s\n%s has\n%s", p.chart[0], toYAML(got), p.config, toYAML(want))
		}
	}
}

// rulesOf returns the rules of a Role or ClusterRole.
func rulesOf(t *testing.T, o rendered) []rbacv1.PolicyRule {
	t.Helper()
	var role rbacv1.ClusterRole // Role and ClusterRole have the same rules field
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.obj.Object, &role); err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	return role.Rules
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.RepoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// globNames returns the base names of the files matching pattern, relative to the repository root.
func globNames(t *testing.T, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(env.RepoRoot, pattern))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	sort.Strings(names)
	return names
}
