package chart_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/internal/testing/util"
)

// This file checks the chart against Kubeflow's own chart, read from the Kubeflow Spark Operator's Go
// module at a pinned version in the module cache (`go mod download`), never copied into this
// repository: every key of Kubeflow's values.yaml is in values.schema.json, Kubeflow's values.yaml
// and ci/ci-values.yaml install, and so does every variant of values that Kubeflow's helm-unittest
// suites (tests/**/*_test.yaml) render.

// kubeflowModule is the Kubeflow Spark Operator release whose chart keys this chart accepts.
const kubeflowModule = "github.com/kubeflow/spark-operator/v2@v2.5.0"

var kubeflowDir struct {
	once sync.Once
	dir  string
	err  error
}

// kubeflowChartDir returns the directory of Kubeflow's chart (charts/spark-operator-chart) in the
// module cache, downloading the module through the Go module proxy when it is not there yet.
func kubeflowChartDir(t *testing.T) string {
	t.Helper()
	kubeflowDir.once.Do(func() {
		var dir string
		dir, kubeflowDir.err = util.ModuleDir(kubeflowModule)
		kubeflowDir.dir = filepath.Join(dir, "charts", "spark-operator-chart")
	})
	if kubeflowDir.err != nil {
		t.Fatal(kubeflowDir.err)
	}
	return kubeflowDir.dir
}

// flagDefinition matches a flag definition of Kubeflow's cobra commands, e.g.
// `command.Flags().IntVar(&webhookPort, "webhook-port", 9443, ...)`.
var flagDefinition = regexp.MustCompile(`Flags\(\)\.\w+Var\(&\w+, "([a-z0-9-]+)"`)

// kubeflowFlags returns the flag names of Kubeflow's `<command> start` (command is "controller" or
// "webhook"), read from its source in the module, with the zap flags it binds from
// controller-runtime.
func kubeflowFlags(t *testing.T, command string) map[string]bool {
	t.Helper()
	path := filepath.Join(kubeflowChartDir(t), "..", "..", "cmd", "operator", command, "start.go")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range flagDefinition.FindAllStringSubmatch(string(src), -1) {
		names[m[1]] = true
	}
	if len(names) < 10 {
		t.Fatalf("%s: found only the flags %v", path, names)
	}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	(&zap.Options{}).BindFlags(fs)
	fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return names
}

// readYAMLMap reads a YAML file into a map.
func readYAMLMap(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// ourSchema reads values.schema.json.
func ourSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.RepoRoot, chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := map[string]any{}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	return s
}

// resolve follows a local "$ref" (#/$defs/name) of a schema node.
func resolve(root, node map[string]any) map[string]any {
	for node != nil {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		next := any(root)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := next.(map[string]any)
			next = m[part]
		}
		node, _ = next.(map[string]any)
	}
	return node
}

// TestKubeflowValuesKeysInSchema checks that every key path of Kubeflow's values.yaml (into the
// items of lists of settings, such as controller.featureGates[].name) is a property of
// values.schema.json, and that every object of the schema that lists its properties refuses others.
func TestKubeflowValuesKeysInSchema(t *testing.T) {
	schema := ourSchema(t)
	kf := readYAMLMap(t, filepath.Join(kubeflowChartDir(t), "values.yaml"))
	var walk func(path string, value any, node map[string]any)
	walk = func(path string, value any, node map[string]any) {
		node = resolve(schema, node)
		switch v := value.(type) {
		case map[string]any:
			props, structured := node["properties"].(map[string]any)
			if !structured {
				return // a free-form object: labels, resources, affinity, ...
			}
			for key, sub := range v {
				p := strings.TrimPrefix(path+"."+key, ".")
				subNode, ok := props[key].(map[string]any)
				if !ok {
					t.Errorf("Kubeflow's values key %s is not in values.schema.json", p)
					continue
				}
				walk(p, sub, subNode)
			}
		case []any:
			items, _ := node["items"].(map[string]any)
			for i, item := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), item, items)
			}
		}
	}
	walk("", kf, schema)

	var strict func(path string, node map[string]any)
	strict = func(path string, node map[string]any) {
		if props, ok := node["properties"].(map[string]any); ok {
			if node["additionalProperties"] != false {
				t.Errorf("values.schema.json: %s lists its properties but does not refuse others (additionalProperties: false)", path)
			}
			for k, sub := range props {
				if m, ok := sub.(map[string]any); ok {
					strict(path+"."+k, m)
				}
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			strict(path+"[]", items)
		}
	}
	strict("(root)", schema)
	defs, _ := schema["$defs"].(map[string]any)
	for name, d := range defs {
		if m, ok := d.(map[string]any); ok {
			strict("$defs."+name, m)
		}
	}
}

