package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/kubeflow"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// kubeflowApp decodes the SparkApplication of a file of Kubeflow's latest release (kubeflow.Latest;
// rel is relative to the module root, read from the Go module cache) as Kubeflow's e2e does, and
// moves it into namespace ns.
func kubeflowApp(t *testing.T, rel, ns string) *v1beta2.SparkApplication {
	t.Helper()
	f, err := os.Open(filepath.Join(kubeflow.MustModuleDir(t, kubeflow.Latest), rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		app := &v1beta2.SparkApplication{}
		if err := dec.Decode(app); err != nil {
			t.Fatalf("%s: no SparkApplication: %v", rel, err)
		}
		if app.Kind == "SparkApplication" {
			app.Namespace = ns
			return app
		}
	}
}

// kubeflowStates polls the application until it is FAILED or COMPLETED, playing the kubelet for each
// driver pod of a new submission with play, and returns the states seen (the last one terminal).
func kubeflowStates(t *testing.T, ns, name string, play func(driver string)) ([]v1beta2.ApplicationStateType, *v1beta2.SparkApplication) {
	t.Helper()
	var seen []v1beta2.ApplicationStateType
	played := map[string]bool{}
	var app *v1beta2.SparkApplication
	framework.WaitFor(t, 90*time.Second, name+" to terminate", func() (bool, string) {
		app = &v1beta2.SparkApplication{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return false, err.Error()
		}
		st := app.Status.AppState.State
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if st == v1beta2.ApplicationStateSubmitted && !played[app.Status.SubmissionID] {
			pod := &corev1.Pod{}
			err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: app.Status.DriverInfo.PodName}, pod)
			if err == nil && pod.Labels[v1beta2.LabelSubmissionID] == app.Status.SubmissionID {
				played[app.Status.SubmissionID] = true
				play(pod.Name)
			}
		}
		return st == v1beta2.ApplicationStateFailed || st == v1beta2.ApplicationStateCompleted, fmt.Sprint("states ", seen)
	})
	return seen, app
}

// TestKubeflowE2EStates: Kubeflow's e2e applications (its examples and bad examples, unchanged but
// for the namespace) reach the final state its e2e tests expect, with the expected attempts, error
// message substrings and intermediate states, the controller suite playing the kubelet.
func TestKubeflowE2EStates(t *testing.T) {
	ns := env.ParallelNamespace(t)
	util.Create(t, env.Client, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark-operator-spark", Namespace: ns}})
	opts := defaultOptions()
	startOperator(t, ns, opts)

	t.Run("fail-submission", func(t *testing.T) {
		// The driver's service account does not exist: the API server refuses the driver pod.
		refuseMissingServiceAccount(t, ns, "non-existent")
		app := kubeflowApp(t, "test/e2e/bad_examples/fail-submission.yaml", ns)
		util.Create(t, env.Client, app)
		defer deleteApp(t, ns, app.Name)
		seen, final := kubeflowStates(t, ns, app.Name, func(string) { t.Error("a driver pod was created") })
		if final.Status.AppState.State != v1beta2.ApplicationStateFailed ||
			final.Status.SubmissionAttempts != *app.Spec.RestartPolicy.OnSubmissionFailureRetries+1 ||
			!strings.Contains(final.Status.AppState.ErrorMessage, "non-existent") ||
			!strings.Contains(final.Status.AppState.ErrorMessage, "failed to run spark-submit") {
			t.Errorf("final status: %+v", final.Status)
		}
		for _, st := range seen[:len(seen)-1] {
			if !slices.Contains([]v1beta2.ApplicationStateType{v1beta2.ApplicationStateNew, v1beta2.ApplicationStateFailedSubmission}, st) {
				t.Errorf("state %q seen before FAILED (%v); Kubeflow's e2e allows only \"\" and SUBMISSION_FAILED", st, seen)
			}
		}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: app.Name + "-driver"}, &corev1.Pod{}); !apierrors.IsNotFound(err) {
			t.Errorf("driver pod: %v, want none", err)
		}
	})

	t.Run("application-fails", func(t *testing.T) {
		app := kubeflowApp(t, "test/e2e/bad_examples/fail-application.yaml", ns) // also named fail-submission
		util.Create(t, env.Client, app)
		defer deleteApp(t, ns, app.Name)
		seen, final := kubeflowStates(t, ns, app.Name, func(driver string) {
			util.RunDriver(t, env.Client, ns, driver)
			util.FinishDriver(t, env.Client, ns, driver, 1) // java.nio.file.NoSuchFileException: the jar does not exist
		})
		if final.Status.AppState.State != v1beta2.ApplicationStateFailed ||
			final.Status.ExecutionAttempts != *app.Spec.RestartPolicy.OnFailureRetries+1 ||
			!strings.Contains(final.Status.AppState.ErrorMessage, "driver container failed") {
			t.Errorf("final status: %+v", final.Status)
		}
		allowed := []v1beta2.ApplicationStateType{v1beta2.ApplicationStateNew, v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateRunning,
			v1beta2.ApplicationStateFailing, v1beta2.ApplicationStatePendingRerun}
		for _, st := range seen[:len(seen)-1] {
			if !slices.Contains(allowed, st) {
				t.Errorf("state %q seen before FAILED (%v); Kubeflow's e2e allows only %v", st, seen, allowed)
			}
		}
	})

	for _, example := range []string{"spark-pi", "spark-pi-configmap", "spark-pi-custom-resource", "spark-pi-python"} {
		t.Run(example, func(t *testing.T) {
			app := kubeflowApp(t, "examples/"+example+".yaml", ns)
			util.Create(t, env.Client, app)
			_, final := kubeflowStates(t, ns, app.Name, func(driver string) {
				util.RunDriver(t, env.Client, ns, driver)
				util.FinishDriver(t, env.Client, ns, driver, 0)
			})
			if final.Status.AppState.State != v1beta2.ApplicationStateCompleted || final.Status.ExecutionAttempts != 1 {
				t.Errorf("final status: %+v", final.Status)
			}
		})
	}
}

// refuseMissingServiceAccount makes the API server refuse, in namespace ns, pods that use the service
// account sa, as its ServiceAccount admission plugin does for a service account that does not exist
// (the test API server runs without that plugin), with the plugin's message.
func refuseMissingServiceAccount(t *testing.T, ns, sa string) {
	t.Helper()
	name := "refuse-sa-" + ns
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				},
			}}},
			MatchConditions: []admissionv1.MatchCondition{{Name: "namespace", Expression: "object.metadata.namespace == '" + ns + "'"}},
			Validations: []admissionv1.Validation{{
				Expression: "!has(object.spec.serviceAccountName) || object.spec.serviceAccountName != '" + sa + "'",
				Message:    "error looking up service account " + ns + "/" + sa + ": serviceaccount \"" + sa + "\" not found",
				Reason:     ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
	util.Create(t, env.Client, policy)
	util.Create(t, env.Client, binding)
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), binding)
		_ = env.Client.Delete(context.Background(), policy)
	})
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
		Spec:       corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
	}
	framework.WaitFor(t, 30*time.Second, "the policy refusing service account "+sa, func() (bool, string) {
		err := env.Client.Create(context.Background(), probe.DeepCopy(), client.DryRunAll)
		return apierrors.IsForbidden(err), fmt.Sprint(err)
	})
}

// deleteApp deletes the application and waits until it is gone.
func deleteApp(t *testing.T, ns, name string) {
	t.Helper()
	app := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := env.Client.Delete(context.Background(), app); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, 30*time.Second, name+" to be deleted", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(app), app)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}
