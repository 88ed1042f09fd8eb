package kueue_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// Kueue's labels and names (v0.17.0).
const (
	queueNameLabel     = "kueue.x-k8s.io/queue-name"
	priorityClassLabel = "kueue.x-k8s.io/priority-class"
	podSetLabel        = "kueue.x-k8s.io/podset"
	flavorName         = "default"
	localQueueName     = "lq"
)

// waitTimeout bounds every wait: Kueue, the operator and the control plane share two busy cores.
const waitTimeout = 2 * time.Minute

// TestKueue runs the scenarios in order against one Kueue and one operator; each has its own
// namespace, ClusterQueue and LocalQueue.
func TestKueue(t *testing.T) {
	startKueue(t)
	startOperator(t)
	createIfAbsent(t, kueueObject("ResourceFlavor", "", flavorName, map[string]any{}))
	for name, value := range map[string]int64{"low": 100, "high": 1000} {
		wpc := kueueObject("WorkloadPriorityClass", "", name, nil)
		wpc.Object["value"] = value
		createIfAbsent(t, wpc)
	}
	t.Run("AdmittedToCompletion", testAdmittedToCompletion)
	t.Run("PreemptedAndReadmitted", testPreemptedAndReadmitted)
	t.Run("TopologyUngates", testTopologyUngates)
}

// testAdmittedToCompletion: an application with the queue-name label is created suspended by Kueue's
// webhook, admitted, runs and completes; Kueue counts one executor when instances is omitted and
// three when it is set, and has the quota back at the end.
func testAdmittedToCompletion(t *testing.T) {
	ns := env.NewNamespace(t)
	makeQueue(t, ns, "2560Mi") // room for 1 driver + 4 executors

	for _, tc := range []struct {
		name      string
		instances *int32
		want      int64
	}{
		{"omitted", nil, 1},
		{"three", ptr.To[int32](3), 3},
	} {
		app := queuedApp(ns, tc.name, "").Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = tc.instances }).Obj()
		util.Create(t, env.Client, app)
		if !ptr.Deref(app.Spec.Suspend, false) {
			t.Errorf("%s: created with suspend %v, want true (Kueue's webhook)", tc.name, app.Spec.Suspend)
		}
		admitted := util.WaitForStateWithin(t, env.Client, ns, tc.name, v1beta2.ApplicationStateSubmitted, waitTimeout)
		wl := waitForWorkload(t, ns, admitted, "Admitted")
		if got := podSetCount(t, wl, "executor"); got != tc.want {
			t.Errorf("%s: Kueue counts %d executors, want %d", tc.name, got, tc.want)
		}
		waitForUsage(t, ns, fmt.Sprintf("%dMi", 512*(1+tc.want)))
		runToCompletion(t, ns, admitted, int(tc.want))
		waitForWorkload(t, ns, admitted, "Finished")
		waitForUsage(t, ns, "0")
	}
}

// testPreemptedAndReadmitted: a higher-priority application preempts a running one, which goes
// SUSPENDED with no pods left; the preemptor completes, the preempted application is admitted again
// with the spec Kueue restored and completes; the ClusterQueue has its quota back at the end.
func testPreemptedAndReadmitted(t *testing.T) {
	ns := env.NewNamespace(t)
	makeQueue(t, ns, "1536Mi") // exactly 1 driver + 2 executors

	util.Create(t, env.Client, queuedApp(ns, "low", "low").ExecutorInstances(2).Obj())
	low := util.WaitForStateWithin(t, env.Client, ns, "low", v1beta2.ApplicationStateSubmitted, waitTimeout)
	driver := runDriver(t, ns, low)
	createExecutors(t, ns, low, driver, 2)
	util.WaitForStateWithin(t, env.Client, ns, "low", v1beta2.ApplicationStateRunning, waitTimeout)
	waitForUsage(t, ns, "1536Mi")

	util.Create(t, env.Client, queuedApp(ns, "high", "high").Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = nil }).Obj())
	evicted := util.WaitForStateWithin(t, env.Client, ns, "low", v1beta2.ApplicationStateSuspended, waitTimeout)
	if !ptr.Deref(evicted.Spec.Suspend, false) {
		t.Errorf("low is SUSPENDED with suspend %v", evicted.Spec.Suspend)
	}
	waitForNoPods(t, ns, "low")
	if got := ptr.Deref(evicted.Spec.Executor.Instances, -1); got != 2 {
		t.Errorf("after eviction Kueue restored executor instances %d, want 2", got)
	}
	if _, ok := evicted.Spec.Driver.Labels[podSetLabel]; ok {
		t.Errorf("after eviction the driver keeps Kueue's admission labels: %v", evicted.Spec.Driver.Labels)
	}

	high := util.WaitForStateWithin(t, env.Client, ns, "high", v1beta2.ApplicationStateSubmitted, waitTimeout)
	runToCompletion(t, ns, high, 1)

	readmitted := util.WaitForStateWithin(t, env.Client, ns, "low", v1beta2.ApplicationStateSubmitted, waitTimeout)
	if got := ptr.Deref(readmitted.Spec.Executor.Instances, -1); got != 2 {
		t.Errorf("re-admitted with executor instances %d, want 2", got)
	}
	if readmitted.Status.ExecutionAttempts < 2 {
		t.Errorf("re-admitted application: execution attempts %d, want a second attempt", readmitted.Status.ExecutionAttempts)
	}
	runToCompletion(t, ns, readmitted, 2)
	waitForWorkload(t, ns, readmitted, "Finished")
	waitForUsage(t, ns, "0")
}