// ourRefusals are the cases of Kubeflow's helm-unittest suites whose values Kubeflow's chart renders
// and this chart refuses on purpose, rather than ignoring a setting: case name -> a substring of our
// refusal, which names the key. Each is listed in the chart README's "Differences from Kubeflow".
var ourRefusals = map[string]string{
	// certManager.enable without the webhook would configure nothing.
	"tests/certmanager/certificate_test.yaml: Should not create Certificate if `webhook.enable` is `false`": "certManager.enable needs webhook.enable=true",
	"tests/certmanager/issuer_test.yaml: Should not create Issuer if `webhook.enable` is `false`":           "certManager.enable needs webhook.enable=true",
	// A UI Ingress without urlFormat would create no Ingress.
	"tests/controller/deployment_test.yaml: Should contain `--ingress-class-name` arg if `controller.uiIngress.enable` is set to `true` and `controller.uiIngress.ingressClassName` is set": "controller.uiIngress.enable needs controller.uiIngress.urlFormat",
	"tests/controller/deployment_test.yaml: Should contain `--ingress-tls` arg if `controller.uiIngress.enable` is set to `true` and `controller.uiIngress.tls` is set":                     "controller.uiIngress.enable needs controller.uiIngress.urlFormat",
	"tests/controller/deployment_test.yaml: Should contain `--ingress-annotations` arg if `controller.uiIngress.enable` is set to `true` and `controller.uiIngress.annotations` is set":     "controller.uiIngress.enable needs controller.uiIngress.urlFormat",
	// hostUsers: "true" (a string) is ignored by Kubeflow's chart.
	"tests/controller/deployment_test.yaml: Should should NOT include hostUsers when kubernetes version >= 1.30 but value is string": "at '/controller/hostUsers': got string, want null or boolean",
	"tests/webhook/deployment_test.yaml: Should should NOT include hostUsers when kubernetes version >= 1.30 but value is string":    "at '/webhook/hostUsers': got string, want null or boolean",
	// The case sets controller.maxDelay, a key that does not exist (workqueueRateLimiter.maxDelay does).
	"tests/controller/deployment_test.yaml: Should contain `--workqueue-ratelimiter-max-delay` arg if `controller.workqueueRateLimiter.maxDelay.enable` is set to `true` (2)": "additional properties 'maxDelay' not allowed",
	// A feature gate that does not exist (AnotherFeature) would stop the operator at start.
	"tests/controller/deployment_test.yaml: Should contain `--feature-gates` arg with multiple feature gates if `controller.featureGates` is set": "at '/controller/featureGates/1/name'",
}

// kubeflowInvalidObjects are the cases of Kubeflow's suites whose values give objects that the API
// server refuses, from Kubeflow's chart as from this one (its tests only render): they are rendered
// and their flags checked, but not applied. Case name -> why.
var kubeflowInvalidObjects = map[string]string{
	"tests/controller/deployment_test.yaml: Should add volume mounts if `controller.volumeMounts` is set":                "mounts volumes that the values do not define",
	"tests/controller/deployment_test.yaml: Should add volumes if `controller.volumes` is set":                           "replaces the volumes that the default volumeMounts mount",
	"tests/controller/deployment_test.yaml: Should add container securityContext if `controller.securityContext` is set": "sets fsGroup, a pod-level field, in a container's securityContext",
	"tests/webhook/deployment_test.yaml: Should add volume mounts if `webhook.volumeMounts` is set":                      "mounts volumes that the values do not define",
	"tests/webhook/deployment_test.yaml: Should add volumes if `webhook.volumes` is set":                                 "replaces the volumes that the default volumeMounts mount",
	"tests/webhook/deployment_test.yaml: Should add container securityContext if `webhook.securityContext` is set":       "sets fsGroup, a pod-level field, in a container's securityContext",
}

// kubeflowVariant is a set of values taken from Kubeflow's chart, and whether Kubeflow's own chart
// refuses them (failedTemplate in its helm-unittest suite).
type kubeflowVariant struct {
	name               string
	release, namespace string
	values             map[string]any
	kubeflowRefuses    string
}

