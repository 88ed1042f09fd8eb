package schedulers_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha2 "k8s.io/api/scheduling/v1alpha2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/batchscheduler/kubernetes"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// waitTimeout bounds every wait of the suite: generous, for a loaded machine.
const waitTimeout = 2 * time.Minute

// holdFor is how long the test watches a gang that cannot fit, to see that none of it is bound.
const holdFor = 5 * time.Second

// startGangTest starts one test of the suite: its namespace, one kwok node of 4.5 CPUs with a pod
// "blocker" holding blockerCPU of them, and the operator. step logs a line timed from the start.
func startGangTest(t *testing.T, blockerCPU string) (ns string, blocker *corev1.Pod, step func(format string, args ...any)) {
	t.Helper()
	ctx := context.Background()
	ns = env.NewNamespace(t)
	start := time.Now()
	step = func(format string, args ...any) {
		t.Logf("%6.1fs  %s", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	node := newNode(ns, "4500m", "16Gi")
	if err := createNode(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	blocker = runPod(t, ns, "blocker", blockerCPU)
	step("node %s: 4.5 CPUs; pod %s holds %s of them", node.Name, blocker.Name, blockerCPU)
	startOperator(t, ns)
	return ns, blocker, step
}

// TestKubernetesGang runs an application whose three executors form a gang (batchScheduler
// "kubernetes") on one kwok node of 4.5 CPUs, each pod asking for 1 CPU, with a 2-CPU pod already
// there: room for the driver and one executor. The operator runs the driver; the test creates the
// executors from the executor pod template as the driver would, one at a time. It shows that
//
//   - the driver runs alone (it is in no group);
//   - with two of the three executors created and room for one, neither is bound (the gang waits for
//     all its pods), although an unrelated pod created after them is;
//   - with all three and room for one, none is bound and the PodGroup says why;
//   - once the 2-CPU pod goes, all three are bound;
//   - an executor that replaces a lost one is bound on its own (the gang is already running);
//   - the application completes, and when it is deleted nothing is left: no pod, PodGroup, Workload,
//     ConfigMap or Service.
//
// The operator runs with batch scheduling on (--enable-batch-scheduler): it creates the Workload and
// the PodGroup before the driver, puts the executor pod template in the group, and deletes both when
// the application has terminated.
func TestKubernetesGang(t *testing.T) {
	skipUnlessEnabled(t)
	ctx := context.Background()
	c := env.Client
	ns, blocker, step := startGangTest(t, "2")
	// The driver runs until the test ends it (kwok would complete it after 5 s otherwise).
	app := wrappers.MakeSparkApplication("pi", ns).ExecutorInstances(3).Driver(func(d *v1beta2.DriverSpec) {
		d.Annotations = map[string]string{"kwok.sparkop.dev/run-duration": "1h"}
	}).Obj()
	sub := submitGang(t, app)
	pgKey, driver, newExec := sub.podGroup, sub.driver, sub.newExecutor
	step("the operator created Workload %s and PodGroup %s (gang, minCount 3)", sub.workload, pgKey.Name)
	step("application RUNNING: driver %s bound to %s alone", driver.Name, driver.Spec.NodeName)

	// Two of three, room for one: neither is bound, though a pod created after them is.
	execs := []*corev1.Pod{newExec(1), newExec(2)}
	canary := runPod(t, ns, "canary", "100m")
	requireUnbound(t, execs...)
	step("executors 1 and 2 created: neither bound, while %s, created after them, runs on %s", canary.Name, canary.Spec.NodeName)
	// The baseline for kube-scheduler's work while pods wait: these two executors (not yet a gang) and
	// a lone pod that fits nowhere, held for the same time.
	tooBig := newPod(ns, "too-big", "10")
	if err := c.Create(ctx, tooBig); err != nil {
		t.Fatal(err)
	}
	waitForUnschedulable(t, tooBig)
	attempts, cpu := hold(t, pgKey, append([]*corev1.Pod{tooBig}, execs...)...)
	deletePod(t, tooBig)
	step("baseline: executors 1 and 2 and a lone pod asking for 10 CPUs, held %s: none bound; kube-scheduler tried the group %d times and used %s of CPU",
		holdFor, attempts, cpu)

	// Three of three, room for one: none is bound, and the PodGroup says so.
	execs = append(execs, newExec(3))
	cond := waitForPodGroupCondition(t, pgKey, metav1.ConditionFalse)
	requireUnbound(t, execs...)
	step("executor 3 created: none bound; PodGroup %s: %s: %s; executor 3: %s", cond.Type, cond.Reason, cond.Message,
		podConditions(util.GetPod(t, env.Client, ns, execs[2].Name)))
	// Held for a while, still none is bound. kube-scheduler's attempts and CPU time meanwhile are
	// observations, not requirements (compare with the baseline above).
	attempts, cpu = hold(t, pgKey, execs...)
	step("held %s: none bound; meanwhile kube-scheduler tried the group %d times and used %s of CPU", holdFor, attempts, cpu)

	// Room for all: all are bound.
	deletePod(t, blocker)
	for _, e := range execs {
		waitForRunning(t, e)
	}
	cond = waitForPodGroupCondition(t, pgKey, metav1.ConditionTrue)
	step("%s deleted: executors 1-3 bound and Running; PodGroup %s=%s", blocker.Name, cond.Type, cond.Status)

	// A lost executor's replacement joins the running gang on its own.
	deletePod(t, execs[0])
	execs[0] = newExec(4)
	waitForRunning(t, execs[0])
	step("executor 1 lost, executor 4 created in its place: bound alone")

	// The application ends: the driver deletes its executors and exits 0.
	for _, e := range execs {
		deletePod(t, e)
	}
	deletePod(t, canary)
	succeed(t, driver)
	util.WaitForStateWithin(t, env.Client, ns, app.Name, v1beta2.ApplicationStateCompleted, waitTimeout)
	step("application COMPLETED")

	// The operator deletes the gang's objects when the application terminates; then the user
	// deletes it.
	waitForGangObjectsGone(t, ns)
	step("the operator deleted the Workload and the PodGroup")
	if err := c.Delete(ctx, app); err != nil {
		t.Fatal(err)
	}
	waitForNothingLeft(t, ns)
	step("application deleted: nothing left in %s", ns)
}

// TestKubernetesGangDynamicAllocation runs an application with dynamic allocation (minExecutors 2,
// initialExecutors 3): the gang is the two executors Spark never goes below, and the third is bound on
// its own when there is room for it. One kwok node of 4.5 CPUs with a 1.4-CPU pod on it: room for the
// driver, a 0.1-CPU canary and two executors.
func TestKubernetesGangDynamicAllocation(t *testing.T) {
	skipUnlessEnabled(t)
	ctx := context.Background()
	c := env.Client
	ns, blocker, step := startGangTest(t, "1400m")

	app := wrappers.MakeSparkApplication("pi", ns).Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = nil }).
		DynamicAllocation(2, 3, 4).Driver(func(d *v1beta2.DriverSpec) {
		d.Annotations = map[string]string{"kwok.sparkop.dev/run-duration": "1h"}
	}).Obj()
	sub := submitGang(t, app)
	pg := &schedulingv1alpha2.PodGroup{}
	if err := c.Get(ctx, sub.podGroup, pg); err != nil {
		t.Fatal(err)
	}
	if g := pg.Spec.SchedulingPolicy.Gang; g == nil || g.MinCount != 2 {
		t.Fatalf("PodGroup policy %+v; want gang minCount 2 (minExecutors)", pg.Spec.SchedulingPolicy)
	}
	step("driver running; PodGroup %s: gang, minCount 2", sub.podGroup.Name)

	first := sub.newExecutor(1)
	canary := runPod(t, ns, "canary", "100m")
	requireUnbound(t, first)
	step("executor 1 created: not bound (1 of 2), while %s, created after it, runs", canary.Name)

	execs := []*corev1.Pod{first, sub.newExecutor(2), sub.newExecutor(3)}
	waitForPodGroupCondition(t, sub.podGroup, metav1.ConditionTrue)
	bound, pending := 0, []*corev1.Pod{}
	framework.WaitFor(t, waitTimeout, "two executors to run", func() (bool, string) {
		bound, pending = 0, pending[:0]
		for _, e := range execs {
			if got := util.GetPod(t, env.Client, ns, e.Name); got.Spec.NodeName != "" && got.Status.Phase == corev1.PodRunning {
				bound++
			} else {
				pending = append(pending, got)
			}
		}
		return bound == 2, fmt.Sprintf("%d running", bound)
	})
	waitForUnschedulable(t, pending[0])
	requireUnbound(t, pending[0])
	step("executors 2 and 3 created: two bound together (the gang), %s waits alone: %s", pending[0].Name, podConditions(util.GetPod(t, env.Client, ns, pending[0].Name)))

	deletePod(t, blocker)
	waitForRunning(t, pending[0])
	step("%s deleted: %s bound on its own", blocker.Name, pending[0].Name)

	for _, p := range append(execs, canary) {
		deletePod(t, p)
	}
	finishAndDelete(t, app, sub.driver)
	step("application COMPLETED and deleted: nothing left in %s", ns)
}

// startOperator runs the SparkApplication controller for namespace ns until the test ends, with
// batch scheduling on and the "kubernetes" scheduler handled (--enable-batch-scheduler), and no
// driver start timeout (the default).
func startOperator(t *testing.T, ns string) {
	t.Helper()
	registry, err := batchscheduler.NewRegistry("", kubernetes.Scheduler{})
	if err != nil {
		t.Fatal(err)
	}
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &sparkapplication.Options{
		DriverPodCreationGracePeriod: 10 * time.Second,
		ImagePullTimeout:             time.Minute,
		MaxConcurrentReconciles:      2,
		BatchSchedulers:              registry,
	}})
}

