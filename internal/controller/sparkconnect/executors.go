package sparkconnect

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
)

// countExecutors counts the SparkConnect's executor pods (labels connect-name and spark-role
// executor, from the operator's cache) by phase in lower case, as Kubeflow's status.executors does:
// {"running": 2, "pending": 1}. Nil when there is none.
func (r *Reconciler) countExecutors(ctx context.Context, conn *v1alpha1.SparkConnect) (map[string]int, error) {
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(conn.Namespace), client.MatchingLabels{
		v1alpha1.LabelSparkConnectName: conn.Name,
		v1beta2.LabelSparkRole:         v1beta2.SparkRoleExecutor,
	}); err != nil {
		return nil, err
	}
	var counts map[string]int
	for _, p := range pods.Items {
		if counts == nil {
			counts = map[string]int{}
		}
		phase := strings.ToLower(string(p.Status.Phase))
		if phase == "" {
			phase = "pending"
		}
		counts[phase]++
	}
	return counts, nil
}