// queuedApp is a small SparkPi in Kueue's local queue, at a priority class when given. Each of its
// pods requests 512Mi for Kueue (driver.memory and executor.memory of 512m), so a ClusterQueue of
// 1536Mi holds one driver and two executors.
func queuedApp(ns, name, priority string) *wrappers.SparkApplicationWrapper {
	w := wrappers.MakeSparkApplication(name, ns).Label(queueNameLabel, localQueueName).
		DriverMemory("512m").ExecutorMemory("512m")
	if priority != "" {
		w.Label(priorityClassLabel, priority)
	}
	return w
}

// makeQueue creates a ClusterQueue named after ns with the given memory quota (preempting lower
// priorities within it) and the LocalQueue "lq" in ns pointing at it.
func makeQueue(t *testing.T, ns, memory string) {
	t.Helper()
	createQueues(t, ns, flavorName, "10", memory, map[string]any{"preemption": map[string]any{"withinClusterQueue": "LowerPriority"}})
}

// createQueues creates the ClusterQueue named after ns (any namespace) with one resource flavor and
// its cpu and memory quotas (quantities), plus the fields of extra in its spec, and the LocalQueue
// "lq" in ns pointing at it.
func createQueues(t *testing.T, ns, flavor, cpu, memory string, extra map[string]any) {
	t.Helper()
	spec := map[string]any{
		"namespaceSelector": map[string]any{},
		"resourceGroups": []any{map[string]any{
			"coveredResources": []any{"cpu", "memory"},
			"flavors": []any{map[string]any{
				"name": flavor,
				"resources": []any{
					map[string]any{"name": "cpu", "nominalQuota": cpu},
					map[string]any{"name": "memory", "nominalQuota": memory},
				},
			}},
		}},
	}
	maps.Copy(spec, extra)
	util.Create(t, env.Client, kueueObject("ClusterQueue", "", ns, spec))
	util.Create(t, env.Client, kueueObject("LocalQueue", ns, localQueueName, map[string]any{"clusterQueue": ns}))
}

func createIfAbsent(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}

// runToCompletion plays the kubelet and the Spark driver for an admitted (SUBMITTED) application: the
// driver runs, starts its executors from the executor pod template, and succeeds.
func runToCompletion(t *testing.T, ns string, app *v1beta2.SparkApplication, executors int) {
	t.Helper()
	driver := runDriver(t, ns, app)
	createExecutors(t, ns, app, driver, executors)
	util.WaitForStateWithin(t, env.Client, ns, app.Name, v1beta2.ApplicationStateRunning, waitTimeout)
	finishDriver(t, ns, app, driver)
}

// runToCompletionFrom marks the driver running (its executors already exist), then succeeded.
func runToCompletionFrom(t *testing.T, ns string, app *v1beta2.SparkApplication, driver *corev1.Pod) {
	t.Helper()
	util.RunDriver(t, env.Client, ns, driver.Name)
	util.WaitForStateWithin(t, env.Client, ns, app.Name, v1beta2.ApplicationStateRunning, waitTimeout)
	finishDriver(t, ns, app, driver)
}

