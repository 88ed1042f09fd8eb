package chart_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/metrics"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// installation is the chart installed for real (all but the Deployment, whose place the test
// process takes) into a release namespace, with its job namespaces.
type installation struct {
	release, namespace string
	jobNamespaces      []string
	// operatorSA and sparkSA are the service account names the chart rendered.
	operatorSA, sparkSA string
	// flags are the operator's `controller start` flags from the rendered Deployment, by name.
	flags map[string]string
}

// install renders the chart for the release namespace ns and job namespaces jobs, and applies every
// object except the Deployment with server-side apply (not a dry run).
func install(t *testing.T, release, ns string, jobs []string, extraValues string) *installation {
	t.Helper()
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(extraValues), &vals); err != nil {
		t.Fatal(err)
	}
	spark, _ := vals["spark"].(map[string]any)
	if spark == nil {
		spark = map[string]any{}
	}
	spark["jobNamespaces"] = append([]string{}, jobs...) // never null: an empty list means all namespaces
	vals["spark"] = spark
	values, err := yaml.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	r, err := renderChart(t, release, ns, string(values))
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	inst := &installation{release: release, namespace: ns, jobNamespaces: jobs, flags: map[string]string{}}
	ctx := context.Background()
	for _, o := range r.objects {
		switch o.obj.GetKind() {
		case "Deployment":
			if o.template != deployTmpl {
				continue // the webhook's
			}
			c, _ := lookup(o.obj.Object, container)
			cm := c.(map[string]any)
			inst.operatorSA = fmt.Sprint(o.obj.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["serviceAccountName"])
			for _, a := range toStrings(cm["args"]) {
				if name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok {
					inst.flags[name] = value
				}
			}
			continue
		case "ServiceAccount":
			if o.template == sparkTmpl {
				inst.sparkSA = o.obj.GetName()
			}
		}
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.obj.DeepCopy()), client.FieldOwner(fieldOwner), client.ForceOwnership)
		if err != nil {
			t.Fatalf("applying %s: %v", o, err)
		}
		if o.obj.GetNamespace() == "" {
			obj := o.obj.DeepCopy()
			t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
		}
	}
	if inst.operatorSA == "" || (len(jobs) > 0 && inst.sparkSA == "") {
		t.Fatalf("the chart rendered no operator or no spark service account: %v", r.kinds())
	}
	return inst
}

// forbiddenRecorder records the requests the API server refused with 403 Forbidden.
type forbiddenRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (f *forbiddenRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusForbidden {
			f.mu.Lock()
			f.seen = append(f.seen, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
			f.mu.Unlock()
		}
		return resp, err
	})
}

func (f *forbiddenRecorder) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestOperatorWithItsOwnServiceAccount installs the chart's RBAC and runs the operator in-process
// with a token of the chart's operator service account (TokenRequest API, no client certificate,
// so the RBAC authorizer decides everything), configured from the flags of the rendered Deployment
// (namespaces, namespace selector, leader election Lease, metrics labels) as `controller start`
// does. A SparkApplication goes SUBMITTED -> RUNNING -> COMPLETED, the test playing the kubelet
// with the admin client and the Spark driver with the driver's own token. No request of the
// operator may be refused; what the chart does not grant must be refused. Two installations: a
// fixed list of job namespaces (Roles in those namespaces), and a namespace selector (ClusterRole).
func TestOperatorWithItsOwnServiceAccount(t *testing.T) {
	t.Run("job namespaces", func(t *testing.T) { testOperatorRBAC(t, false) })
	t.Run("namespace selector", func(t *testing.T) { testOperatorRBAC(t, true) })
}

