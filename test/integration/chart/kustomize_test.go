package chart_test

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/kubeflow"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// kubeflowKustomizeVersion is the Kubeflow release whose kustomize install is replaced; its
// config/default exists since v2.5.1.
var kubeflowKustomizeVersion = kubeflow.Latest

// TestMigrateFromKubeflowKustomize checks the switch from Kubeflow's kustomize install (its
// config/default, and its config/spark-rbac in a job namespace) to ours, as README.md describes it.
//
// Statically, on the two renderings: every object of Kubeflow's is either one of ours (same kind,
// namespace and name, with every one of Kubeflow's labels, the same Deployment selector and service
// account) or deleted by the migration's first command, and that command deletes nothing of ours;
// our Deployment's arguments are flags `controller start` accepts, and its leader election Lease is
// Kubeflow's, so that during the rollout the two controllers never lead at once.
//
// Then for real, against the API server (no controller runs): Kubeflow's install is applied as its
// documentation says, a SparkApplication is created, the migration's commands run, and afterwards
// every object of ours is in the cluster as rendered (nothing of Kubeflow's left inside it: the
// CRDs' conversion webhook, the Deployment's extra arguments, environment and volumes), the deleted
// objects are gone, so a SparkApplication can be created in default again (Kubeflow's webhook
// configurations, failing without their webhook, refused it before), and the application and the
// Spark driver's service account are the same objects (same UIDs).
func TestMigrateFromKubeflowKustomize(t *testing.T) {
	ctx := context.Background()
	kfConfig := filepath.Join(kubeflow.MustModuleDir(t, kubeflowKustomizeVersion), "config")
	jobNs := env.NewNamespace(t)
	theirs := append(decodeManifests(t, "Kubeflow's config/default", env.Kubectl(t, nil, "kustomize", filepath.Join(kfConfig, "default"))),
		decodeManifests(t, "Kubeflow's config/spark-rbac", env.Kubectl(t, nil, "kustomize", filepath.Join(kfConfig, "spark-rbac")))...)
	for _, o := range theirs {
		if o.template == "Kubeflow's config/spark-rbac" {
			o.obj.SetNamespace(jobNs)
		}
	}
	ours := append(readKustomization(t, "config/default"), readSparkRBAC(t, jobNs)...)
	deleted := deletedBy(t, kubeflow.KustomizeMigration[0])
	compareKustomizeInstalls(t, theirs, ours, deleted)
	for _, cmd := range kubeflow.KustomizeMigration {
		checkREADMEShows(t, cmd)
	}

	// Kubeflow's install, as its docs/kustomize-installation.md says. Afterwards, whatever happened,
	// both installs' objects are deleted (Kubeflow's webhook configurations would fail the package's
	// other tests, and the chart's installs would conflict with cluster-scoped ones) but for the
	// namespaces and CRDs, and our CRDs are applied again.
	t.Cleanup(func() {
		for _, o := range append(theirs, ours...) {
			if k := o.obj.GetKind(); k != "Namespace" && k != "CustomResourceDefinition" {
				if err := env.Client.Delete(ctx, o.obj.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("cleaning up %s: %v", o, err)
				}
			}
		}
		env.Kubectl(t, nil, "apply", "--server-side", "--force-conflicts", "-k", filepath.Join(env.RepoRoot, "config/crd"))
	})
	env.Kubectl(t, nil, "apply", "-k", filepath.Join(kfConfig, "default"), "--server-side", "--force-conflicts")
	env.Kubectl(t, nil, "-n", jobNs, "apply", "-k", filepath.Join(kfConfig, "spark-rbac"))
	// Kubeflow's webhook configurations select the namespace default only: the application is in
	// another one, created as if while Kubeflow's webhook answered.
	app := wrappers.MakeSparkApplication("pi", jobNs).Obj()
	app.Spec.Driver.ServiceAccount = wrappers.Ptr("spark-operator-spark")
	util.Create(t, env.Client, app)
	sa := &corev1.ServiceAccount{}
	util.Get(t, env.Client, jobNs, "spark-operator-spark", sa)
	inDefault := func() error {
		return env.Client.Create(ctx, wrappers.MakeSparkApplication("pi-after-migration", "default").Obj(), client.DryRunAll)
	}
	if err := inDefault(); err == nil || !strings.Contains(err.Error(), "webhook") {
		t.Fatalf("with Kubeflow's webhook configurations and no webhook, a SparkApplication in default: %v, want a failed webhook call (else the last check below proves nothing)", err)
	}

	for _, cmd := range kubeflow.KustomizeMigration {
		env.Kubectl(t, nil, kubeflow.KustomizeMigrationArgs(cmd, jobNs, env.RepoRoot)...)
	}

	for _, o := range ours {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.obj.GroupVersionKind())
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o.obj), live); err != nil {
			t.Errorf("%s: %v", o, err)
			continue
		}
		for _, diff := range util.SubsetDiff("", o.obj.Object, live.Object) {
			t.Errorf("%s in the cluster: %s", o, diff)
		}
		switch o.obj.GetKind() {
		case "Deployment":
			for _, path := range []string{"spec.template.spec.volumes", "spec.template.spec.containers[0].env", "spec.template.spec.containers[0].volumeMounts"} {
				if v, found := lookup(live.Object, path); found {
					t.Errorf("%s keeps %s from Kubeflow's: %v", o, path, v)
				}
			}
		case "CustomResourceDefinition":
			if v, _ := lookup(live.Object, "spec.conversion.strategy"); v != string(apiextensionsv1.NoneConverter) {
				t.Errorf("%s keeps Kubeflow's conversion webhook: %v", o, v)
			}
		}
	}
	for _, ref := range deleted {
		gvk, ok := ref.gvk(theirs)
		if !ok {
			continue // Kubeflow's webhook creates its Secret and Lease at run time; no manifest has them
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(gvk)
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ref.ns, Name: ref.name}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s %s/%s of Kubeflow's is still there (%v)", ref.kind, ref.ns, ref.name, err)
		}
	}
	if err := inDefault(); err != nil {
		t.Errorf("after the migration, a SparkApplication in default: %v", err)
	}
	gotApp := &v1beta2.SparkApplication{}
	util.Get(t, env.Client, jobNs, app.Name, gotApp)
	gotSA := &corev1.ServiceAccount{}
	util.Get(t, env.Client, jobNs, sa.Name, gotSA)
	if gotApp.UID != app.UID || gotSA.UID != sa.UID {
		t.Errorf("UIDs changed: application %s -> %s, driver service account %s -> %s", app.UID, gotApp.UID, sa.UID, gotSA.UID)
	}

	// A later switch to the chart: its CRDs, applied server-side by the same field manager as the
	// kustomize install's, must keep spec.conversion (a CRD without it there loses the field, and
	// the API server refuses the CRD: "spec.conversion.strategy: Required value").
	env.Kubectl(t, nil, "apply", "--server-side", "--force-conflicts", "-f", filepath.Join(env.RepoRoot, "charts/spark-operator/crds"))
}