// finishDriver marks the driver succeeded and waits for COMPLETED.
func finishDriver(t *testing.T, ns string, app *v1beta2.SparkApplication, driver *corev1.Pod) {
	t.Helper()
	util.FinishDriver(t, env.Client, ns, driver.Name, 0)
	util.WaitForStateWithin(t, env.Client, ns, app.Name, v1beta2.ApplicationStateCompleted, waitTimeout)
}

// runDriver waits for the application's driver pod, checks it carries Kueue's pod set label, and
// marks it running.
func runDriver(t *testing.T, ns string, app *v1beta2.SparkApplication) *corev1.Pod {
	t.Helper()
	name := app.Status.DriverInfo.PodName
	if name == "" {
		name = app.Name + "-driver"
	}
	pod := &corev1.Pod{}
	framework.WaitFor(t, waitTimeout, "driver pod "+name, func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod)
		return err == nil && pod.Labels[v1beta2.LabelSubmissionID] == app.Status.SubmissionID, fmt.Sprint(err)
	})
	if pod.Labels[podSetLabel] != "driver" {
		t.Errorf("driver pod %s: label %s=%q, want driver", name, podSetLabel, pod.Labels[podSetLabel])
	}
	if _, ok := pod.Labels[queueNameLabel]; ok {
		t.Errorf("driver pod %s carries the application's %s label", name, queueNameLabel)
	}
	util.RunDriver(t, env.Client, ns, name)
	return pod
}

// createExecutors creates n executor pods as the Spark driver would: from the executor pod template
// the operator shipped, with the labels, annotations and node selectors of spark.properties, Spark's
// own labels, and owned by the driver. Each must carry Kueue's executor pod set label.
func createExecutors(t *testing.T, ns string, app *v1beta2.SparkApplication, driver *corev1.Pod, n int) {
	t.Helper()
	text, template := util.SubmissionConfig(t, env.Client, app)
	props := parseProperties(text)
	if got := props["spark.executor.instances"]; got != fmt.Sprint(n) {
		t.Errorf("spark.executor.instances = %q, want %d", got, n)
	}
	for i := 1; i <= n; i++ {
		pod := template.DeepCopy()
		pod.Name, pod.Namespace = fmt.Sprintf("%s-exec-%d", app.Name, i), ns
		pod.Labels = maps.Clone(pod.Labels)
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		if pod.Spec.NodeSelector == nil {
			pod.Spec.NodeSelector = map[string]string{}
		}
		for k, v := range props {
			switch {
			case strings.HasPrefix(k, "spark.kubernetes.executor.label."):
				pod.Labels[strings.TrimPrefix(k, "spark.kubernetes.executor.label.")] = v
			case strings.HasPrefix(k, "spark.kubernetes.executor.annotation."):
				pod.Annotations[strings.TrimPrefix(k, "spark.kubernetes.executor.annotation.")] = v
			case strings.HasPrefix(k, "spark.kubernetes.node.selector."):
				pod.Spec.NodeSelector[strings.TrimPrefix(k, "spark.kubernetes.node.selector.")] = v
			case strings.HasPrefix(k, "spark.kubernetes.executor.node.selector."):
				pod.Spec.NodeSelector[strings.TrimPrefix(k, "spark.kubernetes.executor.node.selector.")] = v
			}
		}
		pod.Labels[v1beta2.LabelSparkRole] = v1beta2.SparkRoleExecutor
		pod.Labels[v1beta2.LabelSparkExecID] = fmt.Sprint(i)
		pod.Labels[v1beta2.LabelSparkAppSelector] = app.Status.SparkApplicationID
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: driver.Name, UID: driver.UID, Controller: ptr.To(true)}}
		if pod.Spec.Containers[0].Image == "" {
			pod.Spec.Containers[0].Image = ptr.Deref(app.Spec.Image, "spark:3.5.3")
		}
		if pod.Labels[podSetLabel] != "executor" {
			t.Errorf("executor %s: label %s=%q, want executor", pod.Name, podSetLabel, pod.Labels[podSetLabel])
		}
		util.Create(t, env.Client, pod)
	}
}

// parseProperties reads spark.properties text into a map (keys and values with Spark's escaped
// colons restored; comments skipped).
func parseProperties(text string) map[string]string {
	props := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			props[strings.ReplaceAll(k, `\:`, ":")] = strings.ReplaceAll(v, `\:`, ":")
		}
	}
	return props
}

