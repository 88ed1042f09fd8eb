package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
	"github.com/sparkop/spark-operator/internal/sparkctl/printing"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// decodeYAML decodes the first document of text, failing the test on error.
func decodeYAML(t *testing.T, text string) *manifest.Application {
	t.Helper()
	docs, err := manifest.SplitDocuments("test.yaml", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	a, err := manifest.DecodeApplication(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// lintYAML lints one manifest given as text, from dir, with --kube-scheduler-names kube.
func lintYAML(t *testing.T, dir, text string, kube ...string) []finding {
	t.Helper()
	return lintApplication(decodeYAML(t, text), dir, kube...)
}

// inBothKinds returns, by kind, a SparkApplication "team/tmpl" with spec (YAML, unindented) and a
// ScheduledSparkApplication whose template is spec, with the prefix of the spec's fields in findings
// ("spec." or "spec.template.").
func inBothKinds(spec string) map[string]struct{ text, prefix string } {
	const head = "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: %s\nmetadata: {name: tmpl, namespace: team}\nspec:\n"
	return map[string]struct{ text, prefix string }{
		"SparkApplication": {fmt.Sprintf(head, "SparkApplication") + indent(spec, "  "), "spec."},
		"ScheduledSparkApplication": {fmt.Sprintf(head, "ScheduledSparkApplication") + "  schedule: \"@daily\"\n  template:\n" + indent(spec, "    "),
			"spec.template."},
	}
}

// templateSpec is the spec of the pod-template tests, with %s for the driver's and the executor's
// template (YAML, indented by four).
const templateSpec = `sparkVersion: 3.5.3
image: spark:3.5.3
mainClass: org.apache.spark.examples.SparkPi
mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
driver:
  memory: 512m
  template:
    spec:
      %s
executor:
  memory: 512m
  template:
    spec:
      %s
`

// expect is a finding a test wants: its severity, and substrings of its field and message.
type expect struct{ severity, field, message string }

func hasFinding(findings []finding, e expect) bool {
	return slices.ContainsFunc(findings, func(f finding) bool {
		return f.Severity == e.severity && strings.Contains(f.Field, e.field) && strings.Contains(f.Message, e.message)
	})
}

func TestLintFindings(t *testing.T) {
	dir := t.TempDir()
	util.WriteFile(t, dir, "main.py", 0, "print(1)\n")
	cases := map[string]struct {
		yaml string
		want []expect
		// none are severities that must not appear.
		none []string
	}{
		"clean": {yaml: util.SparkPiYAML(t, nil), none: []string{severityError, severityWarning}},
		"unknown field with suggestion": {
			yaml: strings.Replace(util.SparkPiYAML(t, nil), "mainClass:", "mainclass:", 1),
			want: []expect{{severityError, "spec.mainclass", `did you mean "mainClass"`}},
		},
		"misspelt nested field": {
			yaml: strings.Replace(util.SparkPiYAML(t, nil), "  executor:\n", "  executor:\n    instnces: 3\n", 1),
			want: []expect{{severityError, "spec.executor.instnces", `did you mean "instances"`}},
		},
		"local files": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.Python().MainApplicationFile("main.py").Spec(func(s *v1beta2.SparkApplicationSpec) {
					s.Deps.PyFiles = []string{"file:///nowhere/x.zip", "s3a://b/y.zip"}
				})
			}),
			want: []expect{
				{severityError, "spec.mainApplicationFile", "it exists here (9 B)"},
				{severityError, "spec.deps.pyFiles[0]", "does not exist here either"},
			},
		},
		"denied, refused and overridden conf": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.SparkConf("spark.kubernetes.container.image", "x").SparkConf("spark.driver.host", "h").
					SparkConf("spark.app.name", "n").SparkConf("spark.kubernetes.namespace", "other").
					SparkConf("spark.kubernetes.file.upload.path", "s3a://b").SparkConf("fs.s3a.endpoint", "http://minio").
					SparkConf("spark.executor.memory", "4g").SparkConf("spark.jars", "s3a://b/x.jar").
					HadoopConf("spark.hadoop.fs.s3a.impl", "x")
			}),
			want: []expect{
				{severityError, "sparkConf[spark.kubernetes.container.image]", "use spec.image"},
				{severityError, "sparkConf[spark.driver.host]", "refused"},
				{severityWarning, "sparkConf[spark.app.name]", "ignored"},
				{severityError, "sparkConf[spark.kubernetes.namespace]", `"other" differs`},
				{severityWarning, "sparkConf[spark.kubernetes.file.upload.path]", "does not upload"},
				{severityWarning, "sparkConf[fs.s3a.endpoint]", "Hadoop setting"},
				{severityWarning, "sparkConf[spark.executor.memory]", `overridden by spec.executor.memory="512m"`},
				{severityWarning, "sparkConf[spark.jars]", "replaced by spec.deps.jars"},
				{severityWarning, "hadoopConf[spark.hadoop.fs.s3a.impl]", "prefix"},
			},
		},
		"packages without ivy (seed 004)": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.SparkConf("spark.jars.packages", "org.apache.hadoop:hadoop-aws:3.3.4")
			}),
			want: []expect{{severityInfo, "sparkConf[spark.jars.packages]", "the operator sets spark.jars.ivy=/tmp/.ivy2"}},
			none: []string{severityError, severityWarning},
		},
		"packages with ivy in the read-only home": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.Spec(func(s *v1beta2.SparkApplicationSpec) { s.Deps.Packages = []string{"org.postgresql:postgresql:42.3.3"} }).
					SparkConf("spark.jars.ivy", "/home/spark/.ivy2")
			}),
			want: []expect{{severityWarning, "sparkConf[spark.jars.ivy]", "probably not writable"}},
		},
		"packages with a relative ivy": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.SparkConf("spark.jars.packages", "a:b:1").SparkConf("spark.jars.ivy", "~/.ivy2")
			}),
			want: []expect{{severityWarning, "sparkConf[spark.jars.ivy]", "not an absolute path"}},
		},
		"packages on a read-only root filesystem": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.SparkConf("spark.jars.packages", "a:b:1").Driver(func(d *v1beta2.DriverSpec) {
					d.SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: wrappers.Ptr(true)}
				})
			}),
			want: []expect{{severityError, "sparkConf[spark.jars.packages]", "root filesystem is read-only"}},
		},
		"packages on a read-only root filesystem with /tmp mounted": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.SparkConf("spark.jars.packages", "a:b:1").EmptyDirVolume("tmp", "/tmp").Driver(func(d *v1beta2.DriverSpec) {
					d.SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: wrappers.Ptr(true)}
				})
			}),
			want: []expect{{severityInfo, "sparkConf[spark.jars.packages]", "spark.jars.ivy=/tmp/.ivy2"}},
			none: []string{severityError},
		},
		"memory notation and minimum heap": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.ExecutorMemory("2Gi").DriverMemory("300m")
			}),
			want: []expect{
				{severityError, "spec.executor.memory", `"2Gi" is Kubernetes notation, which Spark cannot read; write 2g`},
				{severityError, "spec.driver.memory", "heap 300Mi is below Spark's minimum of 450Mi"},
			},
		},
		"refused by the submitter": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.DriverLabel("spark-role", "x")
			}),
			want: []expect{{severityError, "spec.driver.labels", "set by Spark itself"}},
		},
		"python with main class, OnFailure without retries, unbounded dynamic allocation": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) {
				w.Python().MainClass("x.Y").RestartPolicy(v1beta2.RestartPolicyOnFailure).Spec(func(s *v1beta2.SparkApplicationSpec) {
					s.DynamicAllocation = &v1beta2.DynamicAllocation{Enabled: true}
				})
			}),
			want: []expect{
				{severityWarning, "spec.mainClass", "ignored for a Python application"},
				{severityWarning, "spec.restartPolicy", "never retries"},
				{severityWarning, "spec.dynamicAllocation.maxExecutors", "without bound"},
			},
		},
		"bad name": {
			yaml: util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) { w.Name("Etl_Job") }),
			want: []expect{{severityError, "metadata.name", "not a DNS-1035 label"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			findings := lintYAML(t, dir, tc.yaml)
			for _, e := range tc.want {
				if !hasFinding(findings, e) {
					t.Errorf("missing %s on %s containing %q; findings:\n%s", e.severity, e.field, e.message, dumpFindings(findings))
				}
			}
			for _, sev := range tc.none {
				for _, f := range findings {
					if f.Severity == sev {
						t.Errorf("unexpected %s: %s: %s", sev, f.Field, f.Message)
					}
				}
			}
			for _, f := range findings {
				if f.Severity != severityInfo && f.Explanation == "" {
					t.Errorf("%s %s has no explanation", f.Severity, f.Field)
				}
			}
		})
	}
}