// gangSubmission is an application submitted with the "kubernetes" batch scheduler and running.
type gangSubmission struct {
	app *v1beta2.SparkApplication
	// workload is the name of the Workload the operator created.
	workload string
	podGroup client.ObjectKey
	driver   *corev1.Pod
	// newExecutor creates executor id from the executor pod template, as the driver would.
	newExecutor func(id int) *corev1.Pod
}

// submitGang creates app with spec.batchScheduler "kubernetes" and waits until the operator has the
// driver running. It checks that the operator put the executor pod template the driver reads in a
// PodGroup that exists and names a Workload that exists.
func submitGang(t *testing.T, app *v1beta2.SparkApplication) *gangSubmission {
	t.Helper()
	app.Spec.BatchScheduler = ptr.To(kubernetes.Name)
	util.Create(t, env.Client, app)
	running := util.WaitForStateWithin(t, env.Client, app.Namespace, app.Name, v1beta2.ApplicationStateRunning, waitTimeout)
	return gangOf(t, running)
}

// gangOf reads what the operator made of the running application app: its driver, the executor pod
// template with its PodGroup, and the Workload.
func gangOf(t *testing.T, app *v1beta2.SparkApplication) *gangSubmission {
	t.Helper()
	ctx := context.Background()
	c := env.Client
	driver := util.GetPod(t, env.Client, app.Namespace, app.Status.DriverInfo.PodName)
	if driver.Spec.SchedulingGroup != nil {
		t.Errorf("driver %s is in group %v; want none", driver.Name, driver.Spec.SchedulingGroup)
	}
	template := executorTemplate(t, getConfigMap(t, app.Namespace, templateConfigMapName(t, driver)))
	if g := template.Spec.SchedulingGroup; g == nil || g.PodGroupName == nil {
		t.Fatalf("the executor pod template has no spec.schedulingGroup: %+v", template.Spec.SchedulingGroup)
	}
	pgKey := client.ObjectKey{Namespace: app.Namespace, Name: *template.Spec.SchedulingGroup.PodGroupName}
	pg := &schedulingv1alpha2.PodGroup{}
	if err := c.Get(ctx, pgKey, pg); err != nil {
		t.Fatalf("the executors' PodGroup: %v", err)
	}
	ref := pg.Spec.PodGroupTemplateRef
	if ref == nil || ref.Workload == nil {
		t.Fatalf("PodGroup %s names no Workload", pg.Name)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: ref.Workload.WorkloadName}, &schedulingv1alpha2.Workload{}); err != nil {
		t.Fatalf("the Workload: %v", err)
	}
	res, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 1, time.Now()), submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conf := maps.Clone(res.Conf)
	conf["spark.app.id"] = driver.Labels[v1beta2.LabelSparkAppSelector]
	return &gangSubmission{
		app:      app,
		workload: ref.Workload.WorkloadName,
		podGroup: pgKey,
		driver:   driver,
		newExecutor: func(id int) *corev1.Pod {
			pod := newExecutor(t, template, conf, app.Spec.Type, driver, id)
			if err := c.Create(ctx, pod); err != nil {
				t.Fatalf("creating executor %d: %v", id, err)
			}
			return pod
		},
	}
}

