package sparkctl

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/quota"
	"github.com/sparkop/spark-operator/internal/submission"
)

// What holds an application: `sparkctl status` adds a row for each admission control that has a
// say over it. Kueue (the application has the kueue.x-k8s.io/queue-name label): the Workload it owns,
// its LocalQueue, ClusterQueue, and admission state with Kueue's
// message, plus the position in the queues when Kueue's visibility API answers. Quota: the
// controller's QuotaExceeded condition, or, for an application that is not running, the namespace's
// ResourceQuotas that have no room for its driver and executors. Disruption budget: the driver
// PodDisruptionBudget (spec.driverPodDisruptionBudget) and how many disruptions it allows, or why
// there is none. Every read is best effort: what cannot be read is said, never fatal.

// labelKueueQueueName is the label that puts a job under Kueue.
const labelKueueQueueName = "kueue.x-k8s.io/queue-name"

// Kueue's Workload (v1beta2, its storage version from v0.15; v1beta1 before) and its visibility API.
var (
	workloadGVRs = []schema.GroupVersionResource{
		{Group: "kueue.x-k8s.io", Version: "v1beta2", Resource: "workloads"},
		{Group: "kueue.x-k8s.io", Version: "v1beta1", Resource: "workloads"},
	}
	visibilityGVRs = []schema.GroupVersionResource{
		{Group: "visibility.kueue.x-k8s.io", Version: "v1beta2", Resource: "localqueues"},
		{Group: "visibility.kueue.x-k8s.io", Version: "v1beta1", Resource: "localqueues"},
	}
)

// holdRow is one row of what holds an application.
type holdRow struct{ key, value string }

// holds returns the rows describing what holds app.
func (o *StatusOptions) holds(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) []holdRow {
	var rows []holdRow
	if v := o.describeKueue(ctx, app); v != "" {
		rows = append(rows, holdRow{"Kueue", v})
	}
	if v := describeQuota(ctx, c, app); v != "" {
		rows = append(rows, holdRow{"Quota", v})
	}
	if v := describePDB(ctx, c, app); v != "" {
		rows = append(rows, holdRow{"Disruption budget", v})
	}
	return rows
}

// describeKueue reads the application's Workload: "LocalQueue team-a (ClusterQueue cq): pending:
// <Kueue's message> (position 2 in LocalQueue team-a, 5 in ClusterQueue cq)", "admitted by
// ClusterQueue cq", "evicted (Preempted): ...". Empty for an application without the queue-name label.
func (o *StatusOptions) describeKueue(ctx context.Context, app *v1beta2.SparkApplication) string {
	queue := app.Labels[labelKueueQueueName]
	if queue == "" {
		return ""
	}
	cfg, err := o.f.RESTConfig()
	if err != nil {
		return ""
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return ""
	}
	wl, err := ownedWorkload(ctx, dyn, app)
	if wl == nil {
		switch {
		case err != nil:
			return fmt.Sprintf("LocalQueue %s: the Workload cannot be read (%v)", queue, err)
		case isSuspended(app):
			return fmt.Sprintf("LocalQueue %s: no Workload yet; the application stays suspended until Kueue admits it (is Kueue's SparkApplication integration enabled?)", queue)
		default:
			return fmt.Sprintf("LocalQueue %s: no Workload (is Kueue's SparkApplication integration enabled?)", queue)
		}
	}
	if q, _, _ := unstructured.NestedString(wl.Object, "spec", "queueName"); q != "" {
		queue = q
	}
	cq, _, _ := unstructured.NestedString(wl.Object, "status", "admission", "clusterQueue")
	head := "LocalQueue " + queue
	if cq != "" {
		head += " (ClusterQueue " + cq + ")"
	}
	head += ", Workload " + wl.GetName()
	conds := workloadConditions(wl)
	has := func(t string) *metav1.Condition {
		c := meta.FindStatusCondition(conds, t)
		if c != nil && c.Status == metav1.ConditionTrue {
			return c
		}
		return nil
	}
	switch {
	case has("Finished") != nil:
		return head + ": finished, quota released"
	case has("Evicted") != nil:
		c := has("Evicted")
		return fmt.Sprintf("%s: evicted (%s): %s", head, c.Reason, c.Message)
	case has("Admitted") != nil:
		return head + ": admitted"
	case has("QuotaReserved") != nil:
		return head + ": quota reserved, waiting for admission checks"
	}
	msg := "pending"
	if c := meta.FindStatusCondition(conds, "QuotaReserved"); c != nil && c.Message != "" {
		msg += ": " + c.Message
	}
	if pos := queuePosition(ctx, dyn, app.Namespace, queue, wl.GetName()); pos != "" {
		msg += " (" + pos + ")"
	}
	return head + ": " + msg
}

