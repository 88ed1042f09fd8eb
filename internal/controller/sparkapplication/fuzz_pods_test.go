package sparkapplication

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// FuzzPodDecode decodes a driver pod, an executor pod and a node from arbitrary JSON (container
// statuses, exit codes, termination reasons and messages, DisruptionTarget and Ready conditions,
// status reasons, deletion timestamps, node conditions) and runs everything the operator derives
// from them: the driver's state and messages, the infrastructure failure classification, the
// executor's state, the stuck-Terminating check against the node, the ready and executor start
// timeouts, and then three reconciles of a RUNNING application with that driver and executor on
// that node. None may panic, whatever a kubelet, a scheduler or a hand-edited object wrote.
//
//	go test ./internal/controller/sparkapplication -run '^$' -fuzz FuzzPodDecode -fuzztime 60s
func FuzzPodDecode(f *testing.F) {
	seeds := []struct{ pod, node string }{
		{`{"status":{"phase":"Failed","conditions":[{"type":"DisruptionTarget","status":"True","reason":"EvictionByEvictionAPI","message":"Eviction API: evicting"}],"containerStatuses":[{"name":"spark-kubernetes-driver","state":{"terminated":{"exitCode":143,"reason":"Error","message":"SIGTERM"}}}]}}`, `{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`},
		{`{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n1"},"status":{"phase":"Running","containerStatuses":[{"name":"spark-kubernetes-driver","state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}`, `{"status":{"conditions":[{"type":"Ready","status":"Unknown","lastTransitionTime":"2026-01-01T00:00:30Z"}]}}`},
		{`{"spec":{"nodeName":"n1"},"status":{"phase":"Failed","reason":"Evicted","message":"The node was low on resource: memory.","containerStatuses":[]}}`, `{}`},
		{`{"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes"},{"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T00:00:00Z"}],"containerStatuses":[{"name":"x","state":{"waiting":{"reason":"ErrImagePull"}}}]}}`, `{"status":{"conditions":[]}}`},
		{`{"status":{"phase":"Unknown","reason":"NodeLost","conditions":[{"type":"DisruptionTarget","status":"True","reason":"DeletionByPodGC"}],"containerStatuses":[{"name":"spark-kubernetes-driver","state":{"terminated":{"exitCode":-1,"reason":"OOMKilled","finishedAt":null}}}]}}`, `{"spec":{"taints":[{"key":"node.kubernetes.io/out-of-service","effect":"NoExecute"}]}}`},
	}
	for _, s := range seeds {
		f.Add([]byte(s.pod), []byte(s.pod), []byte(s.node), "5m", "1s")
	}
	now := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, podJSON, execJSON, nodeJSON []byte, readyTimeout, executorTimeout string) {
		pod, exec, node := &corev1.Pod{}, &corev1.Pod{}, &corev1.Node{}
		if json.Unmarshal(podJSON, pod) != nil || json.Unmarshal(execJSON, exec) != nil || json.Unmarshal(nodeJSON, node) != nil {
			return
		}
		app := &v1beta2.SparkApplication{
			ObjectMeta: metav1.ObjectMeta{Name: "fuzz", Namespace: "default", UID: "app-uid", Generation: 1, Annotations: map[string]string{
				v1beta2.AnnotationDriverReadyTimeout: readyTimeout, v1beta2.AnnotationExecutorStartTimeout: executorTimeout}},
			Spec: v1beta2.SparkApplicationSpec{RestartPolicy: v1beta2.RestartPolicy{Type: v1beta2.RestartPolicyOnFailure}},
			Status: v1beta2.SparkApplicationStatus{AppState: v1beta2.ApplicationState{State: v1beta2.ApplicationStateRunning},
				SubmissionID: "s1", SubmissionAttempts: 1, ExecutionAttempts: 1, DriverInfo: v1beta2.DriverInfo{PodName: "fuzz-driver"}},
		}

		// What the operator derives from the objects as decoded.
		obs := observeDriver(pod)
		_ = podFailureMessage(pod) + pendingReason(pod) + obs.message
		if fail, ok := infrastructureFailure(pod); ok {
			_ = fail.describe()
		}
		for i := range pod.Status.ContainerStatuses {
			if term := pod.Status.ContainerStatuses[i].State.Terminated; term != nil {
				_ = terminationMessage(term)
			}
		}
		_ = executorState(exec)
		_ = nodeReady(node)
		r := &Reconciler{opts: Options{}}
		r.opts.defaults()
		s := &scope{orig: app, app: app.DeepCopy(), now: now, log: klog.Background()}
		_ = setDriverScheduled(s, pod)
		_, _, _ = r.driverNotReady(s, pod)
		_, _, _ = r.executorsNotStarted(s, pod)

		// The same objects in a reconcile: the driver of a RUNNING application, bound to the node.
		node.ObjectMeta = metav1.ObjectMeta{Name: "n1"}
		pod.TypeMeta, exec.TypeMeta, node.TypeMeta = metav1.TypeMeta{}, metav1.TypeMeta{}, metav1.TypeMeta{}
		pod.ObjectMeta = metav1.ObjectMeta{Name: "fuzz-driver", Namespace: "default", UID: "pod-uid", CreationTimestamp: pod.CreationTimestamp,
			DeletionTimestamp: pod.DeletionTimestamp, Finalizers: append(pod.Finalizers, DriverFinalizer),
			Labels: map[string]string{v1beta2.LabelAppName: "fuzz", v1beta2.LabelSubmissionID: "s1", v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver}}
		pod.Spec.NodeName = "n1"
		exec.ObjectMeta = metav1.ObjectMeta{Name: "fuzz-exec-1", Namespace: "default", UID: "exec-uid",
			Labels: map[string]string{v1beta2.LabelAppName: "fuzz", v1beta2.LabelSubmissionID: "s1", v1beta2.LabelSparkRole: v1beta2.SparkRoleExecutor, v1beta2.LabelSparkExecID: "1"}}
		rec := fuzzReconciler(now, app, pod, exec, node)
		req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: "fuzz"}}
		for range 3 {
			_, _ = rec.Reconcile(context.Background(), req)
		}
	})
}