// waitForGangObjectsGone waits until no Workload or PodGroup is left in ns.
func waitForGangObjectsGone(t *testing.T, ns string) {
	t.Helper()
	framework.WaitFor(t, waitTimeout, "the Workloads and PodGroups of "+ns+" to be deleted", func() (bool, string) {
		var left []string
		for _, list := range []client.ObjectList{&schedulingv1alpha2.WorkloadList{}, &schedulingv1alpha2.PodGroupList{}} {
			if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
				return false, err.Error()
			}
			items, _ := meta.ExtractList(list)
			for _, item := range items {
				left = append(left, fmt.Sprintf("%T %s", item, item.(client.Object).GetName()))
			}
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
}

// newPod returns a pod asking for cpu.
func newPod(ns, name, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: name, Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

// runPod creates a pod asking for cpu and waits until it runs.
func runPod(t *testing.T, ns, name, cpu string) *corev1.Pod {
	t.Helper()
	pod := newPod(ns, name, cpu)
	util.Create(t, env.Client, pod)
	return waitForRunning(t, pod)
}

// waitForUnschedulable waits until kube-scheduler has found no node for the pod.
func waitForUnschedulable(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	framework.WaitFor(t, waitTimeout, "pod "+pod.Name+" to be unschedulable", func() (bool, string) {
		got := util.GetPod(t, env.Client, pod.Namespace, pod.Name)
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return true, ""
			}
		}
		return false, podConditions(got)
	})
}

// hold watches the pods for holdFor, failing the test if any is bound, and returns how many times
// kube-scheduler tried the pod group meanwhile and how much CPU time it used.
func hold(t *testing.T, pg client.ObjectKey, pods ...*corev1.Pod) (attempts int, cpu time.Duration) {
	t.Helper()
	before, cpuBefore := schedulerAttempts(t, pg), scheduler.cpuTime()
	start := time.Now()
	for time.Since(start) < holdFor {
		requireUnbound(t, pods...)
		time.Sleep(200 * time.Millisecond)
	}
	return schedulerAttempts(t, pg) - before, scheduler.cpuTime() - cpuBefore
}

// waitForRunning waits until the pod is bound and Running, and returns it.
func waitForRunning(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	got := &corev1.Pod{}
	framework.WaitFor(t, waitTimeout, "pod "+pod.Name+" to run", func() (bool, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pod), got); err != nil {
			return false, err.Error()
		}
		return got.Spec.NodeName != "" && got.Status.Phase == corev1.PodRunning,
			fmt.Sprintf("node %q, phase %s, conditions %s", got.Spec.NodeName, got.Status.Phase, podConditions(got))
	})
	return got
}

