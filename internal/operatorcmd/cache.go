package operatorcmd

import (
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
)

// The cache transforms below drop, before an object is stored in the manager's cache, what the
// controllers never read. The operator never writes a cached object back whole: it creates objects
// from scratch, writes SparkApplication and ScheduledSparkApplication status through the status
// subresource (the API server takes only the status from such a request), deletes by name (with a UID
// precondition) and patches finalizers. So a trimmed copy can never truncate the object in the API
// server. Each transform passes objects of other types unchanged.

// maxInterned bounds the number of distinct strings intern shares; beyond it strings are kept as
// decoded, so that objects with ever new label keys cannot grow the table without end.
const maxInterned = 4096

// interned are the canonical copies of strings that repeat across cached objects.
var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// intern returns the canonical copy of s. Each decoded object carries its own copy of every string;
// label and annotation keys, owner kinds and condition types are a few dozen distinct strings that
// every cached pod and application repeats (a Spark driver pod has ten labels, half of them keys of 30
// to 47 bytes). Sharing one copy changes nothing a reader can see: strings are immutable.
func intern(s string) string {
	if s == "" {
		return s
	}
	interned.Lock()
	defer interned.Unlock()
	if c, ok := interned.m[s]; ok {
		return c
	}
	if len(interned.m) >= maxInterned {
		return s
	}
	c := strings.Clone(s)
	interned.m[c] = c
	return c
}

// internKeys returns m with its keys interned (the values, often names and ids, stay as they are).
func internKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[intern(k)] = v
	}
	return out
}

// internMeta interns the repeated strings of an object's metadata: the namespace, the label and
// annotation keys, and the owners' API versions and kinds.
func internMeta(m *metav1.ObjectMeta) {
	m.Namespace = intern(m.Namespace)
	m.Labels = internKeys(m.Labels)
	m.Annotations = internKeys(m.Annotations)
	for i := range m.OwnerReferences {
		ref := &m.OwnerReferences[i]
		ref.APIVersion, ref.Kind = intern(ref.APIVersion), intern(ref.Kind)
	}
}

// TrimPod is the cache transform of Pods: it keeps what the controllers read (metadata without
// managedFields, the node name, the scheduler name (which says who a waiting driver waits for),
// the container names, the status) and drops the rest of the spec
// (arguments, environment, volumes, ...), most of a Spark pod's size. The strings every pod repeats
// (label keys, container names, condition types) are shared between the cached pods (intern).
func TrimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	pod.ManagedFields = nil
	internMeta(&pod.ObjectMeta)
	containers := make([]corev1.Container, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		containers[i] = corev1.Container{Name: intern(c.Name), Image: c.Image}
	}
	pod.Spec = corev1.PodSpec{NodeName: pod.Spec.NodeName, SchedulerName: intern(pod.Spec.SchedulerName), Containers: containers, TerminationGracePeriodSeconds: pod.Spec.TerminationGracePeriodSeconds}
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		c.Type = corev1.PodConditionType(intern(string(c.Type)))
		c.Status = corev1.ConditionStatus(intern(string(c.Status)))
		c.Reason = intern(c.Reason)
	}
	for i := range pod.Status.ContainerStatuses {
		pod.Status.ContainerStatuses[i].Name = intern(pod.Status.ContainerStatuses[i].Name)
	}
	return pod, nil
}

// TrimService is the cache transform of Services: it keeps the metadata without managedFields and the
// cluster IP (the controller reads a UI Service's labels, and its cluster IP for
// status.driverInfo.webUIAddress) and drops the rest of the spec (ports, selector, IP families) and the
// status.
func TrimService(obj any) (any, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	svc.ManagedFields = nil
	svc.Spec = corev1.ServiceSpec{ClusterIP: svc.Spec.ClusterIP}
	svc.Status = corev1.ServiceStatus{}
	return svc, nil
}

