package controller_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// Kueue's names, as its SparkApplication integration (v0.17.0) writes them at admission.
const (
	kueueQueueLabel    = "kueue.x-k8s.io/queue-name"
	kueuePodSetLabel   = "kueue.x-k8s.io/podset"
	kueueWorkloadAnno  = "kueue.x-k8s.io/workload"
	kueueTopologyGate  = "kueue.x-k8s.io/topology"
	kueueFlavorLabel   = "example.com/flavor"
	kueueFlavorTaint   = "example.com/spot"
	kueueWorkloadValue = "sparkapplication-admitted-0a1b2"
)

// admitLikeKueue applies to a in one update what Kueue's RunWithPodSetsInfo does when it admits it
// with topology-aware scheduling on a flavor with a node label and a toleration: per-role labels,
// annotations, node selector, tolerations and the topology scheduling gate, then suspend: false.
func admitLikeKueue(a *v1beta2.SparkApplication) {
	toleration := corev1.Toleration{Key: kueueFlavorTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	for role, ps := range map[string]*v1beta2.SparkPodSpec{"driver": &a.Spec.Driver.SparkPodSpec, "executor": &a.Spec.Executor.SparkPodSpec} {
		if ps.Labels == nil {
			ps.Labels = map[string]string{}
		}
		ps.Labels[kueuePodSetLabel] = role
		if ps.Annotations == nil {
			ps.Annotations = map[string]string{}
		}
		ps.Annotations[kueueWorkloadAnno] = kueueWorkloadValue
		if ps.NodeSelector == nil {
			ps.NodeSelector = map[string]string{}
		}
		ps.NodeSelector[kueueFlavorLabel] = "on-demand"
		ps.Tolerations = append(ps.Tolerations, toleration)
		if ps.Template == nil {
			ps.Template = &v1beta2.PodTemplate{PodTemplateSpec: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-" + role}}}}}
		}
		ps.Template.Spec.SchedulingGates = append(ps.Template.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: kueueTopologyGate})
	}
	a.Spec.Suspend = ptr.To(false)
}

// hasProperty reports whether the properties text holds key=value on a line of its own.
func hasProperty(properties, key, value string) bool {
	return slices.Contains(strings.Split(properties, "\n"), key+"="+value)
}

// checkKueuePodSetInfo fails unless the pod (spec) carries what admitLikeKueue merged for role.
func checkKueuePodSetInfo(t *testing.T, what string, spec *corev1.PodSpec) {
	t.Helper()
	if spec.NodeSelector[kueueFlavorLabel] != "on-demand" {
		t.Errorf("%s: node selector %v lacks %s", what, spec.NodeSelector, kueueFlavorLabel)
	}
	if !slices.ContainsFunc(spec.Tolerations, func(tl corev1.Toleration) bool { return tl.Key == kueueFlavorTaint }) {
		t.Errorf("%s: tolerations %v lack %s", what, spec.Tolerations, kueueFlavorTaint)
	}
	if !slices.ContainsFunc(spec.SchedulingGates, func(g corev1.PodSchedulingGate) bool { return g.Name == kueueTopologyGate }) {
		t.Errorf("%s: scheduling gates %v lack %s", what, spec.SchedulingGates, kueueTopologyGate)
	}
}

// TestKueueAdmissionReachesPods: everything Kueue merges into spec.driver/spec.executor when it
// admits an application (per-role labels and annotations, node selector, tolerations, scheduling
// gates) reaches the driver pod and the executor pod template and properties; the application's own
// queue-name label does not, and an omitted executor count is stored as 1 for Kueue to count.
func TestKueueAdmissionReachesPods(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("admitted", ns).Label(kueueQueueLabel, "lq").Suspend(true).
		Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = nil }).Obj())
	app := util.WaitForState(t, env.Client, ns, "admitted", v1beta2.ApplicationStateSuspended)
	if app.Spec.Executor.Instances == nil || *app.Spec.Executor.Instances != 1 {
		t.Errorf("stored executor instances = %v, want 1", app.Spec.Executor.Instances)
	}

	util.UpdateApp(t, env.Client, ns, "admitted", admitLikeKueue)
	app = util.WaitForState(t, env.Client, ns, "admitted", v1beta2.ApplicationStateSubmitted)
	driver := util.GetPod(t, env.Client, ns, "admitted-driver")
	if driver.Labels[kueuePodSetLabel] != "driver" || driver.Annotations[kueueWorkloadAnno] != kueueWorkloadValue {
		t.Errorf("driver pod labels %v annotations %v lack Kueue's per-role metadata", driver.Labels, driver.Annotations)
	}
	if _, ok := driver.Labels[kueueQueueLabel]; ok {
		t.Error("the application's queue-name label reached the driver pod")
	}
	checkKueuePodSetInfo(t, "driver pod", &driver.Spec)

	props, template := util.SubmissionConfig(t, env.Client, app)
	checkKueuePodSetInfo(t, "executor pod template", &template.Spec)
	for _, kv := range [][2]string{
		{"spark.kubernetes.executor.label." + kueuePodSetLabel, "executor"},
		{"spark.kubernetes.executor.annotation." + kueueWorkloadAnno, kueueWorkloadValue},
		{"spark.executor.instances", "1"},
	} {
		if !hasProperty(props, kv[0], kv[1]) {
			t.Errorf("spark.properties lacks %s=%s:\n%s", kv[0], kv[1], props)
		}
	}
	if strings.Contains(props, "label."+kueueQueueLabel) {
		t.Error("the application's queue-name label reached the executors")
	}
}

