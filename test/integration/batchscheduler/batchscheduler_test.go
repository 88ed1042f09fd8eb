// Package batchscheduler_test runs the SparkApplication controller with batch scheduling on against a
// real kube-apiserver, etcd and garbage collector, with Volcano's and scheduler-plugins' PodGroup CRDs
// installed from testdata/crds (generated from their published API types): the pod groups are
// created against the real schemas, owned by the application, brought up to date on resubmission and
// deleted when the application ends. The test plays the kubelet by writing the driver's status.
package batchscheduler_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	volcanov1beta1 "volcano.sh/apis/pkg/apis/scheduling/v1beta1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/batchscheduler/coscheduling"
	"github.com/sparkop/spark-operator/internal/batchscheduler/volcano"
	"github.com/sparkop/spark-operator/internal/batchscheduler/yunikorn"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env,
		framework.WithScheme(v1beta2.AddToScheme, volcanov1beta1.AddToScheme),
		framework.WithCRDPaths("test/integration/batchscheduler/testdata/crds"),
		framework.WithControllerManager(),
		framework.WithLogger(logr.Discard()))
}

// kubeScheduler is the --kube-scheduler-names entry of the tests.
const kubeScheduler = "scheduler-plugins-scheduler"

// startOperator runs the controller for namespace ns with batch scheduling on (volcano, yunikorn and
// the coscheduling kubeScheduler), or off when enabled is false.
func startOperator(t *testing.T, ns string, enabled bool) {
	t.Helper()
	var registry *batchscheduler.Registry
	if enabled {
		var err error
		registry, err = batchscheduler.NewRegistry("", volcano.Scheduler{}, yunikorn.Scheduler{}, coscheduling.Scheduler{SchedulerName: kubeScheduler})
		if err != nil {
			t.Fatal(err)
		}
	}
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &sparkapplication.Options{
		DriverPodCreationGracePeriod: 2 * time.Second,
		BatchSchedulers:              registry,
		MaxConcurrentReconciles:      2,
	}})
}

// submitExample is how the tests of an example begin: in parallel, in a namespace of their own with
// the operator running (batch scheduling on), examples/<name>.yaml is created and SUBMITTED.
func submitExample(t *testing.T, name string) (ns string, app *v1beta2.SparkApplication) {
	t.Helper()
	ns = env.ParallelNamespace(t, func(t *testing.T, ns string) { startOperator(t, ns, true) })
	util.Create(t, env.Client, example(t, name, ns))
	return ns, util.WaitForState(t, env.Client, ns, name, v1beta2.ApplicationStateSubmitted)
}

// complete is how they end: the driver of application ns/name exits 0, the application is
// COMPLETED and its scheduler object obj is deleted.
func complete(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	util.FinishDriver(t, env.Client, ns, name+"-driver", 0)
	util.WaitForState(t, env.Client, ns, name, v1beta2.ApplicationStateCompleted)
	util.WaitForGone(t, env.Client, obj)
}

// example reads examples/<name>.yaml into namespace ns.
func example(t *testing.T, name, ns string) *v1beta2.SparkApplication {
	t.Helper()
	app := util.ReadYAML(t, filepath.Join(framework.RepoRoot(t), "examples", name+".yaml"), &v1beta2.SparkApplication{})
	app.Namespace = ns
	return app
}

func owned(obj metav1.Object, app *v1beta2.SparkApplication) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == app.UID && ptr.Deref(ref.Controller, false) {
			return true
		}
	}
	return false
}