func dumpFindings(findings []finding) string {
	var b strings.Builder
	for _, f := range findings {
		b.WriteString("  " + f.Severity + " " + f.Field + ": " + f.Message + "\n")
	}
	return b.String()
}

// TestLintScheduled lints the template of a ScheduledSparkApplication, with its paths.
func TestLintScheduled(t *testing.T) {
	text := `apiVersion: sparkoperator.k8s.io/v1beta2
kind: ScheduledSparkApplication
metadata: {name: nightly, namespace: team}
spec:
  schedule: "@daily"
  template:
    type: Python
    sparkVersion: 3.5.3
    image: spark:3.5.3
    mainApplicationFile: job.py
    sparkConf: {spark.master: "k8s://x"}
    driver: {memory: 512m}
    executor: {memory: 512m}
`
	findings := lintYAML(t, t.TempDir(), text)
	for _, e := range []expect{
		{severityError, "spec.template.mainApplicationFile", "file on your disk"},
		{severityError, "spec.template.sparkConf[spark.master]", "not allowed"},
		{severityInfo, "spec.template.driver", "driver pod memory 896Mi"},
	} {
		if !hasFinding(findings, e) {
			t.Errorf("missing %+v:\n%s", e, dumpFindings(findings))
		}
	}
}

// TestLintExamples: every example lints without errors, and the memory arithmetic of lint agrees
// with the driver pod the submitter renders.
func TestLintExamples(t *testing.T) {
	files, err := filepath.Glob("../../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			docs, err := manifest.ReadDocuments(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := manifest.DecodeApplication(docs[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range lintApplication(a, t.TempDir()) {
				if fd.Severity == severityError {
					t.Errorf("error: %s: %s", fd.Field, fd.Message)
				}
				if strings.Contains(fd.Message, "driver pod requests") {
					t.Errorf("lint's driver memory disagrees with the rendered pod: %s", fd.Message)
				}
			}
		})
	}
}