func testOperatorRBAC(t *testing.T, selector bool) {
	ctx := context.Background()
	opNs, jobNs, jobNs2, otherNs := env.NewNamespace(t), env.NewNamespace(t), env.NewNamespace(t), env.NewNamespace(t)
	release, appNs, extra := "rbac", jobNs, ""
	if selector {
		// jobNs2 is served because of its label; the application runs there.
		label := "chart-test-" + strings.TrimPrefix(jobNs2, "testoperatorwithitsownserviceaccount-")
		release, appNs, extra = "rbac-selector", jobNs2, fmt.Sprintf("spark: {jobNamespaceSelector: %s=enabled}", label)
		nsObj := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: jobNs2}, nsObj); err != nil {
			t.Fatal(err)
		}
		if nsObj.Labels == nil {
			nsObj.Labels = map[string]string{}
		}
		nsObj.Labels[label] = "enabled"
		if err := env.Client.Update(ctx, nsObj); err != nil {
			t.Fatal(err)
		}
	}
	jobs := []string{jobNs, jobNs2}
	if selector {
		jobs = []string{jobNs}
	}
	inst := install(t, release, opNs, jobs, "prometheus: {metrics: {prefix: chart_}}\n"+extra)
	if got, want := inst.flags["namespaces"], strings.Join(jobs, ","); got != want {
		t.Fatalf("--namespaces=%q, want %q", got, want)
	}
	if inst.flags["leader-election"] != "true" || inst.flags["leader-election-lock-namespace"] != opNs {
		t.Fatalf("leader election flags: %v", inst.flags)
	}
	if _, ok := inst.flags["namespace-selector"]; ok != selector {
		t.Fatalf("--namespace-selector: %v", inst.flags)
	}

	opClient, cfg := saClient(t, opNs, inst.operatorSA, jobNs)

	forbidden := &forbiddenRecorder{}
	opCfg := rest.CopyConfig(cfg)
	opCfg.WrapTransport = forbidden.wrap
	lockName := inst.flags["leader-election-lock-name"]
	op := startOperator(t, opCfg, inst.flags)
	// Also when a wait below fails: what was refused is the likely reason.
	defer func() {
		op.stop()
		if seen := forbidden.list(); len(seen) > 0 {
			t.Errorf("the API server refused %d requests of the operator; the +kubebuilder:rbac markers (or the chart's leader election Role) miss a permission:\n%s",
				len(seen), strings.Join(seen, "\n"))
		}
	}()

	framework.WaitFor(t, 20*time.Second, "the operator to hold the leader election Lease", func() (bool, string) {
		lease := &coordinationv1.Lease{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: opNs, Name: lockName}, lease); err != nil {
			return false, err.Error()
		}
		return lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", "no holder"
	})

	sparkSA := inst.sparkSA
	app := wrappers.MakeSparkApplication("pi", appNs).Label("app_type", "pi").Driver(func(d *v1beta2.DriverSpec) { d.ServiceAccount = &sparkSA }).Obj()
	util.Create(t, env.Client, app)
	app = util.WaitForState(t, env.Client, appNs, "pi", v1beta2.ApplicationStateSubmitted)
	driver := util.GetPod(t, env.Client, appNs, "pi-driver")
	if driver.Spec.ServiceAccountName != sparkSA {
		t.Errorf("driver runs as %q, want the chart's spark service account %q", driver.Spec.ServiceAccountName, sparkSA)
	}
	util.RunDriver(t, env.Client, appNs, "pi-driver")
	util.WaitForState(t, env.Client, appNs, "pi", v1beta2.ApplicationStateRunning)
	framework.WaitFor(t, 10*time.Second, "the UI Service", func() (bool, string) {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: appNs, Name: "pi-ui-svc"}, &corev1.Service{})
		return err == nil, fmt.Sprint(err)
	})

	// The driver creates an executor as Spark does: with its own token where the chart created its
	// service account, else (a namespace served by label) as admin.
	driverClient := env.Client
	if !selector {
		driverCfg, err := env.ServiceAccountConfig(ctx, appNs, sparkSA)
		if err != nil {
			t.Fatal(err)
		}
		driverClient = newClient(t, driverCfg)
	}
	exec := util.ExecutorPod(app, driver, 1)
	framework.WaitFor(t, 10*time.Second, "the driver to create its executor", func() (bool, string) {
		err := driverClient.Create(ctx, exec.DeepCopy())
		return err == nil || apierrors.IsAlreadyExists(err), fmt.Sprint(err)
	})
	util.SetPodStatus(t, env.Client, appNs, exec.Name, corev1.PodRunning, util.Running)
	framework.WaitFor(t, 10*time.Second, "the executor in status.executorState", func() (bool, string) {
		got := &v1beta2.SparkApplication{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: appNs, Name: "pi"}, got); err != nil {
			return false, err.Error()
		}
		return got.Status.ExecutorState[exec.Name] == v1beta2.ExecutorStateRunning, fmt.Sprint(got.Status.ExecutorState)
	})
	// A Prometheus scrape: the running gauges read the operator's cache.
	if text := op.scrape(t); !strings.Contains(text, fmt.Sprintf(`chart_spark_application_running_count{app_type="pi",namespace=%q} 1`, appNs)) {
		t.Errorf("metrics while running:\n%s", text)
	}

	util.FinishDriver(t, env.Client, appNs, "pi-driver", 0)
	util.WaitForState(t, env.Client, appNs, "pi", v1beta2.ApplicationStateCompleted)
	framework.WaitFor(t, 10*time.Second, "the driver finalizer to be released and the UI Service deleted", func() (bool, string) {
		pod := util.GetPod(t, env.Client, appNs, "pi-driver")
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: appNs, Name: "pi-ui-svc"}, &corev1.Service{})
		return len(pod.Finalizers) == 0 && apierrors.IsNotFound(err), fmt.Sprint(pod.Finalizers, err)
	})
	framework.WaitFor(t, 10*time.Second, "the operator's events", func() (bool, string) {
		list := &eventsv1.EventList{}
		if err := env.Client.List(ctx, list, client.InNamespace(appNs)); err != nil {
			return false, err.Error()
		}
		var reasons []string
		for _, e := range list.Items {
			reasons = append(reasons, e.Reason)
		}
		return slices.Contains(reasons, sparkapplication.ReasonSubmitted) && slices.Contains(reasons, sparkapplication.ReasonDriverCompleted), fmt.Sprint(reasons)
	})
	if text := op.scrape(t); !strings.Contains(text, fmt.Sprintf(`chart_spark_application_success_count{app_type="pi",namespace=%q} 1`, appNs)) {
		t.Errorf("metrics after completion:\n%s", text)
	}

	// What the chart does not grant the operator.
	type action struct {
		what string
		do   func() error
	}
	refused := []action{
		{"list Secrets in a job namespace", func() error { return opClient.List(ctx, &corev1.SecretList{}, client.InNamespace(jobNs)) }},
		{"create a Deployment in a job namespace", func() error {
			return opClient.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: jobNs}, Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
			}})
		}},
		{"list nodes", func() error { return opClient.List(ctx, &corev1.NodeList{}) }},
		{"create a Lease in a job namespace", func() error {
			return opClient.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: jobNs}})
		}},
		{"create a RoleBinding", func() error {
			return opClient.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: jobNs},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}})
		}},
		{"delete a namespace", func() error {
			return opClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: otherNs}})
		}},
	}
	if !selector {
		refused = append(refused,
			action{"list pods in a namespace it does not watch", func() error { return opClient.List(ctx, &corev1.PodList{}, client.InNamespace(otherNs)) }},
			action{"list pods in all namespaces", func() error { return opClient.List(ctx, &corev1.PodList{}) }},
			action{"create a pod in its own namespace", func() error { return opClient.Create(ctx, simplePod("x", opNs)) }},
			action{"list SparkApplications in a namespace it does not watch", func() error {
				return opClient.List(ctx, &v1beta2.SparkApplicationList{}, client.InNamespace(otherNs))
			}},
			action{"list namespaces", func() error { return opClient.List(ctx, &corev1.NamespaceList{}) }},
		)
	}
	for _, r := range refused {
		if err := r.do(); !apierrors.IsForbidden(err) {
			t.Errorf("the operator's service account may %s: got %v, want Forbidden", r.what, err)
		}
	}
}