// TestVolcanoPodGroup: spec.batchScheduler volcano creates the PodGroup spark-<app>-pg against
// Volcano's real schema, owned by the application, minMember 1 and minResources for the driver and
// both executors (3 CPUs, 3 x (512Mi + 384Mi)), in the queue; the driver and the executor template
// carry the group annotation and schedulerName volcano; a resubmission with more executors resizes
// the group; the group is deleted when the application completes.
func TestVolcanoPodGroup(t *testing.T) {
	ns, app := submitExample(t, "spark-pi-volcano")

	pg := &volcanov1beta1.PodGroup{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spark-spark-pi-volcano-pg"}, pg); err != nil {
		t.Fatalf("PodGroup: %v", err)
	}
	if !owned(pg, app) || pg.Spec.MinMember != 1 || pg.Spec.Queue != "default" || pg.Spec.MinResources == nil {
		t.Fatalf("PodGroup %+v (owners %v)", pg.Spec, pg.OwnerReferences)
	}
	wantResources(t, *pg.Spec.MinResources, "3", "2688Mi")

	driver := util.GetPod(t, env.Client, ns, "spark-pi-volcano-driver")
	_, tmpl := util.SubmissionConfig(t, env.Client, app)
	for what, pod := range map[string]*corev1.Pod{"driver": driver, "executor template": tmpl} {
		if pod.Annotations["scheduling.k8s.io/group-name"] != pg.Name || pod.Spec.SchedulerName != "volcano" {
			t.Errorf("%s: annotations %v, schedulerName %q", what, pod.Annotations, pod.Spec.SchedulerName)
		}
	}

	// A spec change resubmits; the group follows the new size.
	util.UpdateApp(t, env.Client, ns, "spark-pi-volcano", func(a *v1beta2.SparkApplication) { a.Spec.Executor.Instances = ptr.To[int32](4) })
	framework.WaitFor(t, 60*time.Second, "the PodGroup resized for 4 executors", func() (bool, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pg), pg); err != nil {
			return false, err.Error()
		}
		mem := (*pg.Spec.MinResources)[corev1.ResourceMemory]
		return mem.Cmp(resource.MustParse("4480Mi")) == 0, mem.String()
	})
	util.WaitForState(t, env.Client, ns, "spark-pi-volcano", v1beta2.ApplicationStateSubmitted)
	framework.WaitFor(t, 30*time.Second, "the new driver", func() (bool, string) {
		a := &v1beta2.SparkApplication{}
		_ = env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spark-pi-volcano"}, a)
		p := &corev1.Pod{}
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spark-pi-volcano-driver"}, p)
		return err == nil && p.Labels[v1beta2.LabelSubmissionID] == a.Status.SubmissionID && a.Status.ExecutionAttempts == 1, fmt.Sprint(err)
	})
	complete(t, ns, "spark-pi-volcano", pg)
}

// TestCoschedulingPodGroup: a spec.batchScheduler in --kube-scheduler-names creates the
// scheduling.x-k8s.io PodGroup <app>-pg against scheduler-plugins' schema, labels the pods with
// scheduling.x-k8s.io/pod-group, and the group is deleted when the application completes.
func TestCoschedulingPodGroup(t *testing.T) {
	ns, app := submitExample(t, "spark-pi-kube-scheduler")

	pg := &unstructured.Unstructured{}
	pg.SetGroupVersionKind(coscheduling.PodGroupGVK)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spark-pi-kube-scheduler-pg"}, pg); err != nil {
		t.Fatalf("PodGroup: %v", err)
	}
	minMember, _, _ := unstructured.NestedInt64(pg.Object, "spec", "minMember")
	minResources, _, _ := unstructured.NestedStringMap(pg.Object, "spec", "minResources")
	if !owned(pg, app) || minMember != 1 {
		t.Fatalf("PodGroup %v", pg.Object)
	}
	wantResources(t, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(minResources["cpu"]), corev1.ResourceMemory: resource.MustParse(minResources["memory"])}, "3", "2688Mi")
	driver := util.GetPod(t, env.Client, ns, "spark-pi-kube-scheduler-driver")
	_, tmpl := util.SubmissionConfig(t, env.Client, app)
	for what, pod := range map[string]*corev1.Pod{"driver": driver, "executor template": tmpl} {
		if pod.Labels[coscheduling.PodGroupLabel] != pg.GetName() || pod.Spec.SchedulerName != kubeScheduler {
			t.Errorf("%s: labels %v, schedulerName %q", what, pod.Labels, pod.Spec.SchedulerName)
		}
	}
	complete(t, ns, "spark-pi-kube-scheduler", pg)
}

// TestYuniKorn: YuniKorn needs no objects; the driver carries the task groups, the queue label and
// schedulerName yunikorn, and its spark-app-selector label is the application id YuniKorn uses.
func TestYuniKorn(t *testing.T) {
	ns, app := submitExample(t, "spark-pi-yunikorn")
	driver := util.GetPod(t, env.Client, ns, "spark-pi-yunikorn-driver")
	if driver.Spec.SchedulerName != "yunikorn" || driver.Labels["queue"] != "root.default" ||
		driver.Annotations[yunikorn.TaskGroupNameAnnotation] != "spark-driver" || !strings.Contains(driver.Annotations[yunikorn.TaskGroupsAnnotation], `"minMember":2`) ||
		driver.Labels[v1beta2.LabelSparkAppSelector] != app.Status.SparkApplicationID {
		t.Errorf("driver: schedulerName %q, labels %v, annotations %v", driver.Spec.SchedulerName, driver.Labels, driver.Annotations)
	}
}