// TestKubeflowKustomizeComponents compares the optional components of Kubeflow's kustomize install
// that ours has too (config/pdb, config/prometheus) as TestMigrateFromKubeflowKustomize compares
// config/default, checks that their selectors match our controller's pods, and applies them with
// server-side dry run.
func TestKubeflowKustomizeComponents(t *testing.T) {
	kfConfig := filepath.Join(kubeflow.MustModuleDir(t, kubeflowKustomizeVersion), "config")
	installPodMonitorCRD(t)
	util.EnsureNamespace(t, env.Client, defaultNamespace)
	var podLabels map[string]any
	for _, o := range readKustomization(t, "config/default") {
		if o.obj.GetKind() == "Deployment" {
			podLabels, _ = must(lookup(o.obj.Object, "spec.template.metadata.labels")).(map[string]any)
		}
	}
	for _, dir := range []string{"pdb", "prometheus"} {
		t.Run(dir, func(t *testing.T) {
			theirs := decodeManifests(t, "Kubeflow's config/"+dir, env.Kubectl(t, nil, "kustomize", filepath.Join(kfConfig, dir)))
			ours := readKustomization(t, "config/"+dir)
			compareKustomizeInstalls(t, theirs, ours, nil)
			for _, o := range ours {
				selector, _ := lookup(o.obj.Object, "spec.selector.matchLabels")
				if d := util.SubsetDiff("matchLabels", selector, podLabels); len(d) > 0 || selector == nil {
					t.Errorf("%s does not select our controller's pods (labels %v): %v", o, podLabels, d)
				}
				o.obj.SetNamespace(defaultNamespace)
				if err := dryRunApply(context.Background(), o.obj); err != nil {
					t.Errorf("%s: %v", o, err)
				}
			}
		})
	}
}

// objectRef is an object named on a kubectl command line: lower-case kind (resource), namespace
// (empty for cluster-scoped ones) and name.
type objectRef struct{ kind, ns, name string }

// gvk returns the group, version and kind of the object of objs this reference names; false when
// none does.
func (r objectRef) gvk(objs []rendered) (schema.GroupVersionKind, bool) {
	for _, o := range objs {
		if strings.EqualFold(o.obj.GetKind(), r.kind) && o.obj.GetNamespace() == r.ns && o.obj.GetName() == r.name {
			return o.obj.GroupVersionKind(), true
		}
	}
	return schema.GroupVersionKind{}, false
}

