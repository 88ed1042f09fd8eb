package chart_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// TestCRDUpgradeHook runs what hook.upgradeCrd's Job runs, for real: the hook's service account and
// RBAC are applied, the CRDs of the hook ConfigMap are written where the Job mounts them, and
// bin/kubectl runs the Job's arguments as that service account (impersonated) against the API
// server. The CRDs apply with only the hook's permissions, which allow nothing on other CRDs.
func TestCRDUpgradeHook(t *testing.T) {
	ns := env.NewNamespace(t)
	r, err := renderChart(t, "hook", ns, "hook: {upgradeCrd: true}")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var jobArgs []string
	dir := t.TempDir()
	const mountPath = "/etc/spark-operator/crds"
	for _, o := range r.objects {
		if o.template != "templates/hook/upgradecrd.yaml" {
			continue
		}
		switch o.obj.GetKind() {
		case "Job":
			a, _ := lookup(o.obj.Object, container+".args")
			jobArgs = toStrings(a)
			continue
		case "ConfigMap":
			data, _ := o.obj.Object["data"].(map[string]any)
			for name, content := range data {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content.(string)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.obj.DeepCopy()), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s: %v", o, err)
		}
		obj := o.obj.DeepCopy()
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 3 || len(jobArgs) == 0 {
		t.Fatalf("the hook rendered %d CRD files and Job args %q", len(files), jobArgs)
	}
	const sa = "hook-spark-operator-hook"
	user := framework.ServiceAccountUser(ns, sa)
	waitAllowed(t, user, ns, authorizationv1.ResourceAttributes{Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "sparkapplications.sparkoperator.k8s.io"})
	if allowed(t, user, ns, authorizationv1.ResourceAttributes{Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "podmonitors.monitoring.coreos.com"}) {
		t.Error("the hook's service account may patch other CRDs")
	}

	args := []string{"--kubeconfig", env.Kubeconfig, "--as", user}
	for _, a := range jobArgs {
		args = append(args, strings.ReplaceAll(a, mountPath, dir))
	}
	out, err := exec.Command(filepath.Join(env.AssetsDir, "kubectl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(jobArgs, " "), err, out)
	}
	for _, crd := range []string{"sparkapplications.sparkoperator.k8s.io", "scheduledsparkapplications.sparkoperator.k8s.io", "sparkconnects.sparkoperator.k8s.io"} {
		if !strings.Contains(string(out), crd+" serverside-applied") {
			t.Errorf("kubectl did not apply %s:\n%s", crd, out)
		}
	}
}