// requireUnbound fails the test when any of the pods is bound to a node.
func requireUnbound(t *testing.T, pods ...*corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		got := util.GetPod(t, env.Client, p.Namespace, p.Name)
		if got.Spec.NodeName != "" {
			t.Fatalf("pod %s is bound to %s; want it held with the rest of its gang", got.Name, got.Spec.NodeName)
		}
	}
}

// waitForPodGroupCondition waits until the PodGroup's PodGroupScheduled condition has status, and
// returns it.
func waitForPodGroupCondition(t *testing.T, key client.ObjectKey, status metav1.ConditionStatus) *metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	framework.WaitFor(t, waitTimeout, fmt.Sprintf("PodGroup %s to be %s=%s", key.Name, schedulingv1alpha2.PodGroupScheduled, status), func() (bool, string) {
		pg := &schedulingv1alpha2.PodGroup{}
		if err := env.Client.Get(context.Background(), key, pg); err != nil {
			return false, err.Error()
		}
		cond = meta.FindStatusCondition(pg.Status.Conditions, schedulingv1alpha2.PodGroupScheduled)
		return cond != nil && cond.Status == status, fmt.Sprintf("conditions %v", pg.Status.Conditions)
	})
	return cond
}

// deletePod deletes the pod and waits until it is gone (kwok plays the kubelet's part).
func deletePod(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if err := env.Client.Delete(context.Background(), pod); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, waitTimeout, "pod "+pod.Name+" to be gone", func() (bool, string) {
		got := &corev1.Pod{}
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pod), got)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		return false, fmt.Sprintf("phase %s, finalizers %v, err %v", got.Status.Phase, got.Finalizers, err)
	})
}

