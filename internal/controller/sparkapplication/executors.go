package sparkapplication

import (
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// executorState maps an executor pod to its state: the Spark container (spark-kubernetes-executor,
// else "executor", else the first) decides once it has terminated, as in Spark's ExecutorPodsSnapshot.
func executorState(pod *corev1.Pod) v1beta2.ExecutorState {
	var status *corev1.ContainerStatus
	for _, name := range []string{"spark-kubernetes-executor", "executor"} {
		for i := range pod.Status.ContainerStatuses {
			if pod.Status.ContainerStatuses[i].Name == name && status == nil {
				status = &pod.Status.ContainerStatuses[i]
			}
		}
	}
	if status == nil && len(pod.Status.ContainerStatuses) > 0 {
		status = &pod.Status.ContainerStatuses[0]
	}
	if status != nil && status.State.Terminated != nil {
		if status.State.Terminated.ExitCode == 0 {
			return v1beta2.ExecutorStateCompleted
		}
		return v1beta2.ExecutorStateFailed
	}
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		return v1beta2.ExecutorStatePending
	case corev1.PodRunning:
		return v1beta2.ExecutorStateRunning
	case corev1.PodSucceeded:
		return v1beta2.ExecutorStateCompleted
	case corev1.PodFailed:
		return v1beta2.ExecutorStateFailed
	}
	return v1beta2.ExecutorStateUnknown
}

// executorID is the numeric executor id from the spark-exec-id label, or MaxInt for pods without one.
func executorID(pod *corev1.Pod) int {
	id, err := strconv.Atoi(pod.Labels[v1beta2.LabelSparkExecID])
	if err != nil {
		return int(^uint(0) >> 1)
	}
	return id
}

// updateExecutorStatus sets status.executorState and status.executorCounts from the executor pods of
// the current attempt. executorState keeps at most maxTracked entries, those with the lowest executor
// ids, so that thousands of executors never make the object too large for etcd; executorCounts counts
// them all. Executors that were tracked and whose pods are gone keep a final state: COMPLETED when the
// application succeeded, else their last state if final, else UNKNOWN.
func updateExecutorStatus(status *v1beta2.SparkApplicationStatus, pods []corev1.Pod, maxTracked int, succeeded bool) {
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		if d := executorID(&a) - executorID(&b); d != 0 {
			return d
		}
		return compareStrings(a.Name, b.Name)
	})
	next := map[string]v1beta2.ExecutorState{}
	counts := map[v1beta2.ExecutorState]int32{}
	for i := range pods {
		st := executorState(&pods[i])
		counts[st]++
		if len(next) < maxTracked {
			next[pods[i].Name] = st
		}
	}
	for _, name := range slices.Sorted(maps.Keys(status.ExecutorState)) {
		old := status.ExecutorState[name]
		if _, ok := next[name]; ok || len(next) >= maxTracked {
			continue
		}
		switch {
		case old == v1beta2.ExecutorStateCompleted || old == v1beta2.ExecutorStateFailed:
			next[name] = old
		case succeeded:
			next[name] = v1beta2.ExecutorStateCompleted
		default:
			next[name] = v1beta2.ExecutorStateUnknown
		}
	}
	if len(next) == 0 {
		next = nil
	}
	if len(counts) == 0 {
		counts = nil
	}
	status.ExecutorState = next
	status.ExecutorCounts = counts
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