// TestKueueEvictionLands: Kueue evicts a running application by writing suspend: true together with
// the executor count of its workload (0 when it counted none) and the spec it saw at creation; the
// suspension lands (driver deleted, SUSPENDED), and after re-admission the application is submitted
// again with one executor.
func TestKueueEvictionLands(t *testing.T) {
	ns := parallelWithOperator(t)
	util.Create(t, env.Client, wrappers.MakeSparkApplication("evicted", ns).Label(kueueQueueLabel, "lq").Suspend(true).Obj())
	util.WaitForState(t, env.Client, ns, "evicted", v1beta2.ApplicationStateSuspended)
	util.UpdateApp(t, env.Client, ns, "evicted", admitLikeKueue)
	util.WaitForState(t, env.Client, ns, "evicted", v1beta2.ApplicationStateSubmitted)
	util.RunDriver(t, env.Client, ns, "evicted-driver")
	util.WaitForState(t, env.Client, ns, "evicted", v1beta2.ApplicationStateRunning)

	// RestorePodSetsInfo + Suspend, in one update.
	util.UpdateApp(t, env.Client, ns, "evicted", func(a *v1beta2.SparkApplication) {
		a.Spec.Suspend = ptr.To(true)
		a.Spec.Executor.Instances = ptr.To[int32](0)
		for _, ps := range []*v1beta2.SparkPodSpec{&a.Spec.Driver.SparkPodSpec, &a.Spec.Executor.SparkPodSpec} {
			ps.Labels, ps.Annotations, ps.NodeSelector, ps.Tolerations = nil, nil, nil, nil
			ps.Template.Spec.SchedulingGates = nil
		}
	})
	util.WaitForState(t, env.Client, ns, "evicted", v1beta2.ApplicationStateSuspended)
	util.WaitForPodGone(t, env.Client, ns, "evicted-driver")

	util.UpdateApp(t, env.Client, ns, "evicted", admitLikeKueue)
	app := util.WaitForState(t, env.Client, ns, "evicted", v1beta2.ApplicationStateSubmitted)
	props, _ := util.SubmissionConfig(t, env.Client, app)
	if !hasProperty(props, "spark.executor.instances", "1") {
		t.Errorf("after re-admission with instances 0 written back, spark.properties lacks spark.executor.instances=1:\n%s", props)
	}
	checkKueuePodSetInfo(t, "re-admitted driver pod", &util.GetPod(t, env.Client, ns, "evicted-driver").Spec)
}

// TestKueueSubmissionRetryKeepsQuota: Kueue counts SUBMISSION_FAILED as finished and never admits the
// application again, so a failed submission of an application in a Kueue queue that its restart
// policy retries is recorded as PENDING_RERUN (Kueue keeps its quota reserved), with the failure as
// the error message, and is retried after the interval; once no retry is left it fails as usual.
func TestKueueSubmissionRetryKeepsQuota(t *testing.T) {
	ns := env.ParallelNamespace(t)
	exhaustedQuota(t, ns, "no-pods", corev1.ResourcePods)
	startOperator(t, ns, defaultOptions())

	util.Create(t, env.Client, wrappers.MakeSparkApplication("retried", ns).Label(kueueQueueLabel, "lq").
		RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(3, 4).Obj())
	app := util.WaitForState(t, env.Client, ns, "retried", v1beta2.ApplicationStatePendingRerun)
	if !strings.Contains(app.Status.AppState.ErrorMessage, "no-pods") || app.Status.SubmissionAttempts != 1 {
		t.Errorf("pending retry: attempts %d, message %q (want the quota named)", app.Status.SubmissionAttempts, app.Status.AppState.ErrorMessage)
	}
	util.WaitForEvents(t, env.Client, ns, "retried", sparkapplication.ReasonSubmissionFailed)
	// The cause goes away before the retry: the application is not lost.
	if err := env.Client.Delete(context.Background(), &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-pods"}}); err != nil {
		t.Fatal(err)
	}
	states := util.WaitForStates(t, env.Client, ns, "retried", v1beta2.ApplicationStateSubmitted)
	if slices.Contains(states, v1beta2.ApplicationStateFailedSubmission) {
		t.Errorf("states %v: Kueue would have counted SUBMISSION_FAILED as finished", states)
	}

	// Without a retry left the failure is SUBMISSION_FAILED, then FAILED, as without Kueue.
	ns2 := env.NewNamespace(t)
	exhaustedQuota(t, ns2, "no-pods", corev1.ResourcePods)
	startOperator(t, ns2, defaultOptions())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("exhausted", ns2).Label(kueueQueueLabel, "lq").
		RestartPolicy(v1beta2.RestartPolicyOnFailure).OnSubmissionFailureRetries(1, 1).Obj())
	app = util.WaitForState(t, env.Client, ns2, "exhausted", v1beta2.ApplicationStateFailed)
	if app.Status.SubmissionAttempts != 2 {
		t.Errorf("failed after %d submission attempts, want 2", app.Status.SubmissionAttempts)
	}
}