// succeed ends the driver's containers with exit code 0 and its phase Succeeded, as the kubelet
// reports a driver whose JVM exited 0.
// finishAndDelete ends a gang test: the driver succeeds, the application is COMPLETED and the
// operator deletes the gang's objects; then the application is deleted and nothing is left in its
// namespace.
func finishAndDelete(t *testing.T, app *v1beta2.SparkApplication, driver *corev1.Pod) {
	t.Helper()
	succeed(t, driver)
	util.WaitForStateWithin(t, env.Client, app.Namespace, app.Name, v1beta2.ApplicationStateCompleted, waitTimeout)
	waitForGangObjectsGone(t, app.Namespace)
	if err := env.Client.Delete(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	waitForNothingLeft(t, app.Namespace)
}

func succeed(t *testing.T, driver *corev1.Pod) {
	t.Helper()
	pod := util.GetPod(t, env.Client, driver.Namespace, driver.Name)
	now := metav1.Now()
	pod.Status.Phase = corev1.PodSucceeded
	pod.Status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: now}},
		})
	}
	if err := env.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatalf("ending driver %s: %v", pod.Name, err)
	}
}

// waitForNothingLeft waits until the namespace holds no pod, PodGroup, Workload, Service or
// ConfigMap (other than kube-root-ca.crt) and no SparkApplication.
func waitForNothingLeft(t *testing.T, ns string) {
	t.Helper()
	framework.WaitFor(t, waitTimeout, "nothing left in "+ns, func() (bool, string) {
		var left []string
		lists := map[string]client.ObjectList{
			"pods": &corev1.PodList{}, "podgroups": &schedulingv1alpha2.PodGroupList{}, "workloads": &schedulingv1alpha2.WorkloadList{},
			"services": &corev1.ServiceList{}, "configmaps": &corev1.ConfigMapList{}, "sparkapplications": &v1beta2.SparkApplicationList{},
		}
		for kind, list := range lists {
			if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
				return false, err.Error()
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				return false, err.Error()
			}
			for _, item := range items {
				o := item.(client.Object)
				if kind == "configmaps" && o.GetName() == "kube-root-ca.crt" {
					continue
				}
				left = append(left, fmt.Sprintf("%s/%s (finalizers %v)", kind, o.GetName(), o.GetFinalizers()))
			}
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
}

func getConfigMap(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	framework.WaitFor(t, waitTimeout, "ConfigMap "+name, func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm)
		return err == nil, fmt.Sprint(err)
	})
	return cm
}

