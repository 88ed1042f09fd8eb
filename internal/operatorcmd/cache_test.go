package operatorcmd

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// cachedMeta is metadata as the API server serves it: labels, annotations, owner, finalizers, a
// deletion timestamp and managedFields.
func cachedMeta(name string) metav1.ObjectMeta {
	now := metav1.Now()
	return metav1.ObjectMeta{
		Name: name, Namespace: "ns", UID: "uid-1", ResourceVersion: "42", Generation: 3,
		Labels:            map[string]string{v1beta2.LabelAppName: "pi", v1beta2.LabelSubmissionID: "s1"},
		Annotations:       map[string]string{"a": "b"},
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "pi-driver", UID: "p"}},
		Finalizers:        []string{sparkapplication.DriverFinalizer},
		DeletionTimestamp: &now,
		ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}
}

// withoutManagedFields is meta as a trimmed object must keep it.
func withoutManagedFields(meta metav1.ObjectMeta) metav1.ObjectMeta {
	meta.ManagedFields = nil
	return meta
}

func TestTrimPod(t *testing.T) {
	status := corev1.PodStatus{
		Phase:             corev1.PodFailed,
		Reason:            "Evicted",
		Conditions:        []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "TerminationByKubelet"}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "spark-kubernetes-driver", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}},
	}
	pod := &corev1.Pod{
		ObjectMeta: cachedMeta("pi-driver"),
		Spec: corev1.PodSpec{
			NodeName:                      "node-1",
			SchedulerName:                 "volcano",
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			ServiceAccountName:            "spark",
			Volumes:                       []corev1.Volume{{Name: "conf"}},
			Containers: []corev1.Container{{
				Name: "spark-kubernetes-driver", Image: "spark:3.5.3", Args: []string{"driver", "--class", "Pi"},
				Env:       []corev1.EnvVar{{Name: "SPARK_USER", Value: "spark"}},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
			}, {Name: "sidecar", Image: "proxy:1"}},
		},
		Status: *status.DeepCopy(),
	}
	want := &corev1.Pod{
		ObjectMeta: withoutManagedFields(pod.ObjectMeta),
		Spec: corev1.PodSpec{
			NodeName:                      "node-1",
			SchedulerName:                 "volcano",
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			Containers:                    []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark:3.5.3"}, {Name: "sidecar", Image: "proxy:1"}},
		},
		Status: status,
	}
	checkTrim(t, "TrimPod", TrimPod, pod, want)
}

// checkTrim fails the test unless trim (a cache transform, named name) turns in into want.
func checkTrim(t *testing.T, name string, trim func(any) (any, error), in, want any) {
	t.Helper()
	out, err := trim(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", name, out, want)
	}
}

func TestTrimService(t *testing.T) {
	svc := &corev1.Service{
		ObjectMeta: cachedMeta("pi-ui-svc"),
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Selector: map[string]string{v1beta2.LabelAppName: "pi", v1beta2.LabelSparkRole: "driver"},
			Ports:    []corev1.ServicePort{{Name: "spark-driver-ui-port", Port: 4040}},
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}}},
	}
	want := &corev1.Service{ObjectMeta: withoutManagedFields(svc.ObjectMeta), Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10"}}
	checkTrim(t, "TrimService", TrimService, svc, want)
}

func TestTrimIngress(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: cachedMeta("pi-ui-ingress"),
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules:            []networkingv1.IngressRule{{Host: "pi.example.com"}},
		},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "1.2.3.4"}}}},
	}
	checkTrim(t, "TrimIngress", TrimIngress, ing, &networkingv1.Ingress{ObjectMeta: withoutManagedFields(ing.ObjectMeta)})
}

