package chart_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// fieldOwner is the field manager of the tests' writes, as Helm's would be.
const fieldOwner = "helm"

// applyVariants are the renderings applied with server-side dry run. Their job namespaces exist
// (TestDryRunApply creates them).
var applyVariants = []struct{ name, values string }{
	{"defaults", ""},
	{"several job namespaces", "spark: {jobNamespaces: [chart-team-a, chart-team-b]}"},
	{"all namespaces", "spark: {jobNamespaces: []}"},
	{"leader election off", "controller: {leaderElection: {enable: false}}"},
	{"metrics off", "prometheus: {metrics: {enable: false}}"},
	{"PodMonitor", "prometheus: {podMonitor: {create: true, labels: {release: prometheus}}}"},
	{"three replicas with a PodDisruptionBudget", "controller: {replicas: 3, podDisruptionBudget: {enable: true, minAvailable: 2}}"},
	{"custom image and resources", `
image: {registry: registry.example.com, repository: platform/spark-operator, tag: v9.9.9, pullPolicy: Always, pullSecrets: [{name: regcred}]}
controller:
  replicas: 2
  hostUsers: false
  resources: {requests: {cpu: 250m, memory: 300Mi}, limits: {memory: 1Gi}}
  tolerations: [{key: dedicated, operator: Equal, value: platform, effect: NoSchedule}]
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}]
  env: [{name: GOMEMLIMIT, value: 900MiB}]
  envFrom: [{configMapRef: {name: operator-env}}]
  sidecars: [{name: proxy, image: "envoy:v1"}]
  volumes: [{name: extra, emptyDir: {}}]
  volumeMounts: [{name: extra, mountPath: /extra}]
  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]}]}}}
`},
	{"Kubeflow values file", `
controller:
  workers: 30
  logEncoder: json
  uiIngress: {enable: true, urlFormat: "{{$appName}}.spark.example.com", ingressClassName: nginx, tls: [{hosts: ["*.spark.example.com"], secretName: ui-tls}]}
  featureGates: [{name: PartialRestart, enabled: true}]
  batchScheduler: {enable: true, kubeSchedulerNames: [default-scheduler], default: volcano}
  driverPodDisruptionBudget: {enable: true}
  pprof: {enable: true}
  workqueueRateLimiter: {bucketQPS: 20, maxDelay: {enable: false}}
spark:
  serviceAccount: {name: "", annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/x"}}
webhook: {enable: true}
`},
	{"validating webhook", "webhook: {enable: true}"},
	{"webhook with Kubeflow's webhook keys", `
spark: {jobNamespaces: [chart-team-a, chart-team-b]}
webhook:
  enable: true
  replicas: 2
  resourceQuotaEnforcement: {enable: true}
  podDisruptionBudget: {enable: true}
  hostUsers: false
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}]
  resources: {requests: {cpu: 50m, memory: 64Mi}}
  tolerations: [{key: dedicated, operator: Exists}]
`},
	{"validating webhook with cert-manager", "webhook: {enable: true}\ncertManager: {enable: true, duration: 2160h}"},
	{"CRD upgrade hook", "hook: {upgradeCrd: true}"},
}

// TestDryRunApply renders each variant and sends every object to the API server as a server-side
// apply and as a strictly validated create, both dry run: the schemas of the real API server (and
// of the installed CRDs) accept every field, and nothing is left behind.
func TestDryRunApply(t *testing.T) {
	ctx := context.Background()
	for _, ns := range []string{defaultNamespace, "chart-team-a", "chart-team-b"} {
		util.EnsureNamespace(t, env.Client, ns)
	}
	installPodMonitorCRD(t)
	installStandInCRD(t, "cert-manager.io", "Issuer", "issuers")
	installStandInCRD(t, "cert-manager.io", "Certificate", "certificates")
	for _, v := range applyVariants {
		t.Run(v.name, func(t *testing.T) {
			r := mustRender(t, v.values)
			if len(r.objects) == 0 {
				t.Fatal("nothing rendered")
			}
			for _, o := range r.objects {
				if err := dryRunApply(ctx, o.obj); err != nil {
					t.Errorf("%s: %v", o, err)
				}
			}
		})
	}
}

