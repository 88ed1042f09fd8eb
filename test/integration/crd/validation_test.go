package crd_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// badCase is an object built from a valid base by small changes, which admission must reject.
type badCase struct {
	name string
	// scheduled builds a ScheduledSparkApplication instead of a SparkApplication.
	scheduled bool
	app       func(*wrappers.SparkApplicationWrapper)
	sched     func(*wrappers.ScheduledSparkApplicationWrapper)
	// raw changes the object after conversion to unstructured, for what the Go types cannot say
	// (missing required fields, wrong JSON types, unknown fields).
	raw func(obj map[string]any)
	// want are substrings of the error message: the field path and/or the rule's message.
	want []string
	// badRequest expects a 400 BadRequest (strict field validation of unknown fields) instead of a
	// 422 Invalid.
	badRequest bool
	// needsRule, when set, names the schema rule that is still missing: the case is skipped while
	// the object is accepted, and checked as soon as a rule rejects it.
	needsRule string
}

// at returns the map at a dotted path of obj ("spec.driver").
func at(obj map[string]any, path string) map[string]any {
	m := obj
	for _, k := range strings.Split(path, ".") {
		m = m[k].(map[string]any)
	}
	return m
}

func TestRejectedAtAdmission(t *testing.T) {
	name64 := "spark-pi-" + strings.Repeat("x", 55)
	if len(name64) != 64 {
		t.Fatalf("name64 has %d characters", len(name64))
	}
	cases := []badCase{
		// Enums.
		{name: "type not an enum value", app: func(w *wrappers.SparkApplicationWrapper) { w.Type("Go") },
			want: []string{"spec.type", `Unsupported value: "Go"`}},
		{name: "mode not an enum value", app: func(w *wrappers.SparkApplicationWrapper) { w.Mode("standalone") },
			want: []string{"spec.mode", `Unsupported value: "standalone"`}},
		{name: "in-cluster-client mode", app: func(w *wrappers.SparkApplicationWrapper) { w.Mode(v1beta2.DeployModeInClusterClient) },
			want: []string{"spec.mode", "Unsupported value"}},
		{name: "client mode", app: func(w *wrappers.SparkApplicationWrapper) { w.Mode(v1beta2.DeployModeClient) },
			want: []string{"spec.mode", "client mode is not supported"}},
		{name: "restartPolicy type not an enum value", app: func(w *wrappers.SparkApplicationWrapper) { w.RestartPolicy("Sometimes") },
			want: []string{"spec.restartPolicy.type", `Unsupported value: "Sometimes"`}},
		{name: "imagePullPolicy not an enum value", app: func(w *wrappers.SparkApplicationWrapper) { w.ImagePullPolicy("Daily") },
			want: []string{"spec.imagePullPolicy", "Unsupported value"}},
		{name: "pythonVersion not an enum value", app: func(w *wrappers.SparkApplicationWrapper) {
			w.Python().Spec(func(s *v1beta2.SparkApplicationSpec) { s.PythonVersion = wrappers.Ptr("4") })
		},
			want: []string{"spec.pythonVersion", "Unsupported value"}},
		{name: "secretType not an enum value", app: func(w *wrappers.SparkApplicationWrapper) { w.DriverSecret("s", "/mnt/s", "Kerberos") },
			want: []string{"spec.driver.secrets[0].secretType", "Unsupported value"}},

		// Numbers.
		{name: "negative executor instances", app: func(w *wrappers.SparkApplicationWrapper) { w.ExecutorInstances(-1) },
			want: []string{"spec.executor.instances", "greater than or equal to 0"}},
		{name: "zero executor instances without suspend", app: func(w *wrappers.SparkApplicationWrapper) { w.ExecutorInstances(0) },
			want: []string{"spec.executor.instances", "only together with suspend: true"}},
		{name: "driver cores 0", app: func(w *wrappers.SparkApplicationWrapper) { w.Cores(wrappers.DriverRole, 0) },
			want: []string{"spec.driver.cores", "greater than or equal to 1"}},
		{name: "executor cores 0", app: func(w *wrappers.SparkApplicationWrapper) { w.Cores(wrappers.ExecutorRole, 0) },
			want: []string{"spec.executor.cores", "greater than or equal to 1"}},
		{name: "negative onFailureRetries", app: func(w *wrappers.SparkApplicationWrapper) {
			w.RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(-1, 0)
		}, want: []string{"spec.restartPolicy.onFailureRetries", "greater than or equal to 0"}},
		{name: "negative onSubmissionFailureRetries", app: func(w *wrappers.SparkApplicationWrapper) {
			w.RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(-2, 0)
		}, want: []string{"spec.restartPolicy.onSubmissionFailureRetries"}},
		{name: "zero onFailureRetryInterval", app: func(w *wrappers.SparkApplicationWrapper) {
			w.RestartPolicy(v1beta2.RestartPolicyOnFailure).Spec(func(s *v1beta2.SparkApplicationSpec) {
				s.RestartPolicy.OnFailureRetryInterval = wrappers.Ptr(int64(0))
			})
		}, want: []string{"spec.restartPolicy.onFailureRetryInterval", "greater than or equal to 1"}},
		{name: "prometheus port below 1024", app: func(w *wrappers.SparkApplicationWrapper) {
			w.PrometheusMonitoring("/prometheus/jmx_prometheus_javaagent-0.11.0.jar", 80)
		}, want: []string{"spec.monitoring.prometheus.port"}},
		{name: "UI service port 0", app: func(w *wrappers.SparkApplicationWrapper) { w.SparkUIServicePort(0) },
			want: []string{"spec.sparkUIOptions.servicePort"}},
		{name: "negative driver terminationGracePeriodSeconds", app: func(w *wrappers.SparkApplicationWrapper) { w.DriverTerminationGracePeriod(-1) },
			want: []string{"spec.driver.terminationGracePeriodSeconds"}},

		// Required fields.
		{name: "missing mainApplicationFile", raw: func(o map[string]any) { delete(at(o, "spec"), "mainApplicationFile") },
			want: []string{"spec.mainApplicationFile: Required value"}},
		{name: "empty mainApplicationFile", app: func(w *wrappers.SparkApplicationWrapper) { w.MainApplicationFile("") },
			want: []string{"spec.mainApplicationFile"}},
		{name: "missing sparkVersion", raw: func(o map[string]any) { delete(at(o, "spec"), "sparkVersion") },
			want: []string{"spec.sparkVersion: Required value"}},
		{name: "empty sparkVersion", app: func(w *wrappers.SparkApplicationWrapper) { w.SparkVersion("") },
			want: []string{"spec.sparkVersion"}},
		{name: "missing driver", raw: func(o map[string]any) { delete(at(o, "spec"), "driver") },
			want: []string{"spec.driver: Required value"}},
		{name: "missing executor", raw: func(o map[string]any) { delete(at(o, "spec"), "executor") },
			want: []string{"spec.executor: Required value"}},
		{name: "missing spec", raw: func(o map[string]any) { delete(o, "spec") },
			want: []string{"spec: Required value"}},

		// Denied sparkConf keys (the operator sets them from dedicated fields).
		{name: "sparkConf spark.master", app: func(w *wrappers.SparkApplicationWrapper) { w.SparkConf("spark.master", "local[*]") },
			want: []string{"spec.sparkConf", "sparkConf key spark.master is not allowed"}},
		{name: "sparkConf spark.kubernetes.container.image", app: func(w *wrappers.SparkApplicationWrapper) {
			w.SparkConf("spark.kubernetes.container.image", "evil:latest")
		}, want: []string{"sparkConf key spark.kubernetes.container.image is not allowed", "use spec.image"}},
		{name: "sparkConf driver serviceAccountName", app: func(w *wrappers.SparkApplicationWrapper) {
			w.SparkConf("spark.kubernetes.authenticate.driver.serviceAccountName", "admin")
		}, want: []string{"sparkConf key spark.kubernetes.authenticate.driver.serviceAccountName is not allowed", "serviceAccount"}},
		{name: "sparkConf executor image", app: func(w *wrappers.SparkApplicationWrapper) {
			w.SparkConf("spark.kubernetes.executor.container.image", "evil:latest")
		}, want: []string{"sparkConf key spark.kubernetes.executor.container.image is not allowed"}},

		// Names.
		{name: "name with upper case", app: func(w *wrappers.SparkApplicationWrapper) { w.Name("Spark-Pi") },
			want: []string{"metadata.name"}},
		{name: "name starting with a digit", app: func(w *wrappers.SparkApplicationWrapper) { w.Name("1spark-pi") },
			want: []string{"metadata.name must be a DNS-1035 label"}},
		{name: "name of 64 characters", app: func(w *wrappers.SparkApplicationWrapper) { w.Name(name64) },
			want: []string{"metadata.name must be a DNS-1035 label"}},
		{name: "name with a dot", app: func(w *wrappers.SparkApplicationWrapper) { w.Name("spark.pi") },
			want: []string{"metadata.name must be a DNS-1035 label"}},
		{name: "driver podName with upper case", app: func(w *wrappers.SparkApplicationWrapper) { w.DriverPodName("Driver") },
			want: []string{"spec.driver.podName"}},

		// Node selectors.
		{name: "spec.nodeSelector with driver.nodeSelector", app: func(w *wrappers.SparkApplicationWrapper) {
			w.NodeSelector("disk", "ssd").PodNodeSelector(wrappers.DriverRole, "zone", "a")
		}, want: []string{"spec.nodeSelector cannot be used together with spec.driver.nodeSelector"}},
		{name: "spec.nodeSelector with executor.nodeSelector", app: func(w *wrappers.SparkApplicationWrapper) {
			w.NodeSelector("disk", "ssd").PodNodeSelector(wrappers.ExecutorRole, "zone", "a")
		}, want: []string{"spec.nodeSelector cannot be used together"}},

		// Spark and Kubernetes quantities.
		{name: "driver memory in Kubernetes notation", app: func(w *wrappers.SparkApplicationWrapper) { w.DriverMemory("1Gi") },
			want: []string{"spec.driver.memory", "should match"}},
		{name: "executor memory in Kubernetes notation", app: func(w *wrappers.SparkApplicationWrapper) { w.ExecutorMemory("512Mi") },
			want: []string{"spec.executor.memory", "should match"}},
		{name: "executor memoryOverhead not a size", app: func(w *wrappers.SparkApplicationWrapper) { w.MemoryOverhead(wrappers.ExecutorRole, "lots") },
			want: []string{"spec.executor.memoryOverhead"}},
		{name: "memoryOverheadFactor not a number", app: func(w *wrappers.SparkApplicationWrapper) {
			w.Spec(func(s *v1beta2.SparkApplicationSpec) { s.MemoryOverheadFactor = wrappers.Ptr("ten percent") })
		}, want: []string{"spec.memoryOverheadFactor"}},
		{name: "driver coreLimit abc", app: func(w *wrappers.SparkApplicationWrapper) { w.CoreLimit(wrappers.DriverRole, "abc") },
			want: []string{"spec.driver", "coreLimit must be a Kubernetes CPU quantity"}},
		{name: "executor coreLimit abc", app: func(w *wrappers.SparkApplicationWrapper) { w.CoreLimit(wrappers.ExecutorRole, "abc") },
			want: []string{"spec.executor", "coreLimit must be a Kubernetes CPU quantity"}},
		{name: "driver coreRequest abc", app: func(w *wrappers.SparkApplicationWrapper) { w.CoreRequest(wrappers.DriverRole, "abc") },
			want: []string{"spec.driver", "driver.coreRequest must be a Kubernetes CPU quantity"}},
		{name: "executor coreRequest abc", app: func(w *wrappers.SparkApplicationWrapper) { w.CoreRequest(wrappers.ExecutorRole, "1 core") },
			want: []string{"spec.executor", "executor.coreRequest must be a Kubernetes CPU quantity"}},

		// Dynamic allocation bounds.
		{name: "dynamicAllocation min > max", app: func(w *wrappers.SparkApplicationWrapper) { w.DynamicAllocation(5, -1, 2) },
			want: []string{"spec.dynamicAllocation", "minExecutors must not exceed maxExecutors"}},
		{name: "dynamicAllocation initial > max", app: func(w *wrappers.SparkApplicationWrapper) { w.DynamicAllocation(-1, 9, 2) },
			want: []string{"spec.dynamicAllocation", "initialExecutors must not exceed maxExecutors"}},
		{name: "dynamicAllocation initial < min", app: func(w *wrappers.SparkApplicationWrapper) { w.DynamicAllocation(3, 1, 5) },
			want: []string{"spec.dynamicAllocation", "initialExecutors must not be below minExecutors"}},
		{name: "dynamicAllocation negative max", app: func(w *wrappers.SparkApplicationWrapper) {
			w.DynamicAllocation(-1, -1, -1).Spec(func(s *v1beta2.SparkApplicationSpec) { s.DynamicAllocation.MaxExecutors = wrappers.Ptr(int32(-3)) })
		},
			want: []string{"spec.dynamicAllocation.maxExecutors"}},

		// Volumes and containers (upstream Kubernetes types).
		{name: "volume emptyDir medium of the wrong type", app: func(w *wrappers.SparkApplicationWrapper) { w.EmptyDirVolume("x", "/x") },
			raw: func(o map[string]any) {
				at(o, "spec")["volumes"].([]any)[0].(map[string]any)["emptyDir"] = map[string]any{"medium": int64(1)}
			}, want: []string{"spec.volumes[0].emptyDir.medium", "must be of type string"}},
		{name: "volume of an unknown type", raw: func(o map[string]any) {
			at(o, "spec")["volumes"] = []any{map[string]any{"name": "x", "fooVolume": map[string]any{"path": "/x"}}}
		}, badRequest: true, want: []string{`unknown field "spec.volumes[0].fooVolume"`}},
		{name: "volume without a name", raw: func(o map[string]any) {
			at(o, "spec")["volumes"] = []any{map[string]any{"emptyDir": map[string]any{}}}
		}, want: []string{"spec.volumes[0].name: Required value"}},
		{name: "volumeMount without mountPath", raw: func(o map[string]any) {
			at(o, "spec.driver")["volumeMounts"] = []any{map[string]any{"name": "x"}}
		}, want: []string{"spec.driver.volumeMounts[0].mountPath: Required value"}},
		{name: "sidecar without a name", raw: func(o map[string]any) {
			at(o, "spec.driver")["sidecars"] = []any{map[string]any{"image": "busybox:1.36"}}
		}, want: []string{"spec.driver.sidecars[0].name: Required value"}},
		{name: "sidecar with an empty name", app: func(w *wrappers.SparkApplicationWrapper) {
			w.DriverSidecar(corev1.Container{Name: "", Image: "busybox:1.36"})
		}, want: []string{"spec.driver.sidecars"},
			needsRule: `a sidecar name must not be empty; on SparkPodSpec.Sidecars: +kubebuilder:validation:MaxItems=64 and +kubebuilder:validation:XValidation:rule="self.all(c, size(c.name) > 0)",message="every sidecar needs a name" (same for InitContainers)`},
		{name: "init container with an empty name", app: func(w *wrappers.SparkApplicationWrapper) {
			w.Executor(func(e *v1beta2.ExecutorSpec) {
				e.InitContainers = []corev1.Container{{Name: "", Image: "busybox:1.36"}}
			})
		}, want: []string{"spec.executor.initContainers"},
			needsRule: `an init container name must not be empty; on SparkPodSpec.InitContainers: +kubebuilder:validation:MaxItems=64 and +kubebuilder:validation:XValidation:rule="self.all(c, size(c.name) > 0)",message="every init container needs a name"`},
		{name: "env var without a name", raw: func(o map[string]any) {
			at(o, "spec.executor")["env"] = []any{map[string]any{"value": "1"}}
		}, want: []string{"spec.executor.env[0].name: Required value"}},
		{name: "toleration with an unknown field", raw: func(o map[string]any) {
			at(o, "spec.executor")["tolerations"] = []any{map[string]any{"key": "k", "operater": "Exists"}}
		}, badRequest: true, want: []string{`unknown field "spec.executor.tolerations[0].operater"`}},
		{name: "misspelt spec field", raw: func(o map[string]any) { at(o, "spec")["sparkconf"] = map[string]any{"a": "b"} },
			badRequest: true, want: []string{`unknown field "spec.sparkconf"`}},

		// Lists keyed by a field.
		{name: "duplicate driverIngressOptions servicePort", app: func(w *wrappers.SparkApplicationWrapper) {
			w.DriverIngress(8080, "web", "{{$appName}}.example.com").DriverIngress(8080, "web2", "{{$appName}}-2.example.com")
		}, want: []string{"spec.driverIngressOptions[1]", "Duplicate value"}},
		{name: "driverIngressOptions without servicePortName", app: func(w *wrappers.SparkApplicationWrapper) {
			w.DriverIngress(8080, "web", "{{$appName}}.example.com")
		}, raw: func(o map[string]any) {
			delete(at(o, "spec")["driverIngressOptions"].([]any)[0].(map[string]any), "servicePortName")
		}, want: []string{"spec.driverIngressOptions[0].servicePortName: Required value"}},

		// ScheduledSparkApplication.
		{name: "scheduled: empty schedule", scheduled: true, sched: func(w *wrappers.ScheduledSparkApplicationWrapper) { w.Schedule("") },
			want: []string{"spec.schedule"}},
		{name: "scheduled: missing schedule", scheduled: true, raw: func(o map[string]any) { delete(at(o, "spec"), "schedule") },
			want: []string{"spec.schedule: Required value"}},
		{name: "scheduled: bad concurrencyPolicy", scheduled: true, sched: func(w *wrappers.ScheduledSparkApplicationWrapper) { w.ConcurrencyPolicy("Sometimes") },
			want: []string{"spec.concurrencyPolicy", `Unsupported value: "Sometimes"`}},
		{name: "scheduled: negative history limit", scheduled: true, sched: func(w *wrappers.ScheduledSparkApplicationWrapper) { w.HistoryLimits(-1, 1) },
			want: []string{"spec.successfulRunHistoryLimit"}},
		{name: "scheduled: missing template", scheduled: true, raw: func(o map[string]any) { delete(at(o, "spec"), "template") },
			want: []string{"spec.template: Required value"}},
		{name: "scheduled: template with a denied sparkConf key", scheduled: true, sched: func(w *wrappers.ScheduledSparkApplicationWrapper) {
			w.TemplateSpec(func(s *v1beta2.SparkApplicationSpec) { s.SparkConf = map[string]string{"spark.master": "local"} })
		}, want: []string{"spec.template", "sparkConf key spark.master is not allowed"}},
		{name: "scheduled: template with executor instances 0", scheduled: true, sched: func(w *wrappers.ScheduledSparkApplicationWrapper) {
			w.TemplateSpec(func(s *v1beta2.SparkApplicationSpec) { s.Executor.Instances = wrappers.Ptr(int32(0)) })
		}, want: []string{"spec.template.executor.instances"}},
		// Pod templates: the types of their top-level fields (hack/crdtrim/template.go); deeper
		// values are decoded leniently by the operator (test/integration/controller).
		{name: "driver template nodeSelector a string", raw: func(o map[string]any) {
			at(o, "spec.driver")["template"] = map[string]any{"spec": map[string]any{"nodeSelector": "linux"}}
		}, want: []string{"spec.driver.template.spec.nodeSelector", "must be of type object"}},
		{name: "executor template containers an object", raw: func(o map[string]any) {
			at(o, "spec.executor")["template"] = map[string]any{"spec": map[string]any{"containers": map[string]any{}}}
		}, want: []string{"spec.executor.template.spec.containers", "must be of type array"}},
		{name: "executor template priority a string", raw: func(o map[string]any) {
			at(o, "spec.executor")["template"] = map[string]any{"spec": map[string]any{"priority": "high"}}
		}, want: []string{"spec.executor.template.spec.priority", "must be of type integer"}},
		{name: "driver template label not a string", raw: func(o map[string]any) {
			at(o, "spec.driver")["template"] = map[string]any{"metadata": map[string]any{"labels": map[string]any{"team": int64(7)}}}
		}, want: []string{"spec.driver.template.metadata.labels.team", "must be of type string"}},
		{name: "driver template imagePullSecrets an object", raw: func(o map[string]any) {
			at(o, "spec.driver")["template"] = map[string]any{"spec": map[string]any{"imagePullSecrets": map[string]any{"name": "s"}}}
		}, badRequest: true, want: []string{"spec.driver.template.spec.imagePullSecrets"}}, // strict validation: an object's member where an array is declared is an unknown field
		{name: "scheduled: template's driver template tolerations a string", scheduled: true, raw: func(o map[string]any) {
			at(o, "spec.template.driver")["template"] = map[string]any{"spec": map[string]any{"tolerations": "all"}}
		}, want: []string{"spec.template.driver.template.spec.tolerations", "must be of type array"}},
		{name: "scheduled: name starting with a digit", scheduled: true, sched: func(w *wrappers.ScheduledSparkApplicationWrapper) {
			w.Name = "0cron"
		}, want: []string{"metadata.name must be a DNS-1035 label"}},
	}

	ns := env.NewNamespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var u *unstructured.Unstructured
			if tc.scheduled {
				w := wrappers.MakeScheduledSparkApplication("bad-cron", ns)
				if tc.sched != nil {
					tc.sched(w)
				}
				u = toUnstructured(t, w.Obj())
			} else {
				w := wrappers.MakeSparkApplication("bad-app", ns)
				if tc.app != nil {
					tc.app(w)
				}
				u = toUnstructured(t, w.Obj())
			}
			if tc.raw != nil {
				tc.raw(u.Object)
			}
			// Names are per case so that a wrongly accepted object does not hide another case.
			if n := u.GetName(); n == "bad-app" || n == "bad-cron" {
				u.SetName(n + "-" + framework.DNSLabel(tc.name, 40))
			}

			err := createStrict(ctx, u)
			if err == nil {
				deleteOnCleanup(t, u)
				if tc.needsRule != "" {
					t.Skipf("accepted; needs schema rule: %s", tc.needsRule)
				}
				t.Fatalf("accepted, want rejected with %q", tc.want)
			}
			if tc.needsRule != "" {
				t.Logf("rejected: the schema rule now exists")
			}
			t.Logf("rejected: %v", err)
			if tc.badRequest {
				if !apierrors.IsBadRequest(err) {
					t.Errorf("error is %v (reason %q), want BadRequest", err, apierrors.ReasonForError(err))
				}
				for _, s := range tc.want {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			assertInvalid(t, err, tc.want...)
		})
	}
}
