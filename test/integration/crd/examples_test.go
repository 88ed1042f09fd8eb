package crd_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestManifestsAccepted creates every example and every user manifest from the seeds in the
// namespace it names, with strict field validation, and checks the stored object: nothing the user
// wrote was pruned or changed, the schema defaults were applied, and the object decodes strictly
// into the Go types. Manifests marked "# want-invalid:" must be rejected with those substrings.
func TestManifestsAccepted(t *testing.T) {
	var all []manifest
	all = append(all, readManifests(t, "examples/*.yaml")...)
	all = append(all, readManifests(t, "test/integration/crd/testdata/seeds/*.yaml")...)
	if n := len(readManifests(t, "examples/*.yaml")); n < 13 {
		t.Errorf("examples/ holds %d manifests, want at least 13", n)
	}

	for _, m := range all {
		t.Run(strings.TrimSuffix(m.file, ".yaml"), func(t *testing.T) {
			ctx := context.Background()
			if ns := m.obj.GetNamespace(); ns != "" {
				util.EnsureNamespace(t, env.Client, ns)
			}
			obj := m.obj.DeepCopy()
			err := createStrict(ctx, obj)
			if len(m.wantInvalid) > 0 {
				if err == nil {
					deleteOnCleanup(t, obj)
					t.Fatalf("%s was accepted, want it rejected with %q", m, m.wantInvalid)
				}
				assertInvalid(t, err, m.wantInvalid...)
				return
			}
			if err != nil {
				t.Fatalf("creating %s: %v", m, err)
			}
			deleteOnCleanup(t, obj)

			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(obj.GroupVersionKind())
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), stored); err != nil {
				t.Fatal(err)
			}

			// Everything written is stored as written, plus the schema defaults.
			want := jsonNormalize(t, m.obj.Object).(map[string]any)
			applySchemaDefaults(want)
			got := jsonNormalize(t, stored.Object).(map[string]any)
			for _, d := range util.SubsetDiff("spec", want["spec"], got["spec"]) {
				t.Errorf("stored %s: %s", m, d)
			}
			if _, err := decodeStrict(stored); err != nil {
				t.Errorf("stored %s does not decode strictly into api/v1beta2: %v", m, err)
			}
		})
	}
}

// TestExamplesDocumented checks that each example starts with a comment saying what it shows.
func TestExamplesDocumented(t *testing.T) {
	for _, m := range readManifests(t, "examples/*.yaml") {
		data := mustRead(t, m.file)
		if !strings.HasPrefix(data, "# ") {
			t.Errorf("%s does not start with a '# ' comment line saying what it shows", m.file)
		}
		if m.obj.GetNamespace() != "default" {
			t.Errorf("%s: namespace %q, want default", m.file, m.obj.GetNamespace())
		}
	}
}

// applySchemaDefaults adds to a manifest (JSON-normalised) the defaults the CRD schema is expected
// to apply.
func applySchemaDefaults(obj map[string]any) {
	spec, _ := obj["spec"].(map[string]any)
	if spec == nil {
		return
	}
	switch obj["kind"] {
	case "SparkApplication":
		applyAppSpecDefaults(spec)
	case "ScheduledSparkApplication":
		setDefault(spec, "concurrencyPolicy", "Allow")
		setDefault(spec, "successfulRunHistoryLimit", float64(1))
		setDefault(spec, "failedRunHistoryLimit", float64(1))
		if tmpl, ok := spec["template"].(map[string]any); ok {
			applyAppSpecDefaults(tmpl)
		}
	}
}