// TestDryRunApplyConfig does the same for the plain manifests: everything config/default renders
// (CRDs, RBAC, the operator's namespace, service account and Deployment), and config/spark-rbac in
// default.
func TestDryRunApplyConfig(t *testing.T) {
	ctx := context.Background()
	objs := readKustomization(t, "config/default")
	objs = append(objs, readSparkRBAC(t, "default")...)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.obj.GetKind()]++
		if o.obj.GetKind() == "Namespace" {
			// Applied for real: the namespaced objects after it need it, even in a dry run.
			util.EnsureNamespace(t, env.Client, o.obj.GetName())
		}
	}
	for _, want := range []string{"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount", "Deployment", "Namespace"} {
		if kinds[want] == 0 {
			t.Errorf("config/default has no %s (has %v)", want, kinds)
		}
	}
	for _, o := range objs {
		if err := dryRunApply(ctx, o.obj); err != nil {
			t.Errorf("%s: %v", o, err)
		}
	}
}

// dryRunApply sends obj as a dry-run server-side apply and a dry-run strict create. A create
// of an object that exists (a CRD, a namespace) only has to fail with AlreadyExists.
func dryRunApply(ctx context.Context, obj *unstructured.Unstructured) error {
	var errs []error
	// An apply made with the client's RESTMapper, which learns about new CRDs lazily: retry a
	// "no matches for kind" for a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()),
			client.FieldOwner(fieldOwner), client.ForceOwnership, client.DryRunAll)
		if err != nil && meta.IsNoMatchError(err) && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("server-side apply (dry run): %w", err))
		}
		break
	}
	err := env.Client.Create(ctx, obj.DeepCopy(), client.DryRunAll, client.FieldOwner(fieldOwner),
		client.FieldValidation(metav1.FieldValidationStrict))
	if err != nil && !apierrors.IsAlreadyExists(err) {
		errs = append(errs, fmt.Errorf("create (dry run, strict): %w", err))
	}
	return errors.Join(errs...)
}

// installPodMonitorCRD installs a stand-in for the Prometheus Operator's PodMonitor CRD (any
// content under spec), so that the chart's PodMonitor can be applied.
func installPodMonitorCRD(t *testing.T) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "podmonitors.monitoring.coreos.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "monitoring.coreos.com",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "podmonitors", Singular: "podmonitor", Kind: "PodMonitor", ListKind: "PodMonitorList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", XPreserveUnknownFields: ptr.To(true)},
					},
				}},
			}},
		},
	}
	installCRD(t, crd)
}

// installCRD creates crd unless it exists and waits up to 20 s until it is Established (served).
func installCRD(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the CRD %s: %v", crd.Name, err)
	}
	framework.WaitFor(t, 20*time.Second, "the CRD "+crd.Name+" to be established", func() (bool, string) {
		got := &apiextensionsv1.CustomResourceDefinition{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: crd.Name}, got); err != nil {
			return false, err.Error()
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, ""
			}
		}
		return false, fmt.Sprint(got.Status.Conditions)
	})
}

// readKustomization renders the kustomization in dir (relative to the repository root) with
// `kubectl kustomize`, as `kubectl apply -k` does, and decodes every object.
func readKustomization(t *testing.T, dir string) []rendered {
	t.Helper()
	return decodeManifests(t, dir, env.Kubectl(t, nil, "kustomize", filepath.Join(env.RepoRoot, dir)))
}

// readSparkRBAC renders config/spark-rbac for job namespace ns, as `kubectl apply -k
// config/spark-rbac -n ns` applies it.
func readSparkRBAC(t *testing.T, ns string) []rendered {
	t.Helper()
	objs := readKustomization(t, "config/spark-rbac")
	for _, o := range objs {
		o.obj.SetNamespace(ns)
	}
	return objs
}

// readManifestFile decodes every object of a YAML file relative to the repository root.
func readManifestFile(t *testing.T, rel string) []rendered {
	t.Helper()
	return decodeManifests(t, rel, readFile(t, rel))
}

// decodeManifests decodes every object of a multi-document YAML stream; source names it in
// failures and in each rendered's template.
func decodeManifests(t *testing.T, source string, data []byte) []rendered {
	t.Helper()
	var out []rendered
	for _, part := range strings.Split("\n"+string(data), "\n---") {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(part), &obj); err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, rendered{template: source, obj: &unstructured.Unstructured{Object: obj}})
	}
	return out
}

// installStandInCRD installs a schemaless namespaced CRD for a kind the chart may render (cert-manager's
// Issuer and Certificate), so the dry run can check everything else.
func installStandInCRD(t *testing.T, group, kind, plural string) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Singular: strings.ToLower(kind), Kind: kind, ListKind: kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type:       "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{"spec": {Type: "object", XPreserveUnknownFields: ptr.To(true)}},
				}},
			}},
		},
	}
	installCRD(t, crd)
}