// TestRoleMemory checks the memory arithmetic with the vectors of docs/submission.md, against the
// rendered driver pod, and the executor's extra terms.
func TestRoleMemory(t *testing.T) {
	cases := map[string]struct {
		mod            func(*wrappers.SparkApplicationWrapper)
		driver, execMi int64
	}{
		"1g":        {func(w *wrappers.SparkApplicationWrapper) { w.DriverMemory("1g").ExecutorMemory("1g") }, 1408, 1408},
		"4g":        {func(w *wrappers.SparkApplicationWrapper) { w.DriverMemory("4g").ExecutorMemory("4g") }, 4505, 4505},
		"python 1g": {func(w *wrappers.SparkApplicationWrapper) { w.Python().DriverMemory("1g").ExecutorMemory("1g") }, 1433, 1433},
		"1g + 512m": {func(w *wrappers.SparkApplicationWrapper) {
			w.DriverMemory("1g").MemoryOverhead(wrappers.DriverRole, "512m")
		}, 1536, 896},
		"8g, factor 0.2": {func(w *wrappers.SparkApplicationWrapper) {
			w.DriverMemory("8g").ExecutorMemory("8g").SparkConf("spark.driver.memoryOverheadFactor", "0.2")
		}, 9830, 9011},
		"executor factor": {func(w *wrappers.SparkApplicationWrapper) {
			w.ExecutorMemory("8g").SparkConf("spark.executor.memoryOverheadFactor", "0.2")
		}, 896, 9830},
		"off-heap": {func(w *wrappers.SparkApplicationWrapper) {
			w.ExecutorMemory("1g").SparkConf("spark.memory.offHeap.enabled", "true").SparkConf("spark.memory.offHeap.size", "1g")
		}, 896, 2432},
		"pyspark memory": {func(w *wrappers.SparkApplicationWrapper) {
			w.Python().ExecutorMemory("1g").SparkConf("spark.executor.pyspark.memory", "512m")
		}, 896, 1945},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := wrappers.MakeSparkApplication("pi", "ns").UID("00000000-0000-0000-0000-000000000001")
			tc.mod(w)
			app := w.Obj()
			res, err := submission.Render(app, submission.NewSubmission(types.UID("u"), "1", 1, time.Unix(0, 0)), submission.Options{})
			if err != nil {
				t.Fatal(err)
			}
			d, err := roleMemory(app, res.Conf, "driver")
			if err != nil {
				t.Fatal(err)
			}
			pod := res.DriverPod
			var podMi int64
			for _, c := range pod.Spec.Containers {
				if c.Name == cmdutil.SparkContainer(pod, true) {
					q := c.Resources.Requests[corev1.ResourceMemory]
					podMi = q.Value() >> 20
				}
			}
			if d.total() != tc.driver || podMi != tc.driver {
				t.Errorf("driver = %dMi (%s), pod %dMi; want %dMi", d.total(), d, podMi, tc.driver)
			}
			e, err := roleMemory(app, res.Conf, "executor")
			if err != nil {
				t.Fatal(err)
			}
			if e.total() != tc.execMi {
				t.Errorf("executor = %dMi (%s); want %dMi", e.total(), e, tc.execMi)
			}
		})
	}
}

