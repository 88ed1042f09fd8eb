package chart_test

import (
	"reflect"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/sparkop/spark-operator/internal/testing/kubeflow"
)

// TestUpgradeFromKubeflowKeepsObjects checks what README.md's migration relies on when it upgrades
// Kubeflow's release (its chart of each release in kubeflow.Versions, default values) to ours with
// spark.serviceAccount.name=<release>-spark: the objects running drivers depend on (the Spark service
// account, Role and RoleBinding of the job namespace) and the controller's Deployment have the same
// kind, namespace and name in both charts, so Helm updates them in place instead of deleting
// Kubeflow's and creating ours; and the Deployment's selector, which cannot change, is the same.
// TestMigrateFromKubeflow (test/e2e) walks the migration itself.
func TestUpgradeFromKubeflowKeepsObjects(t *testing.T) {
	for _, version := range kubeflow.Versions {
		t.Run(version, func(t *testing.T) { testUpgradeFromKubeflowKeepsObjects(t, version) })
	}
}

func testUpgradeFromKubeflowKeepsObjects(t *testing.T, version string) {
	kf, err := loader.Load(kubeflowChartDir(t, version))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := renderLoaded(t, kf, defaultRelease, defaultNamespace, "")
	if err != nil {
		t.Fatalf("rendering Kubeflow's chart: %v", err)
	}
	ours := mustRender(t, "spark:\n  serviceAccount:\n    name: spark-operator-spark\n")
	for _, want := range []struct{ kind, ns, name string }{
		{"ServiceAccount", "default", "spark-operator-spark"},
		{"Role", "default", "spark-operator-spark"},
		{"RoleBinding", "default", "spark-operator-spark"},
		{"Deployment", defaultNamespace, "spark-operator-controller"},
	} {
		var objs [2]*rendered
		for i, r := range []*rendering{theirs, ours} {
			for _, o := range r.find("", want.kind, want.name) {
				if ns := o.obj.GetNamespace(); ns == want.ns || ns == "" && want.ns == defaultNamespace {
					objs[i] = &o
				}
			}
		}
		if objs[0] == nil || objs[1] == nil {
			t.Errorf("%s %s/%s: in Kubeflow's chart %v, in ours %v", want.kind, want.ns, want.name, objs[0] != nil, objs[1] != nil)
			continue
		}
		if want.kind == "Deployment" {
			a, _ := lookup(objs[0].obj.Object, "spec.selector")
			b, _ := lookup(objs[1].obj.Object, "spec.selector")
			if !reflect.DeepEqual(a, b) {
				t.Errorf("the controller's selector: Kubeflow's %v, ours %v", a, b)
			}
		}
	}
}