// waitForNoPods waits until no pod of the application (driver or executor) is left.
func waitForNoPods(t *testing.T, ns, name string) {
	t.Helper()
	framework.WaitFor(t, waitTimeout, "no pods of "+name, func() (bool, string) {
		pods := &corev1.PodList{}
		if err := env.Client.List(context.Background(), pods, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelAppName: name}); err != nil {
			return false, err.Error()
		}
		var left []string
		for _, p := range pods.Items {
			left = append(left, p.Name)
		}
		return len(left) == 0, fmt.Sprint(left)
	})
}

// waitForWorkload waits until Kueue's Workload for app has the condition type True and returns it.
func waitForWorkload(t *testing.T, ns string, app *v1beta2.SparkApplication, condition string) *unstructured.Unstructured {
	t.Helper()
	var found *unstructured.Unstructured
	framework.WaitFor(t, waitTimeout, fmt.Sprintf("the workload of %s to be %s", app.Name, condition), func() (bool, string) {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("kueue.x-k8s.io/v1beta2")
		list.SetKind("WorkloadList")
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for i := range list.Items {
			for _, ref := range list.Items[i].GetOwnerReferences() {
				if ref.UID != app.UID {
					continue
				}
				found = &list.Items[i]
				conditions, _, _ := unstructured.NestedSlice(found.Object, "status", "conditions")
				var seen []string
				for _, c := range conditions {
					m, _ := c.(map[string]any)
					seen = append(seen, fmt.Sprintf("%v=%v", m["type"], m["status"]))
					if m["type"] == condition && m["status"] == "True" {
						return true, ""
					}
				}
				return false, strings.Join(seen, ",")
			}
		}
		return false, "no workload"
	})
	return found
}

// podSetCount is the count of the workload's pod set name.
func podSetCount(t *testing.T, wl *unstructured.Unstructured, name string) int64 {
	t.Helper()
	podSets, _, _ := unstructured.NestedSlice(wl.Object, "spec", "podSets")
	for _, ps := range podSets {
		m, _ := ps.(map[string]any)
		if m["name"] == name {
			n, _, _ := unstructured.NestedInt64(m, "count")
			return n
		}
	}
	t.Fatalf("workload %s has no pod set %q", wl.GetName(), name)
	return 0
}

// waitForUsage waits until the ClusterQueue of ns reports that much memory in use by admitted
// workloads ("0" once everything finished).
func waitForUsage(t *testing.T, ns, memory string) {
	t.Helper()
	want := resource.MustParse(memory)
	framework.WaitFor(t, waitTimeout, fmt.Sprintf("ClusterQueue %s to use %s memory", ns, memory), func() (bool, string) {
		cq := kueueObject("ClusterQueue", "", ns, nil)
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(cq), cq); err != nil {
			return false, err.Error()
		}
		got := resource.MustParse("0")
		usage, _, _ := unstructured.NestedSlice(cq.Object, "status", "flavorsUsage")
		for _, f := range usage {
			resources, _, _ := unstructured.NestedSlice(f.(map[string]any), "resources")
			for _, r := range resources {
				m := r.(map[string]any)
				if m["name"] == "memory" {
					if q, err := resource.ParseQuantity(fmt.Sprint(m["total"])); err == nil {
						got.Add(q)
					}
				}
			}
		}
		return got.Cmp(want) == 0, "in use: " + got.String()
	})
}

// Topology-aware scheduling: nodes labelled with a block and a hostname, a flavor on that topology.
const (
	topologyName   = "blocks"
	tasFlavorName  = "tas"
	tasPoolLabel   = "example.com/pool"
	blockLabel     = "example.com/block"
	hostnameLabel  = "kubernetes.io/hostname"
	topologyGate   = "kueue.x-k8s.io/topology"
	workloadAnnot  = "kueue.x-k8s.io/workload"
	tasNodePrefix  = "tas-node-"
	tasNodeMemory  = "4Gi"
	tasNodeCPU     = "4"
	tasNodeCount   = 2
	tasQueueMemory = "2Gi"
)