// TestDeniedConfMatchesCRD keeps lint's list of refused sparkConf keys equal to the CRD's CEL rule.
func TestDeniedConfMatchesCRD(t *testing.T) {
	data, err := os.ReadFile("../../../config/crd/bases/sparkoperator.k8s.io_sparkapplications.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "rule:") && strings.Contains(line, "spark.master") {
			rule = line
		}
	}
	if rule == "" {
		t.Fatal("no CEL rule on spec.sparkConf naming spark.master in the CRD")
	}
	// The rule continues on following lines in the YAML; take every quoted key after "rule:".
	start := strings.Index(string(data), rule)
	end := strings.Index(string(data)[start:], "in self.sparkConf")
	keys := regexp.MustCompile(`''(spark\.[^']+)''`).FindAllStringSubmatch(string(data)[start:start+end], -1)
	var crd []string
	for _, k := range keys {
		crd = append(crd, k[1])
	}
	slices.Sort(crd)
	ours := printing.SortedStrings(deniedConf)
	if !slices.Equal(crd, ours) {
		t.Errorf("CRD refuses %v\nlint refuses %v", crd, ours)
	}
}

func TestDecodeStrict(t *testing.T) {
	text := `apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: x}
spec:
  sparkVersion: 3.5.3
  mainApplicationFile: local:///x.jar
  MainClass: a.B
  driver: {cores: 1, memroy: 1g}
  executor: {instances: 1}
  volumes:
  - name: v
    emptyDirr: {}
`
	app := &v1beta2.SparkApplication{}
	problems, err := manifest.DecodeStrict([]byte(text), app)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range problems {
		got[p.Path] = p.Suggestion
	}
	want := map[string]string{"spec.MainClass": "mainClass", "spec.driver.memroy": "memory", "spec.volumes[0].emptyDirr": "emptyDir"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("problem %s: suggestion %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	// A wrong type names the field.
	_, err = manifest.DecodeStrict([]byte("spec:\n  driver:\n    cores: one\n"), &v1beta2.SparkApplication{})
	if err == nil || !strings.Contains(err.Error(), "spec.driver.cores") || !strings.Contains(err.Error(), "a number") {
		t.Errorf("type error = %v", err)
	}

	// A key given twice is reported.
	problems, err = manifest.DecodeStrict([]byte("metadata:\n  name: a\n  name: b\n"), &v1beta2.SparkApplication{})
	if err != nil || len(problems) != 1 || !problems[0].Duplicate {
		t.Errorf("duplicate key: problems %+v, err %v", problems, err)
	}
}

func TestReadDocumentsKinds(t *testing.T) {
	text := "# comment only\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: sparkoperator.k8s.io/v1beta1\nkind: SparkApplication\n"
	docs, err := manifest.SplitDocuments("f.yaml", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("documents = %d, want 2 (the comment-only one is skipped)", len(docs))
	}
	if _, err := manifest.DecodeApplication(docs[0]); err == nil || !strings.Contains(err.Error(), "is not a sparkoperator.k8s.io/v1beta2 SparkApplication") {
		t.Errorf("ConfigMap: %v", err)
	}
	if _, err := manifest.DecodeApplication(docs[1]); err == nil || !strings.Contains(err.Error(), "v1beta1 is not served") {
		t.Errorf("v1beta1: %v", err)
	}
}

// TestLintCommand runs the command: text and JSON output, exit status, --strict and --quiet.
func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	good := util.WriteFile(t, dir, "good.yaml", 0, util.SparkPiYAML(t, nil))
	warn := util.WriteFile(t, dir, "warn.yaml", 0, util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) { w.SparkConf("spark.app.name", "x") }))
	bad := util.WriteFile(t, dir, "bad.yaml", 0, util.SparkPiYAML(t, func(w *wrappers.SparkApplicationWrapper) { w.MainApplicationFile("app.jar") }))

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := NewCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs(args)
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("-f", good)
	if err != nil || !strings.Contains(out, "0 errors, 0 warnings, 2 notes") {
		t.Errorf("good: err %v, output:\n%s", err, out)
	}
	out, err = run("-f", good, "-q")
	if err != nil || !strings.Contains(out, "  ok\n") {
		t.Errorf("good -q: err %v, output:\n%s", err, out)
	}
	if _, err = run("-f", warn); err != nil {
		t.Errorf("a warning fails without --strict: %v", err)
	}
	if _, err = run("-f", warn, "--strict"); err == nil {
		t.Error("a warning does not fail with --strict")
	}
	out, err = run("-f", bad, "-o", "json")
	if err == nil {
		t.Error("an error does not fail lint")
	}
	var reports []lintReport
	if jerr := json.Unmarshal([]byte(out), &reports); jerr != nil {
		t.Fatalf("JSON output: %v\n%s", jerr, out)
	}
	if len(reports) != 1 || reports[0].Name != "pi" || !hasFinding(reports[0].Findings, expect{severityError, "spec.mainApplicationFile", "file on your disk"}) {
		t.Errorf("JSON report: %+v", reports)
	}
	out, err = run("-f", dir)
	if err == nil || strings.Count(out, ".yaml: SparkApplication team/pi") != 3 {
		t.Errorf("directory: err %v, output:\n%s", err, out)
	}
	if _, err = run(); err == nil || !strings.Contains(err.Error(), "a manifest is required") {
		t.Errorf("no file: %v", err)
	}
}

