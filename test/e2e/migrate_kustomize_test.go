package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/kubeflow"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// kubeflowLease is the leader election Lease of Kubeflow's controller in its kustomize install
// (--leader-election-lock-name, in the controller's namespace), which ours uses too.
const kubeflowLease = "spark-operator-controller-lock"

// TestMigrateFromKubeflowKustomizeInstall walks through README.md's "From Kubeflow's kustomize
// install" with both controllers running on the process-node cluster: Kubeflow's config/default
// (kubeflowVersion, its controller image running bin/kubeflow-spark-operator with the host's Spark
// 3.5.3 as the Helm variant mounts it) and config/spark-rbac in the job namespace are applied
// server-side; Kubeflow's spark-submit submits an application that completes and one that is
// RUNNING at the swap. Then README's three commands run as written (kubeflow.KustomizeMigration,
// with bin/kubectl), and ours must take over the Lease Kubeflow's controller held and finish the
// running application on Kubeflow's driver: one driver per application, the same submission id, and
// no application through FAILED, FAILING, SUBMISSION_FAILED or UNKNOWN.
//
// Kubeflow's overlay here leaves out only its two webhook configurations, as the Helm variant sets
// webhook.enable=false (docs/e2e.md); its webhook Deployment, Service and RBAC are installed, and
// README's first command deletes them.
//
// The suite's install of our chart is uninstalled first; at the end both kustomize installs are
// deleted (but for the namespace and the CRDs) and the chart is restored.
func TestMigrateFromKubeflowKustomizeInstall(t *testing.T) {
	requireCluster(t)
	requireKubeflowBinary(t)
	ctx := context.Background()
	kfConfig := filepath.Join(kubeflow.MustModuleDir(t, kubeflowVersion), "config")
	overlay := kubeflowKustomizeOverlay(t, filepath.Join(kfConfig, "default"), kubeflowSparkHome(t))

	step("migrate (kustomize): uninstalling the suite's chart, applying Kubeflow's config/default %s", kubeflowVersion)
	helmUninstall(t, "spark-operator", true)
	t.Cleanup(func() {
		for _, dir := range []string{overlay, filepath.Join(root, "config", "default")} {
			deleteKustomization(t, dir, "")
		}
		for _, dir := range []string{filepath.Join(kfConfig, "spark-rbac"), filepath.Join(root, "config", "spark-rbac")} {
			deleteKustomization(t, dir, jobNamespace)
		}
		restoreChart(t)
	})
	kubectl(t, "apply", "-k", overlay, "--server-side", "--force-conflicts")
	kubectl(t, "-n", jobNamespace, "apply", "-k", filepath.Join(kfConfig, "spark-rbac"), "--server-side", "--force-conflicts")
	kubectl(t, "-n", operatorNamespace, "rollout", "status", "deployment/spark-operator-controller", "--timeout=5m")

	watch := watchApplications(t)
	done := sparkExitApp(t, "kfk-done", 0, 0)
	long := sparkExitApp(t, "kfk-long", 0, 420)
	create(t, done)
	create(t, long)
	step("migrate (kustomize): waiting for Kubeflow: %s COMPLETED, %s RUNNING", done.Name, long.Name)
	waitForState(t, done, migrateTimeout, v1beta2.ApplicationStateCompleted)
	waitForState(t, long, migrateTimeout, v1beta2.ApplicationStateRunning)
	before := util.GetApp(t, k8s, long.Namespace, long.Name)
	if st := before.Status.AppState.State; st != v1beta2.ApplicationStateRunning {
		t.Fatalf("%s is %s before the swap, want RUNNING (sleep longer on this machine)", long.Name, st)
	}
	kfLease := &coordinationv1.Lease{}
	get(t, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: kubeflowLease}}, kfLease)
	kfHolder := ptr.Deref(kfLease.Spec.HolderIdentity, "")
	if kfHolder == "" {
		t.Fatalf("Kubeflow's controller holds no Lease %s: %+v", kubeflowLease, kfLease.Spec)
	}

	step("migrate (kustomize): README's three commands")
	swapStart := time.Now()
	for _, cmd := range kubeflow.KustomizeMigration {
		kubectl(t, kubeflow.KustomizeMigrationArgs(cmd, jobNamespace, root)...)
	}
	kubectl(t, "-n", operatorNamespace, "rollout", "status", "deployment/spark-operator-controller", "--timeout=5m")
	step("migrate (kustomize): ours is rolled out (%.0fs after the swap started)", time.Since(swapStart).Seconds())

	var lease coordinationv1.Lease
	framework.WaitFor(t, migrateTimeout, "ours holding the Lease "+kubeflowLease+", no pod of Kubeflow's left", func() (bool, string) {
		get(t, kfLease, &lease)
		kf, ours := operatorPods(t, ctx)
		holder := ptr.Deref(lease.Spec.HolderIdentity, "")
		held := slices.ContainsFunc(ours, func(pod string) bool { return strings.HasPrefix(holder, pod+"_") })
		return held && len(kf) == 0, fmt.Sprintf("holder %q (Kubeflow's was %q), Kubeflow's pods %v, ours %v", holder, kfHolder, kf, ours)
	})
	t.Logf("Lease %s: Kubeflow's holder %s, now %s", kubeflowLease, kfHolder, ptr.Deref(lease.Spec.HolderIdentity, ""))

	after := waitForState(t, long, migrateTimeout, v1beta2.ApplicationStateCompleted)
	if was := before.Status; after.Status.SubmissionID != was.SubmissionID || after.Status.DriverInfo.PodName != was.DriverInfo.PodName {
		t.Errorf("%s: completed with submission %s, driver %s; Kubeflow left submission %s, driver %s",
			long.Name, after.Status.SubmissionID, after.Status.DriverInfo.PodName, was.SubmissionID, was.DriverInfo.PodName)
	}
	watch.stop()
	watch.checkTakenOver(t, done, long)
}

