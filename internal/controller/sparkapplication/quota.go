package sparkapplication

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/quota"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Executors blocked by a ResourceQuota. When a ResourceQuota has no room for an executor, the API
// server refuses the driver's requests to create it; Spark logs the refusal and retries, and the
// application sits RUNNING with fewer executors than it asked for while nothing in the cluster says
// why. So while a RUNNING application has fewer live (pending or running) executors than it starts
// with (spec.executor.instances; with dynamic allocation, minExecutors), the controller checks its
// namespace's ResourceQuotas (from the informer cache: no API request) against what one executor
// charges (the rendered executor pod template sized as Spark sizes executors; quota.PodUsage). When
// one has no room, the QuotaExceeded condition is True with the quota, the resource and the
// shortfall, and a Warning Event SparkExecutorQuotaExceeded is recorded once; the condition is
// removed when the executors are there or the quota has room again. The check runs only when
// executors are missing and the namespace has quotas, then at most every quotaRecheckInterval.
// The webhook (--enable-resource-quota-enforcement) refuses such applications up front instead.

// quotaRecheckInterval is how often an application missing executors in a namespace with quotas is
// checked again (quota changes bring no event to the controller).
const quotaRecheckInterval = 30 * time.Second

// checkExecutorQuota sets or clears the QuotaExceeded condition of a RUNNING application.
func (r *Reconciler) checkExecutorQuota(ctx context.Context, s *scope) error {
	app := s.app
	wanted := wantedExecutors(app)
	counts := app.Status.ExecutorCounts
	live := int64(counts[v1beta2.ExecutorStatePending] + counts[v1beta2.ExecutorStateRunning] + counts[v1beta2.ExecutorStateUnknown])
	if live >= wanted {
		meta.RemoveStatusCondition(&app.Status.Conditions, v1beta2.ConditionQuotaExceeded)
		return nil
	}
	quotas := &corev1.ResourceQuotaList{}
	if err := r.client.List(ctx, quotas, client.InNamespace(app.Namespace)); err != nil {
		return err
	}
	if len(quotas.Items) == 0 {
		meta.RemoveStatusCondition(&app.Status.Conditions, v1beta2.ConditionQuotaExceeded)
		return nil
	}
	s.requeue(quotaRecheckInterval)
	usage, err := r.executorUsage(app)
	if err != nil {
		s.log.V(1).Info("Cannot size the executors for the quota check", "error", err.Error())
		return nil
	}
	short := quota.Check(quotas.Items, usage)
	if len(short) == 0 {
		meta.RemoveStatusCondition(&app.Status.Conditions, v1beta2.ConditionQuotaExceeded)
		return nil
	}
	msg := fmt.Sprintf("%d of %d executors exist; the next one does not fit in the namespace's quota: %s",
		live, wanted, quota.Describe(short))
	old := meta.FindStatusCondition(s.orig.Status.Conditions, v1beta2.ConditionQuotaExceeded)
	meta.SetStatusCondition(&app.Status.Conditions, metav1.Condition{
		Type: v1beta2.ConditionQuotaExceeded, Status: metav1.ConditionTrue, Reason: "ExecutorsExceedQuota", Message: msg,
		ObservedGeneration: app.Generation, LastTransitionTime: metav1.NewTime(s.now),
	})
	if old == nil || old.Status != metav1.ConditionTrue {
		s.event(corev1.EventTypeWarning, ReasonExecutorQuotaExceeded, "%s", msg)
	}
	return nil
}

// clearExecutorQuota drops the QuotaExceeded condition when the attempt ends.
func clearExecutorQuota(s *scope) {
	meta.RemoveStatusCondition(&s.app.Status.Conditions, v1beta2.ConditionQuotaExceeded)
}

// wantedExecutors is how many executors the application keeps at least: spec.executor.instances
// (default 1), or with dynamic allocation its minExecutors (default 0).
func wantedExecutors(app *v1beta2.SparkApplication) int64 {
	if da := app.Spec.DynamicAllocation; da != nil && da.Enabled {
		if da.MinExecutors != nil {
			return int64(*da.MinExecutors)
		}
		return 0
	}
	if v, err := strconv.ParseInt(app.Spec.SparkConf["spark.executor.instances"], 10, 64); err == nil && app.Spec.Executor.Instances == nil {
		return v
	}
	if app.Spec.Executor.Instances != nil {
		return int64(*app.Spec.Executor.Instances)
	}
	return 1
}

// executorUsage is what one executor of the application's current spec charges against a quota.
func (r *Reconciler) executorUsage(app *v1beta2.SparkApplication) (corev1.ResourceList, error) {
	opts := r.opts.Submission
	res, err := submission.Render(app, submission.NewSubmission(app.UID, Revision(app), max(app.Status.SubmissionAttempts, 1), app.Status.LastSubmissionAttemptTime.Time), opts)
	if err != nil {
		return nil, err
	}
	pod, err := res.ExecutorPod()
	if err != nil {
		return nil, err
	}
	return quota.PodUsage(pod), nil
}