// templateConfigMapName is the ConfigMap the driver mounts its executor pod template from.
func templateConfigMapName(t *testing.T, driver *corev1.Pod) string {
	t.Helper()
	for _, v := range driver.Spec.Volumes {
		if v.Name == "pod-template-volume" && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	t.Fatalf("driver %s mounts no executor pod template", driver.Name)
	return ""
}

// schedulerAttempts counts kube-scheduler's failed attempts at the pod group so far ("Unable to
// schedule a pod group" in its log, written at --v=2).
func schedulerAttempts(t *testing.T, key client.ObjectKey) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(logDir, "kube-scheduler.log"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "Unable to schedule a pod group") && strings.Contains(line, `podGroup="`+key.String()+`"`) {
			n++
		}
	}
	return n
}

func podConditions(pod *corev1.Pod) string {
	var out []string
	for _, c := range pod.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s %s %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// pendingFor is the short figure standing for the old 10-minute driver start timeout: the driver is
// held Pending longer than that, with no timeout configured.
const pendingFor = 15 * time.Second

// TestKubernetesGangDriverWaits: with no room for the driver (a 4-CPU pod on a node of 4.5), an
// application for the "kubernetes" scheduler is not failed by any default start timeout: held Pending
// for pendingFor, it stays SUBMITTED with the scheduler's message in its DriverScheduled condition;
// once the room is freed it runs, its executor gang is bound, and it completes; nothing is left.
func TestKubernetesGangDriverWaits(t *testing.T) {
	skipUnlessEnabled(t)
	ctx := context.Background()
	c := env.Client
	ns, blocker, step := startGangTest(t, "4")

	app := wrappers.MakeSparkApplication("pi", ns).BatchScheduler(kubernetes.Name).ExecutorInstances(2).Driver(func(d *v1beta2.DriverSpec) {
		d.Annotations = map[string]string{"kwok.sparkop.dev/run-duration": "1h"}
	}).Obj()
	if err := c.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	submitted := util.WaitForStateWithin(t, env.Client, ns, app.Name, v1beta2.ApplicationStateSubmitted, waitTimeout)
	driver := util.GetPod(t, env.Client, ns, submitted.Status.DriverInfo.PodName)
	waitForUnschedulable(t, driver)
	step("driver %s Pending: no room for it", driver.Name)

	held := time.Now()
	var msg string
	for time.Since(held) < pendingFor {
		got := &v1beta2.SparkApplication{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
			t.Fatal(err)
		}
		if got.Status.AppState.State != v1beta2.ApplicationStateSubmitted {
			t.Fatalf("after %s Pending the application is %s (%s); want SUBMITTED", time.Since(held).Round(time.Second), got.Status.AppState.State, got.Status.AppState.ErrorMessage)
		}
		if cond := meta.FindStatusCondition(got.Status.Conditions, v1beta2.ConditionDriverScheduled); cond != nil {
			msg = cond.Message
		}
		time.Sleep(time.Second)
	}
	if !strings.Contains(msg, "Insufficient cpu") {
		t.Errorf("DriverScheduled message %q; want the scheduler's (Insufficient cpu)", msg)
	}
	step("held %s Pending (no timeout configured): still SUBMITTED; DriverScheduled: %s", pendingFor, msg)

	deletePod(t, blocker)
	running := util.WaitForStateWithin(t, env.Client, ns, app.Name, v1beta2.ApplicationStateRunning, waitTimeout)
	sub := gangOf(t, running)
	execs := []*corev1.Pod{sub.newExecutor(1), sub.newExecutor(2)}
	for _, e := range execs {
		waitForRunning(t, e)
	}
	step("%s deleted: driver running, executor gang %s bound", blocker.Name, sub.podGroup.Name)

	for _, e := range execs {
		deletePod(t, e)
	}
	finishAndDelete(t, app, sub.driver)
	step("application COMPLETED and deleted: nothing left in %s", ns)
}