// TestNotHandled: with batch scheduling on, a spec.batchScheduler the operator does not handle fails
// the submission (as in Kubeflow); with it off, spec.batchScheduler only sets the pods' schedulerName,
// and a Warning event says that no pod group is made and the options are ignored.
func TestNotHandled(t *testing.T) {
	t.Parallel()
	t.Run("on", func(t *testing.T) {
		ns := env.ParallelNamespace(t)
		startOperator(t, ns, true)
		app := example(t, "spark-pi-volcano", ns)
		app.Spec.BatchScheduler = ptr.To("kube-batch")
		util.Create(t, env.Client, app)
		got := util.WaitForState(t, env.Client, ns, app.Name, v1beta2.ApplicationStateFailed)
		if msg := got.Status.AppState.ErrorMessage; !strings.Contains(msg, `spec.batchScheduler: "kube-batch" is not a batch scheduler this operator handles`) {
			t.Errorf("error message %q", msg)
		}
	})
	t.Run("off", func(t *testing.T) {
		ns := env.ParallelNamespace(t)
		startOperator(t, ns, false)
		util.Create(t, env.Client, example(t, "spark-pi-volcano", ns))
		util.WaitForState(t, env.Client, ns, "spark-pi-volcano", v1beta2.ApplicationStateSubmitted)
		driver := util.GetPod(t, env.Client, ns, "spark-pi-volcano-driver")
		if driver.Spec.SchedulerName != "volcano" || driver.Annotations["scheduling.k8s.io/group-name"] != "" {
			t.Errorf("driver: schedulerName %q, annotations %v", driver.Spec.SchedulerName, driver.Annotations)
		}
		pg := &volcanov1beta1.PodGroup{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "spark-spark-pi-volcano-pg"}, pg); !apierrors.IsNotFound(err) {
			t.Errorf("PodGroup with batch scheduling off: %v", err)
		}
		framework.WaitFor(t, 20*time.Second, "the Warning event", func() (bool, string) {
			list := &eventsv1.EventList{}
			if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
				return false, err.Error()
			}
			i := slices.IndexFunc(list.Items, func(e eventsv1.Event) bool {
				return e.Reason == sparkapplication.ReasonBatchSchedulerNotHandled && e.Type == corev1.EventTypeWarning &&
					strings.Contains(e.Note, "--enable-batch-scheduler") && strings.Contains(e.Note, "batchSchedulerOptions is ignored")
			})
			return i >= 0, fmt.Sprint(len(list.Items), " events")
		})
	})
}

func wantResources(t *testing.T, got corev1.ResourceList, cpu, memory string) {
	t.Helper()
	c, m := got[corev1.ResourceCPU], got[corev1.ResourceMemory]
	if c.Cmp(resource.MustParse(cpu)) != 0 || m.Cmp(resource.MustParse(memory)) != 0 {
		t.Errorf("minResources = %v, want cpu %s, memory %s", got, cpu, memory)
	}
}

// TestSuspendReleasesPodGroup: a suspended application's PodGroup is deleted (a pending group would
// go on holding its queue's capacity) and made again when it resumes; a PodGroup of that name that
// the application does not own is not taken over.
func TestSuspendReleasesPodGroup(t *testing.T) {
	ns, _ := submitExample(t, "spark-pi-volcano")
	pg := &volcanov1beta1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spark-spark-pi-volcano-pg"}}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pg), pg); err != nil {
		t.Fatal(err)
	}
	util.UpdateApp(t, env.Client, ns, "spark-pi-volcano", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(true) })
	util.WaitForState(t, env.Client, ns, "spark-pi-volcano", v1beta2.ApplicationStateSuspended)
	util.WaitForGone(t, env.Client, pg)
	util.UpdateApp(t, env.Client, ns, "spark-pi-volcano", func(a *v1beta2.SparkApplication) { a.Spec.Suspend = ptr.To(false) })
	util.WaitForState(t, env.Client, ns, "spark-pi-volcano", v1beta2.ApplicationStateSubmitted)
	framework.WaitFor(t, 30*time.Second, "the PodGroup again", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pg), &volcanov1beta1.PodGroup{})
		return err == nil, fmt.Sprint(err)
	})

	// Somebody else's group of the same name.
	other := example(t, "spark-pi-volcano", ns)
	other.Name = "taken"
	foreign := &volcanov1beta1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spark-taken-pg"}, Spec: volcanov1beta1.PodGroupSpec{MinMember: 5}}
	util.Create(t, env.Client, foreign)
	util.Create(t, env.Client, other)
	app := util.WaitForState(t, env.Client, ns, "taken", v1beta2.ApplicationStateFailed)
	if msg := app.Status.AppState.ErrorMessage; !strings.Contains(msg, "PodGroup spark-taken-pg exists and does not belong to this application") {
		t.Errorf("error message %q", msg)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(foreign), foreign); err != nil || foreign.Spec.MinMember != 5 {
		t.Errorf("the foreign PodGroup was changed: %v %+v", err, foreign.Spec)
	}
}