// kubeflowKustomizeOverlay writes a kustomization over Kubeflow's config/default (kfDefault) into a
// temporary directory and returns that directory. It adds what the Helm variant sets through
// Kubeflow's chart values: the controller gets sparkHome mounted at /opt/spark and SPARK_HOME, and
// the two webhook configurations are left out (webhook.enable=false). Kustomize takes a base only
// by a relative path.
func kubeflowKustomizeOverlay(t *testing.T, kfDefault, sparkHome string) string {
	t.Helper()
	dir := t.TempDir()
	base, err := filepath.Rel(dir, kfDefault)
	if err != nil {
		t.Fatal(err)
	}
	kustomization := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
patches:
- patch: |-
    $patch: delete
    apiVersion: admissionregistration.k8s.io/v1
    kind: MutatingWebhookConfiguration
    metadata:
      name: mutating-webhook-configuration
- patch: |-
    $patch: delete
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingWebhookConfiguration
    metadata:
      name: validating-webhook-configuration
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: spark-operator-controller
      namespace: %s
    spec:
      template:
        spec:
          containers:
          - name: controller
            env:
            - name: SPARK_HOME
              value: /opt/spark
            volumeMounts:
            - name: spark
              mountPath: /opt/spark
              readOnly: true
          volumes:
          - name: spark
            hostPath:
              path: %s
`, base, operatorNamespace, sparkHome)
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// deleteKustomization deletes, with background propagation, the objects `kubectl kustomize dir`
// renders (in namespace ns when it is set, as `kubectl -n ns apply -k dir` puts them), but for
// Namespaces and CustomResourceDefinitions, which the suite keeps. Missing objects are skipped.
func deleteKustomization(t *testing.T, dir, ns string) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(kubectl(t, "kustomize", dir)), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Errorf("decoding %s: %v", dir, err)
			return
		}
		if len(obj.Object) == 0 || obj.GetKind() == "Namespace" || obj.GetKind() == "CustomResourceDefinition" {
			continue
		}
		if ns != "" {
			obj.SetNamespace(ns)
		}
		err := k8s.Delete(context.Background(), obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s %s/%s of %s: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), dir, err)
		}
	}
}

// operatorPods lists the pods of the operator's namespace that run Kubeflow's image (its
// controller's and its webhook's), and those that run ours (whose names begin the leader election
// identity, "<hostname>_<uuid>", the process node giving each pod its name as hostname).
func operatorPods(t *testing.T, ctx context.Context) (kf, ours []string) {
	t.Helper()
	pods := &corev1.PodList{}
	if err := k8s.List(ctx, pods, client.InNamespace(operatorNamespace)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			switch {
			case strings.Contains(c.Image, "kubeflow/spark-operator"):
				kf = append(kf, p.Name)
			case strings.Contains(c.Image, "sparkop/spark-operator"):
				ours = append(ours, p.Name)
			}
		}
	}
	return kf, ours
}
