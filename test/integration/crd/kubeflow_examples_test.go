package crd_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// KubeflowModule is the Kubeflow Spark Operator release whose examples and e2e bad examples are
// checked, read from the Go module cache (the files are never copied into this repository).
const KubeflowModule = "github.com/kubeflow/spark-operator/v2@v2.5.0"

// kubeflowModuleDir downloads KubeflowModule into the module cache (a no-op when it is there) and
// returns its directory.
func kubeflowModuleDir(t *testing.T) string {
	t.Helper()
	dir, err := util.ModuleDir(KubeflowModule)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestKubeflowExamples applies, unchanged (but for spark-pi-prometheus.yaml's image placeholders), every manifest of Kubeflow's examples/ and of its e2e
// bad_examples/ (those fail at run time, not at admission: Kubeflow's e2e creates them), with strict
// field validation and server-side dry run: each is accepted by the API server with our CRDs. Each
// application, as the operator decodes it, renders with our submitter, and the pods carry what
// Kubeflow's e2e tests check on them. Unknown pod template fields are dropped and named, not refused.
func TestKubeflowExamples(t *testing.T) {
	dir := kubeflowModuleDir(t)
	// spark-pi-prometheus.yaml names its image with placeholders that are not valid YAML as written
	// ("image: {IMAGE_REGISTRY}/..."); they are the only change made.
	fill := strings.NewReplacer("{IMAGE_REGISTRY}", "registry.example.com", "{IMAGE_REPOSITORY}", "spark")
	all := readManifestsUnder(t, dir, "examples/*.yaml", fill)
	all = append(all, readManifestsUnder(t, dir, "test/e2e/bad_examples/*.yaml", nil)...)
	apps := 0
	for _, m := range all {
		t.Run(strings.TrimSuffix(m.file, ".yaml")+"/"+m.obj.GetName(), func(t *testing.T) {
			ctx := context.Background()
			obj := m.obj.DeepCopy()
			if obj.GetNamespace() == "" {
				obj.SetNamespace("default") // kubectl apply's namespace
			}
			util.EnsureNamespace(t, env.Client, obj.GetNamespace())
			if err := env.Client.Create(ctx, obj, client.DryRunAll, client.FieldOwner(fieldOwner), client.FieldValidation("Strict")); err != nil {
				t.Fatalf("creating %s: %v", m, err)
			}
			kind := obj.GetKind()
			if kind != "SparkApplication" && kind != "ScheduledSparkApplication" {
				return
			}
			apps++
			app := decodeAsOperator(t, obj)
			if dropped := submission.TemplateUnknownFields(obj.Object); len(dropped) > 0 {
				t.Logf("pod template fields dropped (reported in an Event and by sparkctl lint): %v", dropped)
			}
			app.UID = "00000000-0000-0000-0000-000000000001"
			res, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 1, time.Now()), submission.Options{})
			if err != nil {
				t.Fatalf("rendering %s: %v", m, err)
			}
			checkKubeflowE2E(t, app, res.DriverPod)
		})
	}
	if apps < 14 {
		t.Errorf("checked %d applications of %s, want at least 14 (12 examples, 2 bad examples)", apps, KubeflowModule)
	}
}

// decodeAsOperator decodes a stored object as the operator's client does (unknown fields dropped);
// for a ScheduledSparkApplication it returns the application of a run.
func decodeAsOperator(t *testing.T, u *unstructured.Unstructured) *v1beta2.SparkApplication {
	t.Helper()
	app := &v1beta2.SparkApplication{}
	if u.GetKind() == "ScheduledSparkApplication" {
		ssa := &v1beta2.ScheduledSparkApplication{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ssa); err != nil {
			t.Fatal(err)
		}
		app.ObjectMeta = ssa.ObjectMeta
		app.Spec = ssa.Spec.Template
		return app
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, app); err != nil {
		t.Fatal(err)
	}
	return app
}

// checkKubeflowE2E checks on the rendered driver pod what Kubeflow's e2e tests check on the real one:
// spec.volumes and the driver's volumeMounts (spark-pi-configmap), the CPU request and limit and a
// memory request and limit (spark-pi-custom-resource).
func checkKubeflowE2E(t *testing.T, app *v1beta2.SparkApplication, pod *corev1.Pod) {
	t.Helper()
	var driver *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == "spark-kubernetes-driver" {
			driver = &pod.Spec.Containers[i]
		}
	}
	if driver == nil {
		t.Fatalf("driver pod has no spark-kubernetes-driver container: %+v", pod.Spec.Containers)
	}
	for _, v := range app.Spec.Volumes {
		mounted := slices.ContainsFunc(app.Spec.Driver.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == v.Name })
		if mounted && !slices.ContainsFunc(pod.Spec.Volumes, func(pv corev1.Volume) bool { return pv.Name == v.Name }) {
			t.Errorf("volume %s is not in the driver pod", v.Name)
		}
	}
	for _, m := range app.Spec.Driver.VolumeMounts {
		if !strings.HasPrefix(m.Name, "spark-local-dir-") && !slices.Contains(driver.VolumeMounts, m) {
			t.Errorf("volumeMount %+v is not on the driver container: %+v", m, driver.VolumeMounts)
		}
	}
	if r := app.Spec.Driver.CoreRequest; r != nil && !driver.Resources.Requests.Cpu().Equal(resource.MustParse(*r)) {
		t.Errorf("driver CPU request %s, want coreRequest %s", driver.Resources.Requests.Cpu(), *r)
	}
	if l := app.Spec.Driver.CoreLimit; l != nil && !driver.Resources.Limits.Cpu().Equal(resource.MustParse(*l)) {
		t.Errorf("driver CPU limit %s, want coreLimit %s", driver.Resources.Limits.Cpu(), *l)
	}
	if driver.Resources.Requests.Memory().IsZero() || driver.Resources.Limits.Memory().IsZero() {
		t.Errorf("driver memory request/limit not set: %+v", driver.Resources)
	}
}