func applyAppSpecDefaults(spec map[string]any) {
	setDefault(spec, "type", "Scala")
	setDefault(spec, "mode", "cluster")
	setDefault(spec, "restartPolicy", map[string]any{})
	rp := spec["restartPolicy"].(map[string]any)
	setDefault(rp, "type", "Never")
	setDefault(rp, "onFailureRetryInterval", float64(5))
	setDefault(rp, "onSubmissionFailureRetryInterval", float64(5))
	for _, role := range []string{"driver", "executor"} {
		r, _ := spec[role].(map[string]any)
		if r == nil {
			continue
		}
		for _, s := range listOfMaps(r["secrets"]) {
			setDefault(s, "secretType", "Generic")
		}
		for _, p := range listOfMaps(r["ports"]) {
			setDefault(p, "protocol", "TCP")
		}
		if role == "executor" {
			setDefault(r, "instances", float64(1))
		}
	}
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func listOfMaps(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// TestSchemaDefaults checks each documented default on objects that omit the field.
func TestSchemaDefaults(t *testing.T) {
	ctx := context.Background()
	ns := env.NewNamespace(t)

	t.Run("SparkApplication", func(t *testing.T) {
		app := wrappers.MakeSparkApplication("defaults", ns).
			Type("").Mode("").
			RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(2, 0).
			DriverSecret("creds", "/mnt/creds", "").
			Driver(func(d *v1beta2.DriverSpec) {
				d.Ports = []v1beta2.Port{{Name: "http", ContainerPort: 8080}}
			}).Obj()
		u := toUnstructured(t, app)
		// What a YAML user writes: no secretType, no protocol (the Go types always send both).
		delete(u.Object["spec"].(map[string]any)["driver"].(map[string]any)["secrets"].([]any)[0].(map[string]any), "secretType")
		delete(u.Object["spec"].(map[string]any)["driver"].(map[string]any)["ports"].([]any)[0].(map[string]any), "protocol")
		if err := createStrict(ctx, u); err != nil {
			t.Fatal(err)
		}
		got := &v1beta2.SparkApplication{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
			t.Fatal(err)
		}
		s := got.Spec
		check(t, "spec.type", s.Type, v1beta2.SparkApplicationTypeScala)
		check(t, "spec.mode", s.Mode, v1beta2.DeployModeCluster)
		check(t, "spec.restartPolicy.type", s.RestartPolicy.Type, v1beta2.RestartPolicyOnFailure)
		checkPtr(t, "spec.restartPolicy.onFailureRetryInterval", s.RestartPolicy.OnFailureRetryInterval, 5)
		checkPtr(t, "spec.restartPolicy.onSubmissionFailureRetryInterval", s.RestartPolicy.OnSubmissionFailureRetryInterval, 5)
		checkPtr(t, "spec.restartPolicy.onFailureRetries", s.RestartPolicy.OnFailureRetries, 2)
		check(t, "spec.driver.secrets[0].secretType", s.Driver.Secrets[0].Type, v1beta2.SecretTypeGeneric)
		check(t, "spec.driver.ports[0].protocol", s.Driver.Ports[0].Protocol, "TCP")
		// Stored at admission as Kubeflow's webhook stores it, so that Kueue counts the executor.
		checkPtr(t, "spec.executor.instances", s.Executor.Instances, 1)
	})

	t.Run("SparkApplicationNoRestartPolicy", func(t *testing.T) {
		u := toUnstructured(t, wrappers.MakeSparkApplication("no-restart-policy", ns).Obj())
		delete(u.Object["spec"].(map[string]any), "restartPolicy")
		if err := createStrict(ctx, u); err != nil {
			t.Fatal(err)
		}
		got := &v1beta2.SparkApplication{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
			t.Fatal(err)
		}
		check(t, "spec.restartPolicy.type", got.Spec.RestartPolicy.Type, v1beta2.RestartPolicyNever)
	})

	t.Run("ScheduledSparkApplication", func(t *testing.T) {
		sched := wrappers.MakeScheduledSparkApplication("defaults", ns).TemplateSpec(func(s *v1beta2.SparkApplicationSpec) {
			s.Type = ""
			s.Mode = ""
		}).Obj()
		if err := createStrict(ctx, sched); err != nil {
			t.Fatal(err)
		}
		got := &v1beta2.ScheduledSparkApplication{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sched), got); err != nil {
			t.Fatal(err)
		}
		check(t, "spec.concurrencyPolicy", got.Spec.ConcurrencyPolicy, v1beta2.ConcurrencyAllow)
		checkPtr(t, "spec.successfulRunHistoryLimit", got.Spec.SuccessfulRunHistoryLimit, 1)
		checkPtr(t, "spec.failedRunHistoryLimit", got.Spec.FailedRunHistoryLimit, 1)
		check(t, "spec.template.type", got.Spec.Template.Type, v1beta2.SparkApplicationTypeScala)
		check(t, "spec.template.mode", got.Spec.Template.Mode, v1beta2.DeployModeCluster)
		check(t, "spec.template.restartPolicy.type", got.Spec.Template.RestartPolicy.Type, v1beta2.RestartPolicyNever)
	})

	// The wrappers' base objects are valid as they are (the controller tests rely on it).
	t.Run("WrapperBasesValid", func(t *testing.T) {
		if err := createStrict(ctx, wrappers.MakeSparkApplication("base", ns).Obj()); err != nil {
			t.Errorf("MakeSparkApplication base: %v", err)
		}
		if err := createStrict(ctx, wrappers.MakeSparkApplication("base-python", ns).Python().Obj()); err != nil {
			t.Errorf("MakeSparkApplication Python base: %v", err)
		}
		if err := createStrict(ctx, wrappers.MakeScheduledSparkApplication("base", ns).Obj()); err != nil {
			t.Errorf("MakeScheduledSparkApplication base: %v", err)
		}
	})

	// Server-side apply of a manifest works with the list-map keys of the schema.
	t.Run("ServerSideApply", func(t *testing.T) {
		build := func(adminPortName string) *unstructured.Unstructured {
			return toUnstructured(t, wrappers.MakeSparkApplication("applied", ns).
				DriverIngress(8080, "web", "{{$appName}}.example.com").
				DriverIngress(8081, adminPortName, "admin-{{$appName}}.example.com").Obj())
		}
		u := build("admin")
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
		if err != nil {
			t.Fatalf("server-side apply: %v", err)
		}
		// A second apply changing one entry merges by servicePort.
		u = build("admin2")
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			t.Fatalf("second server-side apply: %v", err)
		}
		got := &v1beta2.SparkApplication{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
			t.Fatal(err)
		}
		if n := len(got.Spec.DriverIngressOptions); n != 2 || *got.Spec.DriverIngressOptions[1].ServicePortName != "admin2" {
			t.Errorf("driverIngressOptions after apply = %+v", got.Spec.DriverIngressOptions)
		}
	})
}

func check[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

func checkPtr[T comparable](t *testing.T, field string, got *T, want T) {
	t.Helper()
	if got == nil {
		t.Errorf("%s unset, want %v", field, want)
		return
	}
	check(t, field, *got, want)
}

// assertInvalid checks that err is an Invalid (422) error whose message contains every substring.
func assertInvalid(t *testing.T, err error, substrings ...string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Errorf("error is %v (reason %q), want Invalid", err, apierrors.ReasonForError(err))
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}
