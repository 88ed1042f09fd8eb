package sparkapplication

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// FuzzReconcile decodes an application and its driver pod from arbitrary JSON (any status, container
// statuses and exit codes, termination reasons, pod conditions such as DisruptionTarget, executor
// labels) and runs three reconciles of it: none may panic, whatever the input. The API server's
// schema would refuse much of this input; the operator must not rely on that (a CRD without the
// schema, an older CRD version, a pod written by any kubelet).
//
//	go test ./internal/controller/sparkapplication -run '^$' -fuzz FuzzReconcile -fuzztime 60s
func FuzzReconcile(f *testing.F) {
	examples, _ := filepath.Glob("../../../examples/*.yaml")
	pods := [][]byte{
		nil,
		[]byte(`{"status":{"phase":"Running","containerStatuses":[{"name":"spark-kubernetes-driver","state":{"running":{}}}]}}`),
		[]byte(`{"status":{"phase":"Failed","reason":"Evicted","conditions":[{"type":"DisruptionTarget","status":"True","reason":"TerminationByKubelet"}],"containerStatuses":[{"name":"spark-kubernetes-driver","state":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}}`),
		[]byte(`{"status":{"phase":"Pending","containerStatuses":[{"name":"spark-kubernetes-driver","state":{"waiting":{"reason":"ErrImagePull"}}}]}}`),
		[]byte(`{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z","finalizers":["x"]},"status":{"phase":"Succeeded","containerStatuses":[{"name":"spark-kubernetes-driver","state":{"terminated":{"exitCode":0}}}]}}`),
	}
	// Each example in each state, with one of the pods in turn (every pod meets every state): 91
	// seeds, which `go test` runs in a few seconds.
	for i, path := range examples {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		app, err := yaml.YAMLToJSON(data)
		if err != nil {
			continue
		}
		for j, state := range []string{"", "SUBMITTED", "RUNNING", "FAILING", "PENDING_RERUN", "SUSPENDING", "INVALIDATING"} {
			var m map[string]any
			if json.Unmarshal(app, &m) != nil {
				continue
			}
			m["status"] = map[string]any{"applicationState": map[string]any{"state": state}, "submissionAttempts": 1, "executionAttempts": 1,
				"driverInfo": map[string]any{"podName": "fuzz-driver"}, "lastSubmissionAttemptTime": "2026-01-01T00:00:00Z"}
			seed, _ := json.Marshal(m)
			f.Add(seed, pods[(i+j)%len(pods)])
		}
	}
	now := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, appJSON, podJSON []byte) {
		app := &v1beta2.SparkApplication{}
		if json.Unmarshal(appJSON, app) != nil {
			return
		}
		// What the API server always sets; the rest is as decoded.
		app.TypeMeta = metav1.TypeMeta{}
		app.ObjectMeta = metav1.ObjectMeta{Name: "fuzz", Namespace: "default", UID: "app-uid", Generation: 1,
			Labels: app.Labels, Annotations: app.Annotations, DeletionTimestamp: app.DeletionTimestamp, Finalizers: app.Finalizers}
		if app.DeletionTimestamp != nil && len(app.Finalizers) == 0 {
			app.Finalizers = []string{"fuzz"} // the fake client refuses a deleting object without finalizers
		}
		objs := []client.Object{app}
		if podJSON != nil {
			pod := &corev1.Pod{}
			if json.Unmarshal(podJSON, pod) != nil {
				return
			}
			labels := pod.Labels
			if labels == nil {
				labels = map[string]string{}
			}
			labels[v1beta2.LabelAppName] = "fuzz"
			pod.TypeMeta = metav1.TypeMeta{}
			pod.ObjectMeta = metav1.ObjectMeta{Name: "fuzz-driver", Namespace: "default", UID: "pod-uid", Labels: labels,
				Annotations: pod.Annotations, DeletionTimestamp: pod.DeletionTimestamp, Finalizers: pod.Finalizers,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1beta2.GroupVersion.String(), Kind: "SparkApplication", Name: "fuzz", UID: "app-uid"}}}
			if pod.DeletionTimestamp != nil && len(pod.Finalizers) == 0 {
				pod.Finalizers = []string{"fuzz"}
			}
			objs = append(objs, pod)
		}
		r := fuzzReconciler(now, objs...)
		req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: "fuzz"}}
		for range 3 {
			_, _ = r.Reconcile(context.Background(), req)
		}
	})
}

// fuzzReconciler is the reconciler of the fuzz tests, with UI Services on, at the fixed time now,
// over a fake client holding objs (util.NewFakeClient).
func fuzzReconciler(now time.Time, objs ...client.Object) *Reconciler {
	clk := clocktesting.NewFakeClock(now)
	return NewReconciler(util.NewFakeClient(clk, interceptor.Funcs{}, objs...), &events.FakeRecorder{}, clk, Options{EnableUIService: true})
}