// TestSparkDriverServiceAccount checks the chart's `spark` service account with its own token: in
// its job namespace it can do what a Spark driver does (manage executor pods, their ConfigMap and
// PVCs, delete its Services), and nothing else; in another job namespace, where another `spark`
// service account has the same Role, and in an unrelated namespace, it can do nothing.
func TestSparkDriverServiceAccount(t *testing.T) {
	ctx := context.Background()
	opNs, jobNs, jobNs2, otherNs := env.NewNamespace(t), env.NewNamespace(t), env.NewNamespace(t), env.NewNamespace(t)
	inst := install(t, "driver", opNs, []string{jobNs, jobNs2}, "controller: {leaderElection: {enable: false}}")
	c, _ := saClient(t, jobNs, inst.sparkSA, jobNs)

	labels := map[string]string{v1beta2.LabelSparkAppSelector: "spark-123", v1beta2.LabelSparkRole: v1beta2.SparkRoleExecutor}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "driver-svc", Namespace: jobNs, Labels: labels},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "driver-rpc-port", Port: 7078}}}}
	if err := env.Client.Create(ctx, svc); err != nil { // the operator creates the driver's Service
		t.Fatal(err)
	}
	allowed := []struct {
		what string
		do   func() error
	}{
		{"create an executor pod", func() error {
			p := simplePod("exec-1", jobNs)
			p.Labels = labels
			return c.Create(ctx, p)
		}},
		{"get it", func() error { return c.Get(ctx, client.ObjectKey{Namespace: jobNs, Name: "exec-1"}, &corev1.Pod{}) }},
		{"list executors by label", func() error {
			return c.List(ctx, &corev1.PodList{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
		}},
		{"watch executors", func() error {
			w, err := c.(client.WithWatch).Watch(ctx, &corev1.PodList{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
			if err == nil {
				w.Stop()
			}
			return err
		}},
		{"label an executor (patch)", func() error {
			return c.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "exec-1", Namespace: jobNs}},
				client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"spark-exec-inactive":"true"}}}`)))
		}},
		{"delete an executor", func() error {
			return c.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "exec-1", Namespace: jobNs}})
		}},
		{"delete all executors (deletecollection)", func() error {
			return c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
		}},
		{"create the executor ConfigMap", func() error {
			return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "spark-exec-conf-map", Namespace: jobNs, Labels: labels}})
		}},
		{"list ConfigMaps", func() error { return c.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(jobNs)) }},
		{"delete the executor ConfigMap", func() error {
			return c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "spark-exec-conf-map", Namespace: jobNs}})
		}},
		{"delete ConfigMaps by label", func() error {
			return c.DeleteAllOf(ctx, &corev1.ConfigMap{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
		}},
		{"create an on-demand PVC", func() error {
			return c.Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "exec-1-pvc-0", Namespace: jobNs, Labels: labels},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
		}},
		{"list PVCs", func() error { return c.List(ctx, &corev1.PersistentVolumeClaimList{}, client.InNamespace(jobNs)) }},
		{"delete PVCs by label", func() error {
			return c.DeleteAllOf(ctx, &corev1.PersistentVolumeClaim{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
		}},
		{"list its Services", func() error {
			return c.List(ctx, &corev1.ServiceList{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
		}},
		{"delete its Services by label", func() error {
			return c.DeleteAllOf(ctx, &corev1.Service{}, client.InNamespace(jobNs), client.MatchingLabels(labels))
		}},
	}
	for _, a := range allowed {
		if err := a.do(); err != nil {
			t.Errorf("the spark service account cannot %s in its namespace: %v", a.what, err)
		}
	}

	refused := []struct {
		what string
		do   func() error
	}{
		{"list pods in the other job namespace", func() error { return c.List(ctx, &corev1.PodList{}, client.InNamespace(jobNs2)) }},
		{"create a pod in the other job namespace", func() error { return c.Create(ctx, simplePod("x", jobNs2)) }},
		{"create a ConfigMap in an unrelated namespace", func() error {
			return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: otherNs}})
		}},
		{"delete pods in the operator's namespace", func() error {
			return c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(opNs))
		}},
		{"list pods in all namespaces", func() error { return c.List(ctx, &corev1.PodList{}) }},
		{"read Secrets", func() error { return c.List(ctx, &corev1.SecretList{}, client.InNamespace(jobNs)) }},
		{"create a Service", func() error {
			return c.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: jobNs},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		}},
		{"update (not patch) a pod", func() error {
			p := simplePod("y", jobNs)
			if err := env.Client.Create(ctx, p); err != nil {
				return err
			}
			p.Labels = map[string]string{"x": "y"}
			return c.Update(ctx, p)
		}},
		{"get a ConfigMap by name", func() error {
			return c.Get(ctx, client.ObjectKey{Namespace: jobNs, Name: "kube-root-ca.crt"}, &corev1.ConfigMap{})
		}},
		{"list SparkApplications", func() error { return c.List(ctx, &v1beta2.SparkApplicationList{}, client.InNamespace(jobNs)) }},
		{"create a ServiceAccount", func() error {
			return c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: jobNs}})
		}},
	}
	for _, r := range refused {
		if err := r.do(); !apierrors.IsForbidden(err) {
			t.Errorf("the spark service account may %s: got %v, want Forbidden", r.what, err)
		}
	}
}

// TestClusterWideOperatorRBAC installs the chart watching all namespaces and asks the API server
// (SubjectAccessReview) what the operator's service account may do: its rules in any namespace,
// still nothing more.
func TestClusterWideOperatorRBAC(t *testing.T) {
	ns, anyNs := env.NewNamespace(t), env.NewNamespace(t)
	inst := install(t, "cluster", ns, nil, "spark: {jobNamespaces: []}")
	if _, ok := inst.flags["namespaces"]; ok {
		t.Fatalf("watching all namespaces, the chart still passes --namespaces=%s", inst.flags["namespaces"])
	}
	user := framework.ServiceAccountUser(ns, inst.operatorSA)
	waitAllowed(t, user, ns, authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "create", Resource: "pods"})
	waitAllowed(t, user, ns, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "coordination.k8s.io", Resource: "leases"})
	for _, tc := range []struct {
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "create", Resource: "pods"}, true},
		{authorizationv1.ResourceAttributes{Verb: "watch", Resource: "pods"}, true},
		{authorizationv1.ResourceAttributes{Verb: "list", Group: v1beta2.GroupVersion.Group, Resource: "sparkapplications"}, true},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "update", Group: v1beta2.GroupVersion.Group, Resource: "sparkapplications", Subresource: "status"}, true},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "create", Group: "networking.k8s.io", Resource: "ingresses"}, true},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "create", Group: "events.k8s.io", Resource: "events"}, true},
		{authorizationv1.ResourceAttributes{Verb: "watch", Resource: "namespaces"}, true}, // for --namespace-selector
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{authorizationv1.ResourceAttributes{Verb: "delete", Resource: "namespaces", Name: anyNs}, false},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, false},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "get", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "create", Group: "apps", Resource: "deployments"}, false},
		{authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"}, false},
		{authorizationv1.ResourceAttributes{Namespace: anyNs, Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}, false},
	} {
		if got := allowed(t, user, ns, tc.attrs); got != tc.want {
			t.Errorf("%s %s/%s in %q: allowed=%v, want %v", tc.attrs.Verb, tc.attrs.Resource, tc.attrs.Subresource, tc.attrs.Namespace, got, tc.want)
		}
	}
}

// TestConfigRBAC applies config/rbac, config/manager's service account and config/spark-rbac (in
// default) for real and checks with SubjectAccessReviews that the plain manifests grant the same as
// the chart: the operator's ClusterRole cluster-wide, leader election in spark-operator, the
// driver's Role in default only.
func TestConfigRBAC(t *testing.T) {
	ctx := context.Background()
	util.EnsureNamespace(t, env.Client, "spark-operator")
	objs := append(readKustomization(t, "config/rbac"), readManifestFile(t, "config/manager/service_account.yaml")...)
	objs = append(objs, readSparkRBAC(t, "default")...)
	for _, o := range objs {
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.obj.DeepCopy()), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s: %v", o, err)
		}
		obj := o.obj.DeepCopy()
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	operator := framework.ServiceAccountUser("spark-operator", "spark-operator-controller")
	driver := framework.ServiceAccountUser("default", "spark-operator-spark")
	waitAllowed(t, operator, "spark-operator", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"})
	waitAllowed(t, operator, "spark-operator", authorizationv1.ResourceAttributes{Namespace: "spark-operator", Verb: "create", Group: "coordination.k8s.io", Resource: "leases"})
	waitAllowed(t, driver, "default", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"})
	for _, tc := range []struct {
		user, userNs string
		attrs        authorizationv1.ResourceAttributes
		want         bool
	}{
		{operator, "spark-operator", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"}, true},
		{operator, "spark-operator", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "delete", Group: v1beta2.GroupVersion.Group, Resource: "sparkapplications"}, true},
		{operator, "spark-operator", authorizationv1.ResourceAttributes{Namespace: "spark-operator", Verb: "create", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{operator, "spark-operator", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "list", Resource: "secrets"}, false},
		{driver, "default", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "deletecollection", Resource: "pods"}, true},
		{driver, "default", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "configmaps"}, true},
		{driver, "default", authorizationv1.ResourceAttributes{Namespace: "spark-operator", Verb: "create", Resource: "pods"}, false},
		{driver, "default", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "services"}, false},
	} {
		if got := allowed(t, tc.user, tc.userNs, tc.attrs); got != tc.want {
			t.Errorf("%s: %s %s in %q: allowed=%v, want %v", tc.user, tc.attrs.Verb, tc.attrs.Resource, tc.attrs.Namespace, got, tc.want)
		}
	}
}

// allowed asks the API server (SubjectAccessReview) whether service account user, of namespace
// saNs, may do attrs.
func allowed(t *testing.T, user, saNs string, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               user,
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + saNs, "system:authenticated"},
		ResourceAttributes: &attrs,
	}}
	if err := env.Client.Create(context.Background(), sar); err != nil {
		t.Fatalf("SubjectAccessReview: %v", err)
	}
	return sar.Status.Allowed
}

// waitAllowed waits until user may do attrs: RBAC takes effect once the authorizer's informers
// have seen the new bindings.
func waitAllowed(t *testing.T, user, saNs string, attrs authorizationv1.ResourceAttributes) {
	t.Helper()
	framework.WaitFor(t, 10*time.Second, fmt.Sprintf("%s to be allowed to %s %s", user, attrs.Verb, attrs.Resource), func() (bool, string) {
		return allowed(t, user, saNs, attrs), "not allowed"
	})
}

// runningOperator is the operator started by startOperator.
type runningOperator struct {
	stop     func()
	registry *prometheus.Registry
}

// scrape returns the operator's application metrics in Prometheus' text format.
func (o *runningOperator) scrape(t *testing.T) string {
	t.Helper()
	families, err := o.registry.Gather()
	if err != nil {
		t.Errorf("gathering metrics: %v", err)
	}
	var b strings.Builder
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// startOperator runs the SparkApplication controller with cfg as `spark-operator controller start`
// does with flags (--namespaces, --namespace-selector, --leader-election-*, --metrics-prefix and
// --metrics-labels), until stop is called or the test ends. Timeouts are short for the test.
func startOperator(t *testing.T, cfg *rest.Config, flags map[string]string) *runningOperator {
	t.Helper()
	var listed []string
	if v := flags["namespaces"]; v != "" {
		listed = strings.Split(v, ",")
	}
	cacheNamespaces := listed
	if flags["namespace-selector"] != "" {
		cacheNamespaces = nil // as controller start does: namespaces matching may appear at any time
	}
	lease, renew, retry := 15*time.Second, 10*time.Second, 2*time.Second
	mgr := operatortest.NewManager(t, cfg, env.Scheme, cacheNamespaces, func(o *ctrl.Options) {
		o.LeaderElection = flags["leader-election"] == "true"
		o.LeaderElectionID = flags["leader-election-lock-name"]
		o.LeaderElectionNamespace = flags["leader-election-lock-namespace"]
		o.LeaderElectionReleaseOnCancel = true
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = &lease, &renew, &retry
	})
	var err error
	opts := sparkapplication.Options{
		DriverPodCreationGracePeriod: 2 * time.Second,
		ImagePullTimeout:             2 * time.Second,
		EnableUIService:              true,
		MaxConcurrentReconciles:      4,
	}
	if opts.Namespaces, err = namespaces.New(mgr.GetClient(), listed, flags["namespace-selector"]); err != nil {
		t.Fatal(err)
	}
	var labels []string
	if v := flags["metrics-labels"]; v != "" {
		labels = strings.Split(v, ",")
	}
	opts.Metrics = metrics.New(flags["metrics-prefix"], labels, nil, nil, mgr.GetClient())
	registry := prometheus.NewRegistry()
	if err := opts.Metrics.Register(registry); err != nil {
		t.Fatal(err)
	}
	return &runningOperator{stop: operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &opts}), registry: registry}
}

// saClient is a client authenticating as ServiceAccount ns/sa, and its config, returned once it may
// list the pods of podsNs: RBAC takes effect when the authorizer's informers have seen the new
// bindings (within 10 s).
func saClient(t *testing.T, ns, sa, podsNs string) (client.Client, *rest.Config) {
	t.Helper()
	ctx := context.Background()
	cfg, err := env.ServiceAccountConfig(ctx, ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, cfg)
	framework.WaitFor(t, 10*time.Second, "the RBAC of "+ns+"/"+sa+" to take effect", func() (bool, string) {
		err := c.List(ctx, &corev1.PodList{}, client.InNamespace(podsNs))
		return err == nil, fmt.Sprint(err)
	})
	return c, cfg
}

func newClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func simplePod(name, ns string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "spark:3.5.3"}}},
	}
}