// ownedWorkload returns the Kueue Workload owned by app, or nil.
func ownedWorkload(ctx context.Context, dyn dynamic.Interface, app *v1beta2.SparkApplication) (*unstructured.Unstructured, error) {
	var lastErr error
	for _, gvr := range workloadGVRs {
		list, err := dyn.Resource(gvr).Namespace(app.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			lastErr = err
			continue
		}
		for i := range list.Items {
			for _, ref := range list.Items[i].GetOwnerReferences() {
				if ref.UID == app.UID {
					return &list.Items[i], nil
				}
			}
		}
		return nil, nil
	}
	return nil, lastErr
}

// workloadConditions decodes status.conditions of a Workload.
func workloadConditions(wl *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(wl.Object, "status", "conditions")
	var out []metav1.Condition
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		var c metav1.Condition
		if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// queuePosition asks Kueue's visibility API (served when Kueue runs its visibility server) where the
// Workload is among the pending ones: "position 2 in LocalQueue team-a, 5 in its ClusterQueue".
func queuePosition(ctx context.Context, dyn dynamic.Interface, ns, queue, workload string) string {
	for _, gvr := range visibilityGVRs {
		summary, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, queue, metav1.GetOptions{}, "pendingworkloads")
		if err != nil {
			continue
		}
		items, _, _ := unstructured.NestedSlice(summary.Object, "items")
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if name, _, _ := unstructured.NestedString(m, "metadata", "name"); name != workload {
				continue
			}
			lq, _, _ := unstructured.NestedInt64(m, "positionInLocalQueue")
			cq, _, _ := unstructured.NestedInt64(m, "positionInClusterQueue")
			return fmt.Sprintf("position %d in LocalQueue %s, %d in its ClusterQueue", lq+1, queue, cq+1)
		}
		return ""
	}
	return ""
}

// describeQuota reads the QuotaExceeded condition of a running application, or checks the driver and
// executors of an application that is not running against its namespace's ResourceQuotas.
func describeQuota(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) string {
	if cond := meta.FindStatusCondition(app.Status.Conditions, v1beta2.ConditionQuotaExceeded); cond != nil && cond.Status == metav1.ConditionTrue {
		return "executors blocked: " + cond.Message
	}
	switch app.Status.AppState.State {
	case v1beta2.ApplicationStateRunning, v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed,
		v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateUnknown:
		// Running or ended; or the driver exists already (a driver that does not start is the
		// scheduler's or the kubelet's business, shown in the Driver row).
		return ""
	}
	list := &corev1.ResourceQuotaList{}
	if err := c.List(ctx, list, client.InNamespace(app.Namespace)); err != nil || len(list.Items) == 0 {
		return ""
	}
	need, desc, err := quota.ApplicationUsage(app, submission.Options{})
	if err != nil {
		return ""
	}
	short := quota.Check(list.Items, need)
	if len(short) == 0 {
		return ""
	}
	return fmt.Sprintf("%s do not fit: %s", desc, quota.Describe(short))
}

// describePDB reads the driver PodDisruptionBudget: "spark-pi-driver allows 0 disruptions (a node
// drain waits for the driver)", or why there is none. Empty when the application asks for none.
func describePDB(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) string {
	if !ptr.Deref(app.Spec.DriverPodDisruptionBudget, false) {
		return ""
	}
	cond := meta.FindStatusCondition(app.Status.Conditions, v1beta2.ConditionDriverPodDisruptionBudget)
	if cond != nil && cond.Status == metav1.ConditionFalse {
		return "none: " + cond.Message
	}
	pdb := &policyv1.PodDisruptionBudget{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: submission.DriverPodName(app)}, pdb); err != nil {
		if isFinished(app) {
			return "released when the application ended"
		}
		return "none yet (created while the driver is pending or running)"
	}
	parts := []string{fmt.Sprintf("PodDisruptionBudget %s allows %d disruption(s)", pdb.Name, pdb.Status.DisruptionsAllowed)}
	if pdb.Status.DisruptionsAllowed == 0 && pdb.Status.CurrentHealthy > 0 {
		parts = append(parts, "a node drain waits until the driver ends")
	}
	return strings.Join(parts, "; ")
}

func isSuspended(app *v1beta2.SparkApplication) bool {
	return ptr.Deref(app.Spec.Suspend, false)
}
