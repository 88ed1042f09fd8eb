package sparkapplication

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

func podWith(phase corev1.PodPhase, statuses ...corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{Status: corev1.PodStatus{Phase: phase, ContainerStatuses: statuses}}
}

func terminated(name string, code int32, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}
}

// TestObserveDriver: the Spark container's exit code decides once it terminated, whatever the phase.
func TestObserveDriver(t *testing.T) {
	cases := map[string]struct {
		pod     *corev1.Pod
		want    v1beta2.DriverState
		message string
	}{
		"pending":                 {podWith(corev1.PodPending), v1beta2.DriverStatePending, ""},
		"no phase yet":            {podWith(""), v1beta2.DriverStatePending, ""},
		"running":                 {podWith(corev1.PodRunning), v1beta2.DriverStateRunning, ""},
		"succeeded":               {podWith(corev1.PodSucceeded), v1beta2.DriverStateCompleted, ""},
		"running, driver exit 0":  {podWith(corev1.PodRunning, terminated(driverContainerName, 0, "Completed")), v1beta2.DriverStateCompleted, ""},
		"running, driver exit 1":  {podWith(corev1.PodRunning, terminated(driverContainerName, 1, "Error")), v1beta2.DriverStateFailed, "uncaught exception"},
		"failed with exit 0":      {podWith(corev1.PodFailed, terminated(driverContainerName, 0, "Completed")), v1beta2.DriverStateCompleted, ""},
		"oom":                     {podWith(corev1.PodFailed, terminated(driverContainerName, 137, "OOMKilled")), v1beta2.DriverStateFailed, "memory"},
		"class not found":         {podWith(corev1.PodFailed, terminated(driverContainerName, 101, "Error")), v1beta2.DriverStateFailed, "spec.mainClass"},
		"sidecar first, driver 2": {podWith(corev1.PodFailed, terminated("istio-proxy", 0, "Completed"), terminated(driverContainerName, 2, "Error")), v1beta2.DriverStateFailed, "driver container failed with ExitCode: 2, Reason: Error"},
		"evicted": {&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "low on memory",
			Conditions: []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "TerminationByKubelet"}}}},
			v1beta2.DriverStateFailed, "Evicted low on memory: disrupted (TerminationByKubelet)"},
		"unknown": {podWith(corev1.PodUnknown), v1beta2.DriverStateUnknown, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := observeDriver(tc.pod)
			if got.state != tc.want || !strings.Contains(got.message, tc.message) {
				t.Errorf("observeDriver = %s %q, want %s containing %q", got.state, got.message, tc.want, tc.message)
			}
		})
	}
}

func executorPod(name, id string, phase corev1.PodPhase) corev1.Pod {
	p := corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
	p.Name = name
	p.Labels = map[string]string{v1beta2.LabelSparkExecID: id}
	return p
}

// TestUpdateExecutorStatus: the lowest ids are listed up to the bound, all are counted, and vanished
// executors keep a final state.
func TestUpdateExecutorStatus(t *testing.T) {
	st := &v1beta2.SparkApplicationStatus{ExecutorState: map[string]v1beta2.ExecutorState{
		"e-gone-running": v1beta2.ExecutorStateRunning, "e-gone-failed": v1beta2.ExecutorStateFailed,
	}}
	pods := []corev1.Pod{executorPod("e-10", "10", corev1.PodRunning), executorPod("e-2", "2", corev1.PodPending), executorPod("e-1", "1", corev1.PodSucceeded)}
	updateExecutorStatus(st, pods, 4, true)
	want := map[string]v1beta2.ExecutorState{
		"e-1": v1beta2.ExecutorStateCompleted, "e-2": v1beta2.ExecutorStatePending, "e-10": v1beta2.ExecutorStateRunning,
		"e-gone-failed": v1beta2.ExecutorStateFailed,
	}
	if len(st.ExecutorState) != 4 {
		t.Fatalf("executorState has %d entries, want 4: %v", len(st.ExecutorState), st.ExecutorState)
	}
	for k, v := range want {
		if st.ExecutorState[k] != v {
			t.Errorf("%s = %s, want %s (all: %v)", k, st.ExecutorState[k], v, st.ExecutorState)
		}
	}
	if st.ExecutorCounts[v1beta2.ExecutorStateRunning] != 1 || st.ExecutorCounts[v1beta2.ExecutorStatePending] != 1 || st.ExecutorCounts[v1beta2.ExecutorStateCompleted] != 1 {
		t.Errorf("executorCounts = %v", st.ExecutorCounts)
	}
	updateExecutorStatus(st, pods, 2, true)
	if _, ok := st.ExecutorState["e-10"]; ok || len(st.ExecutorState) != 2 {
		t.Errorf("bound 2 kept %v, want e-1 and e-2", st.ExecutorState)
	}
}

func TestConditionReason(t *testing.T) {
	for in, want := range map[string]string{"SUBMISSION_FAILED": "SubmissionFailed", "RUNNING": "Running", "PENDING_RERUN": "PendingRerun"} {
		if got := toConditionReason(in); got != want {
			t.Errorf("toConditionReason(%q) = %q, want %q", in, got, want)
		}
	}
}