// testTopologyUngates: with a flavor on a Topology, Kueue admits the application with the topology
// scheduling gate in both roles; the driver pod and the executors (created from the executor pod
// template, as Spark would) carry the gate, Kueue's pod set label and workload annotation, and Kueue's
// topology ungater removes the gate from each and pins it to a node of the assigned domain.
func testTopologyUngates(t *testing.T) {
	ns := env.NewNamespace(t)
	createIfAbsent(t, kueueObject("Topology", "", topologyName, map[string]any{
		"levels": []any{map[string]any{"nodeLabel": blockLabel}, map[string]any{"nodeLabel": hostnameLabel}},
	}))
	createIfAbsent(t, kueueObject("ResourceFlavor", "", tasFlavorName, map[string]any{
		"nodeLabels":   map[string]any{tasPoolLabel: "tas"},
		"topologyName": topologyName,
	}))
	for i := 1; i <= tasNodeCount; i++ {
		makeNode(t, fmt.Sprintf("%s%d", tasNodePrefix, i))
	}
	createQueues(t, ns, tasFlavorName, "8", tasQueueMemory, nil)

	util.Create(t, env.Client, queuedApp(ns, "tas", "").ExecutorInstances(2).Obj())
	app := util.WaitForStateWithin(t, env.Client, ns, "tas", v1beta2.ApplicationStateSubmitted, waitTimeout)
	for _, role := range []*v1beta2.SparkPodSpec{&app.Spec.Driver.SparkPodSpec, &app.Spec.Executor.SparkPodSpec} {
		if role.Template == nil || !hasGate(role.Template.Spec.SchedulingGates) {
			t.Errorf("Kueue admitted without the topology gate in the spec: %+v", role.Template)
		}
	}
	driver := waitForUngated(t, ns, app.Name+"-driver", "driver")
	createExecutors(t, ns, app, driver, 2)
	for i := 1; i <= 2; i++ {
		waitForUngated(t, ns, fmt.Sprintf("%s-exec-%d", app.Name, i), "executor")
	}
	runToCompletionFrom(t, ns, app, driver)
	waitForWorkload(t, ns, app, "Finished")
}

func hasGate(gates []corev1.PodSchedulingGate) bool {
	for _, g := range gates {
		if g.Name == topologyGate {
			return true
		}
	}
	return false
}

// waitForUngated waits until Kueue's topology ungater has removed the gate from the pod and pinned it
// to a node of the topology; the pod must carry Kueue's pod set label for role and its workload
// annotation, which is how the ungater finds it.
func waitForUngated(t *testing.T, ns, name, role string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	framework.WaitFor(t, waitTimeout, "pod "+name+" to be ungated by Kueue", func() (bool, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
			return false, err.Error()
		}
		return !hasGate(pod.Spec.SchedulingGates), fmt.Sprintf("gates %v, node selector %v", pod.Spec.SchedulingGates, pod.Spec.NodeSelector)
	})
	if pod.Labels[podSetLabel] != role || pod.Annotations[workloadAnnot] == "" {
		t.Errorf("pod %s: label %s=%q, annotation %s=%q", name, podSetLabel, pod.Labels[podSetLabel], workloadAnnot, pod.Annotations[workloadAnnot])
	}
	if !strings.HasPrefix(pod.Spec.NodeSelector[hostnameLabel], tasNodePrefix) && pod.Spec.NodeSelector[blockLabel] == "" {
		t.Errorf("pod %s ungated without a topology domain in its node selector: %v", name, pod.Spec.NodeSelector)
	}
	return pod
}

// makeNode creates a Ready node of the topology (block b1) with some capacity; no kubelet runs it,
// and no pod is ever bound to it here.
func makeNode(t *testing.T, name string) {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		tasPoolLabel: "tas", blockLabel: "b1", hostnameLabel: name,
	}}}
	if err := env.Client.Create(context.Background(), node); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return
		}
		t.Fatal(err)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(tasNodeCPU), corev1.ResourceMemory: resource.MustParse(tasNodeMemory),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	node.Status = corev1.NodeStatus{Capacity: capacity, Allocatable: capacity, Conditions: []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
	}}}
	if err := env.Client.Status().Update(context.Background(), node); err != nil {
		t.Fatal(err)
	}
	// The API server taints a new node not-ready (TaintNodesByCondition); with no node lifecycle
	// controller running, nobody lifts it.
	node.Spec.Taints = nil
	if err := env.Client.Update(context.Background(), node); err != nil {
		t.Fatal(err)
	}
}