func TestTrimApplication(t *testing.T) {
	lastApplied := map[string]string{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"sparkoperator.k8s.io/v1beta2","kind":"SparkApplication"}`}

	// A SparkApplication keeps its spec, status, labels and other annotations.
	app := wrappers.MakeSparkApplication("pi", "ns").Obj()
	app.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	app.Annotations = map[string]string{v1beta2.AnnotationRerun: "1", corev1.LastAppliedConfigAnnotation: lastApplied[corev1.LastAppliedConfigAnnotation]}
	app.Labels = map[string]string{"team": "a"}
	app.Status = v1beta2.SparkApplicationStatus{AppState: v1beta2.ApplicationState{State: v1beta2.ApplicationStateRunning}, SubmissionID: "s1"}
	want := app.DeepCopy()
	want.ManagedFields = nil
	want.Annotations = map[string]string{v1beta2.AnnotationRerun: "1"}
	checkTrim(t, "TrimApplication of a SparkApplication", TrimApplication, app, want)

	// Only the last-applied configuration: no annotations left.
	ssa := wrappers.MakeScheduledSparkApplication("nightly", "ns").Obj()
	ssa.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}
	want2 := ssa.DeepCopy()
	want2.Annotations = nil
	if out, _ := TrimApplication(ssa); !reflect.DeepEqual(out, want2) {
		t.Errorf("TrimApplication of a ScheduledSparkApplication:\n got %+v\nwant %+v", out, want2)
	}

	// Other types pass unchanged, also their last-applied configuration.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}}}
	if out, _ := TrimApplication(cm); !reflect.DeepEqual(out, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}}}) {
		t.Errorf("TrimApplication changed a ConfigMap: %+v", out)
	}
}

// TestTransformsPassOtherTypes: each transform leaves objects of other types as they are.
func TestTransformsPassOtherTypes(t *testing.T) {
	for name, transform := range map[string]func(any) (any, error){"TrimPod": TrimPod, "TrimService": TrimService, "TrimIngress": TrimIngress} {
		cm := &corev1.ConfigMap{ObjectMeta: cachedMeta("x"), Data: map[string]string{"k": "v"}}
		want := cm.DeepCopy()
		out, err := transform(cm)
		if err != nil || !reflect.DeepEqual(out, want) {
			t.Errorf("%s changed a ConfigMap: %+v, %v", name, out, err)
		}
	}
}

// TestCacheOptions: the cache holds the operator's pods, and of Services and Ingresses only the UI
// objects the controller reads, each with its transform.
func TestCacheOptions(t *testing.T) {
	opts := CacheOptions([]string{"a", "b"}, 0)
	if len(opts.DefaultNamespaces) != 2 || opts.SyncPeriod != nil || opts.DefaultTransform == nil {
		t.Errorf("namespaces %v, sync period %v, default transform set %v", opts.DefaultNamespaces, opts.SyncPeriod, opts.DefaultTransform != nil)
	}
	byType := map[string]struct {
		label     labels.Selector
		transform bool
	}{}
	for obj, o := range opts.ByObject {
		byType[reflect.TypeOf(obj).Elem().Name()] = struct {
			label     labels.Selector
			transform bool
		}{o.Label, o.Transform != nil}
	}
	uiLabels := labels.Set{v1beta2.LabelCreatedBySparkOperator: "true", sparkapplication.LabelComponent: "ui", v1beta2.LabelAppName: "pi"}
	driverServiceLabels := labels.Set{v1beta2.LabelCreatedBySparkOperator: "true", v1beta2.LabelAppName: "pi"}
	for _, kind := range []string{"Service", "Ingress"} {
		o := byType[kind]
		if o.label == nil || !o.label.Matches(uiLabels) || o.label.Matches(driverServiceLabels) || !o.transform {
			t.Errorf("%s: selector %v, transform %v; want the UI objects only, trimmed", kind, o.label, o.transform)
		}
	}
	if o := byType["Pod"]; o.label == nil || !o.label.Matches(labels.Set{v1beta2.LabelLaunchedBySparkOperator: "true"}) || !o.transform {
		t.Errorf("Pod: selector %v, transform %v", o.label, o.transform)
	}
	for _, kind := range []string{"SparkApplication", "ScheduledSparkApplication"} {
		if o, ok := byType[kind]; !ok || o.label != nil || !o.transform {
			t.Errorf("%s: selector %v, transform %v; want all of them, trimmed", kind, o.label, o.transform)
		}
	}
}

// keyData returns where the bytes of m's key equal to k are.
func keyData(m map[string]string, k string) *byte {
	for key := range m {
		if key == k {
			return unsafe.StringData(key)
		}
	}
	return nil
}

// TestTransformsShareRepeatedStrings: two objects decoded separately (each with its own copy of every
// string) share their label keys, and a pod's condition types, once trimmed; values stay their own.
func TestTransformsShareRepeatedStrings(t *testing.T) {
	pod := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: strings.Clone("ns"), Labels: map[string]string{strings.Clone(v1beta2.LabelLaunchedBySparkOperator): strings.Clone("true-ish value")}},
			Status:     corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodConditionType(strings.Clone("ContainersReady"))}}},
		}
	}
	a, _ := TrimPod(pod())
	b, _ := TrimPod(pod())
	pa, pb := a.(*corev1.Pod), b.(*corev1.Pod)
	if ka, kb := keyData(pa.Labels, v1beta2.LabelLaunchedBySparkOperator), keyData(pb.Labels, v1beta2.LabelLaunchedBySparkOperator); ka == nil || ka != kb {
		t.Errorf("label keys of two pods not shared: %p %p", ka, kb)
	}
	if unsafe.StringData(string(pa.Status.Conditions[0].Type)) != unsafe.StringData(string(pb.Status.Conditions[0].Type)) {
		t.Error("condition types of two pods not shared")
	}
	if unsafe.StringData(pa.Labels[v1beta2.LabelLaunchedBySparkOperator]) == unsafe.StringData(pb.Labels[v1beta2.LabelLaunchedBySparkOperator]) {
		t.Error("label values were shared; only keys should be")
	}

	app := func() *v1beta2.SparkApplication {
		app := wrappers.MakeSparkApplication("pi", strings.Clone("ns")).Obj()
		app.Spec.Driver.Labels = map[string]string{strings.Clone("version"): "3.5"}
		return app
	}
	x, _ := TrimApplication(app())
	y, _ := TrimApplication(app())
	ax, ay := x.(*v1beta2.SparkApplication), y.(*v1beta2.SparkApplication)
	if kx, ky := keyData(ax.Spec.Driver.Labels, "version"), keyData(ay.Spec.Driver.Labels, "version"); kx == nil || kx != ky {
		t.Errorf("driver label keys of two applications not shared: %p %p", kx, ky)
	}
}

// TestInternIsBounded: past maxInterned distinct strings, new ones are returned as they are.
func TestInternIsBounded(t *testing.T) {
	interned.Lock()
	saved := interned.m
	interned.m = map[string]string{}
	interned.Unlock()
	defer func() {
		interned.Lock()
		interned.m = saved
		interned.Unlock()
	}()
	for i := range maxInterned + 10 {
		intern(fmt.Sprintf("key-%d", i))
	}
	if n := len(interned.m); n != maxInterned {
		t.Errorf("%d strings interned, want at most %d", n, maxInterned)
	}
	s := strings.Clone("not interned any more")
	if got := intern(s); unsafe.StringData(got) != unsafe.StringData(s) || got != s {
		t.Errorf("a string past the bound was copied or changed: %q", got)
	}
	if first := strings.Clone("key-0"); unsafe.StringData(intern(first)) == unsafe.StringData(first) {
		t.Error("an interned string was not shared")
	}
}