// kubeflowVariants returns Kubeflow's values.yaml and ci/ci-values.yaml, and the values of every case
// of Kubeflow's helm-unittest suites (their `set:`, with dotted keys expanded). Each is applied on
// top of webhook.enable=true, Kubeflow's default for the one default of this chart (the webhook is
// off) that would otherwise leave Kubeflow's webhook cases untested or refused (certManager).
func kubeflowVariants(t *testing.T) []kubeflowVariant {
	t.Helper()
	dir := kubeflowChartDir(t)
	base := func() map[string]any { return map[string]any{"webhook": map[string]any{"enable": true}} }
	out := []kubeflowVariant{
		{name: "values.yaml", release: defaultRelease, namespace: defaultNamespace, values: readYAMLMap(t, filepath.Join(dir, "values.yaml"))},
		{name: "ci/ci-values.yaml", release: defaultRelease, namespace: defaultNamespace, values: mergeValues(base(), readYAMLMap(t, filepath.Join(dir, "ci", "ci-values.yaml")))},
	}
	suites, err := filepath.Glob(filepath.Join(dir, "tests", "*", "*_test.yaml"))
	if err != nil || len(suites) == 0 {
		t.Fatalf("no helm-unittest suites in %s: %v", dir, err)
	}
	sort.Strings(suites)
	for _, path := range suites {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var suite struct {
			Release struct{ Name, Namespace string }
			Tests   []struct {
				It      string
				Set     map[string]any
				Asserts []map[string]any
			}
		}
		if err := yaml.Unmarshal(data, &suite); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rel, _ := filepath.Rel(dir, path)
		names := map[string]int{}
		for _, tc := range suite.Tests {
			// Two cases of a suite may have the same name: the second is "<name> (2)".
			name := rel + ": " + tc.It
			if names[name]++; names[name] > 1 {
				name = fmt.Sprintf("%s (%d)", name, names[name])
			}
			v := kubeflowVariant{
				name:      name,
				release:   suite.Release.Name,
				namespace: suite.Release.Namespace,
				values:    mergeValues(base(), expandDotted(tc.Set)),
			}
			if v.release == "" {
				v.release = defaultRelease
			}
			if v.namespace == "" {
				v.namespace = defaultNamespace
			}
			for _, a := range tc.Asserts {
				if f, ok := a["failedTemplate"].(map[string]any); ok {
					v.kubeflowRefuses = fmt.Sprint(f["errorMessage"])
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// expandDotted turns helm-unittest's dotted keys of `set` ("spark.jobNamespaces": [...]) into nested
// maps; the keys of the values themselves (annotations such as "cert-manager.io/cluster-issuer") are
// kept.
func expandDotted(set map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range set {
		parts := strings.Split(k, ".")
		nested := v
		for i := len(parts) - 1; i > 0; i-- {
			nested = map[string]any{parts[i]: nested}
		}
		mergeValues(out, map[string]any{parts[0]: nested})
	}
	return out
}

// mergeValues returns base with over merged into it, map by map (over wins).
func mergeValues(base, over map[string]any) map[string]any {
	for k, v := range over {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = mergeValues(bm, vm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// TestKubeflowVariants renders the chart with every variant of Kubeflow's values (see
// kubeflowVariants): each renders, except where Kubeflow's chart refuses the values too (this chart
// may then refuse them or not) and where Kubeflow's refusal is about cluster capabilities (this chart
// does not check for the cert-manager or Prometheus Operator APIs, the API server does). Every
// rendered Deployment's arguments are parsed by the real commands, and every distinct object
// rendered is sent to the API server as a server-side apply and a strict create, both dry run.
func TestKubeflowVariants(t *testing.T) {
	ctx := context.Background()
	installPodMonitorCRD(t)
	installStandInCRD(t, "cert-manager.io", "Issuer", "issuers")
	installStandInCRD(t, "cert-manager.io", "Certificate", "certificates")

	type distinct struct {
		obj     rendered
		variant string
	}
	seen := map[string]bool{}
	var objects []distinct
	namespaces := map[string]bool{}
	nRendered := 0
	for _, v := range kubeflowVariants(t) {
		values, err := yaml.Marshal(v.values)
		if err != nil {
			t.Fatal(err)
		}
		r, err := renderChart(t, v.release, v.namespace, string(values))
		if want, refused := ourRefusals[v.name]; refused {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want a refusal containing %q", v.name, err, want)
			}
			continue
		}
		if err != nil {
			if v.kubeflowRefuses == "" {
				t.Errorf("%s: Kubeflow's chart renders these values, ours refuses them: %v\nvalues:\n%s", v.name, err, values)
			} else {
				t.Logf("%s: refused by both charts (Kubeflow's: %q; ours: %v)", v.name, v.kubeflowRefuses, err)
			}
			continue
		}
		nRendered++
		t.Run(v.name, func(t *testing.T) {
			for _, tmpl := range []string{deployTmpl, webhookDeployTmpl} {
				for _, d := range r.find(tmpl, "Deployment", "") {
					a, _ := lookup(d.obj.Object, args)
					checkOperatorFlags(t, toStrings(a))
				}
			}
		})
		if reason, invalid := kubeflowInvalidObjects[v.name]; invalid {
			t.Logf("%s: not applied: Kubeflow's case %s", v.name, reason)
			continue
		}
		for _, o := range r.objects {
			key, err := json.Marshal(o.obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			if seen[string(key)] {
				continue
			}
			seen[string(key)] = true
			objects = append(objects, distinct{o, v.name})
			if ns := o.obj.GetNamespace(); ns != "" {
				namespaces[ns] = true
			}
		}
	}
	for ns := range namespaces {
		util.EnsureNamespace(t, env.Client, ns)
	}
	t.Logf("%d variants rendered, %d distinct objects applied", nRendered, len(objects))
	for _, o := range objects {
		if err := dryRunApply(ctx, o.obj.obj); err != nil {
			t.Errorf("%s (first rendered by %q): %v", o.obj, o.variant, err)
		}
	}
}