// deletedBy returns the objects a `kubectl -n NS delete kind/name ...` command names. Cluster-scoped
// kinds get no namespace.
func deletedBy(t *testing.T, cmd string) []objectRef {
	t.Helper()
	m := regexp.MustCompile(`^kubectl -n (\S+) delete (.*)$`).FindStringSubmatch(cmd)
	if m == nil {
		t.Fatalf("not a kubectl -n NS delete command: %s", cmd)
	}
	clusterScoped := map[string]bool{"mutatingwebhookconfiguration": true, "validatingwebhookconfiguration": true, "clusterrole": true, "clusterrolebinding": true}
	var out []objectRef
	for _, arg := range strings.Fields(m[2]) {
		kind, name, ok := strings.Cut(arg, "/")
		if !ok {
			continue // a flag
		}
		ref := objectRef{kind: kind, ns: m[1], name: name}
		if clusterScoped[kind] {
			ref.ns = ""
		}
		out = append(out, ref)
	}
	return out
}

// compareKustomizeInstalls checks that each of Kubeflow's objects is one of ours or deleted, that
// ours has every label Kubeflow's has (and, for a Deployment, the same selector, service account and
// leader election Lease), and that nothing of ours is deleted.
func compareKustomizeInstalls(t *testing.T, theirs, ours []rendered, deleted []objectRef) {
	t.Helper()
	isDeleted := func(o rendered) bool {
		for _, ref := range deleted {
			if strings.EqualFold(ref.kind, o.obj.GetKind()) && ref.ns == o.obj.GetNamespace() && ref.name == o.obj.GetName() {
				return true
			}
		}
		return false
	}
	for _, o := range ours {
		if isDeleted(o) {
			t.Errorf("the migration deletes %s, which is ours", o)
		}
	}
	for _, kf := range theirs {
		var match *rendered
		for i, o := range ours {
			if o.obj.GetKind() == kf.obj.GetKind() && o.obj.GetNamespace() == kf.obj.GetNamespace() && o.obj.GetName() == kf.obj.GetName() {
				match = &ours[i]
			}
		}
		if match == nil {
			if !isDeleted(kf) {
				t.Errorf("%s is neither ours nor deleted by the migration", kf)
			}
			continue
		}
		for k, v := range kf.obj.GetLabels() {
			if got := match.obj.GetLabels()[k]; got != v {
				t.Errorf("%s: label %s=%q, Kubeflow's is %q", match, k, got, v)
			}
		}
		a, _ := lookup(kf.obj.Object, "spec.selector")
		if b, _ := lookup(match.obj.Object, "spec.selector"); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: spec.selector is %v, Kubeflow's %v", match, b, a)
		}
		if kf.obj.GetKind() != "Deployment" {
			continue
		}
		for _, path := range []string{"spec.template.metadata.labels", "spec.template.spec.serviceAccountName"} {
			a, _ := lookup(kf.obj.Object, path)
			b, _ := lookup(match.obj.Object, path)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %s is %v, Kubeflow's %v", match, path, b, a)
			}
		}
		args := toStrings(must(lookup(match.obj.Object, "spec.template.spec.containers[0].args")))
		checkOperatorFlags(t, args)
		kfArgs := toStrings(must(lookup(kf.obj.Object, "spec.template.spec.containers[0].args")))
		if got, want := leaseOf(args, match.obj.GetNamespace()), leaseOf(kfArgs, kf.obj.GetNamespace()); got != want {
			t.Errorf("%s: leader election Lease %s, Kubeflow's is %s: the two controllers could lead at once during the rollout", match, got, want)
		}
	}
}

// leaseOf returns "namespace/name" of the leader election Lease that `controller start` args use
// in namespace ns ($(CONTROLLER_NAMESPACE), set from the pod's namespace, or no flag: ns).
func leaseOf(args []string, ns string) string {
	name := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--leader-election-lock-name="); ok {
			name = v
		}
		if v, ok := strings.CutPrefix(a, "--leader-election-lock-namespace="); ok && v != "$(CONTROLLER_NAMESPACE)" {
			ns = v
		}
	}
	return ns + "/" + name
}

func must(v any, _ bool) any { return v }

// checkREADMEShows checks that README.md has cmd (line continuations joined, JOB_NAMESPACE written
// as default).
func checkREADMEShows(t *testing.T, cmd string) {
	t.Helper()
	readme := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(readFile(t, "README.md")), "")
	if want := strings.ReplaceAll(cmd, "JOB_NAMESPACE", "default"); !strings.Contains(readme, want) {
		t.Errorf("README.md does not show the migration command\n%s", want)
	}
}