// TestLintTemplateUnknownFields: a field a v1 PodTemplateSpec does not have, inside a driver or
// executor pod template, is a warning naming it (the API server keeps it, the operator drops it, as
// Spark would), not an error; create and render do not refuse the manifest for it.
func TestLintTemplateUnknownFields(t *testing.T) {
	spec := fmt.Sprintf(templateSpec, "securityContext: {runAsUser: 185, capabilities: {drop: [ALL]}}",
		"containers: [{name: spark-kubernetes-executor, imagePullPolicyy: Always}]")
	for name, tc := range inBothKinds(spec) {
		t.Run(name, func(t *testing.T) {
			findings := lintYAML(t, t.TempDir(), tc.text)
			for _, e := range []expect{
				{severityWarning, tc.prefix + "driver.template.spec.securityContext.capabilities", "unknown field of a pod template"},
				{severityWarning, tc.prefix + "executor.template.spec.containers[0].imagePullPolicyy", `did you mean "imagePullPolicy"`},
			} {
				if !hasFinding(findings, e) {
					t.Errorf("missing %+v:\n%s", e, dumpFindings(findings))
				}
			}
			for _, f := range findings {
				if f.Severity == severityError {
					t.Errorf("error finding: %s: %s", f.Field, f.Message)
				}
			}
			if a := decodeYAML(t, tc.text); slices.ContainsFunc(a.Problems, manifest.FieldProblem.Refused) {
				t.Errorf("problems refused by create and render: %+v", a.Problems)
			}
		})
	}
}

// TestLintTemplateWrongType: a value of the wrong type inside a pod template (which the CRD does not
// check below the template's top-level fields) is an error naming its path, its JSON type and what is
// expected, for an application and a scheduled application's template; decoding never fails for it.
func TestLintTemplateWrongType(t *testing.T) {
	spec := fmt.Sprintf(templateSpec, `containers: [{name: spark-kubernetes-driver, ports: "4040"}]`,
		"containers: [{name: c, resources: {limits: {cpu: lots}}}]")
	for name, tc := range inBothKinds(spec) {
		t.Run(name, func(t *testing.T) {
			findings := lintYAML(t, t.TempDir(), tc.text)
			for _, want := range []string{
				tc.prefix + "driver.template.spec.containers[0].ports",
				`string "4040" where an array is expected`,
				"executor.template.spec.containers[0].resources.limits[cpu]",
				`string "lots" where a resource.Quantity is expected`,
			} {
				found := false
				for _, f := range findings {
					if f.Severity == severityError && strings.Contains(f.Field+": "+f.Message, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error finding with %q:\n%s", want, dumpFindings(findings))
				}
			}
		})
	}
}

func indent(text, by string) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	return by + strings.Join(lines, "\n"+by) + "\n"
}