// TrimIngress is the cache transform of Ingresses: it keeps the metadata without managedFields (the
// controller reads a UI Ingress's labels only, to tell whether it belongs to the current attempt) and
// drops the spec and status.
func TrimIngress(obj any) (any, error) {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return obj, nil
	}
	ing.ManagedFields = nil
	ing.Spec = networkingv1.IngressSpec{}
	ing.Status = networkingv1.IngressStatus{}
	return ing, nil
}

// TrimApplication is the cache transform of SparkApplications and ScheduledSparkApplications: it drops
// managedFields and kubectl's last-applied-configuration annotation, a JSON copy of the whole object as
// last applied (about as large as the spec itself) that the controllers never read. Spec, status,
// labels and the other annotations are kept whole, as the controllers read them all; the strings
// every application repeats (label keys, condition types) are shared between the cached objects
// (intern). It is not a default for every type because other writers sharing the manager's cache
// (the webhook's certificate rotator) update the objects they read.
func TrimApplication(obj any) (any, error) {
	var meta *metav1.ObjectMeta
	switch o := obj.(type) {
	case *v1beta2.SparkApplication:
		meta = &o.ObjectMeta
		for _, p := range []*v1beta2.SparkPodSpec{&o.Spec.Driver.SparkPodSpec, &o.Spec.Executor.SparkPodSpec} {
			p.Labels, p.Annotations = internKeys(p.Labels), internKeys(p.Annotations)
		}
		for i := range o.Status.Conditions {
			c := &o.Status.Conditions[i]
			c.Type, c.Reason = intern(c.Type), intern(c.Reason)
			c.Status = metav1.ConditionStatus(intern(string(c.Status)))
		}
	case *v1beta2.ScheduledSparkApplication:
		meta = &o.ObjectMeta
	default:
		return obj, nil
	}
	meta.ManagedFields = nil
	if _, ok := meta.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		delete(meta.Annotations, corev1.LastAppliedConfigAnnotation)
		if len(meta.Annotations) == 0 {
			meta.Annotations = nil
		}
	}
	internMeta(meta)
	return obj, nil
}

// CacheOptions restrict the operator's informers to what its controllers read, in the watched
// namespaces, without managedFields: pods launched by it (trimmed by TrimPod), the UI Services and
// Ingresses it created (sparkapplication.UIObjectLabels, trimmed to their metadata), the driver
// PodDisruptionBudgets it created (labelled launched-by-spark-operator), and
// SparkApplications and ScheduledSparkApplications without kubectl's last-applied configuration.
// ConfigMaps are never read back; their entry only keeps the cache to the operator's own should that
// change. Caching every pod of a large cluster is what made Kubeflow's operator run out of memory
// (#3028); with thousands of applications the drivers' headless Services, one per application,
// would be the next largest cache after the applications and their driver pods.
func CacheOptions(namespaces []string, resync time.Duration) cache.Options {
	launched := labels.SelectorFromSet(labels.Set{v1beta2.LabelLaunchedBySparkOperator: "true"})
	created := labels.SelectorFromSet(labels.Set{v1beta2.LabelCreatedBySparkOperator: "true"})
	ui := labels.SelectorFromSet(sparkapplication.UIObjectLabels())
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		NewInformer:      NewRetryingInformer, // recovery.go: no 30-60 s back-off after an outage
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:                        {Label: launched, Transform: TrimPod},
			&corev1.Service{}:                    {Label: ui, Transform: TrimService},
			&corev1.ConfigMap{}:                  {Label: created},
			&networkingv1.Ingress{}:              {Label: ui, Transform: TrimIngress},
			&policyv1.PodDisruptionBudget{}:      {Label: launched},
			&v1beta2.SparkApplication{}:          {Transform: TrimApplication},
			&v1beta2.ScheduledSparkApplication{}: {Transform: TrimApplication},
		},
	}
	if resync > 0 {
		opts.SyncPeriod = &resync
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}
