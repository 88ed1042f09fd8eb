package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestStatusNamesLiveUIObjects: with a name long enough to be shortened, the UI Service and Ingresses
// get Kubeflow's names, status.driverInfo names them while they exist, and once the attempt ends
// (here a failure waiting for its retry, and a completion) they are deleted and no longer named.
func TestStatusNamesLiveUIObjects(t *testing.T) {
	ns := parallelWithOperator(t, func(o *testOptions) { o.IngressURLFormat = "{{ $appName }}.spark.example.com/{{$appId}}" })
	const name = "spark-pi-long-name-0123456789-abcdefghij-0123456789-abcdefgh"
	util.Create(t, env.Client, wrappers.MakeSparkApplication(name, ns).RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(1, 3600).
		DriverIngress(8080, "metrics", "{{$appName}}-metrics.example.com").Obj())
	app := util.WaitForState(t, env.Client, ns, name, v1beta2.ApplicationStateSubmitted)
	svcName, ingName := sparkapplication.UIServiceName(app), sparkapplication.UIIngressName(app)
	if len(svcName) != 63 || len(ingName) != 63 {
		t.Errorf("UI names %q, %q: want Kubeflow's 63-character shortened names", svcName, ingName)
	}
	util.RunDriver(t, env.Client, ns, name+"-driver")
	framework.WaitFor(t, 30*time.Second, "the UI objects in driverInfo", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, name)
		return app.Status.DriverInfo.WebUIIngressName != "" && app.Status.DriverInfo.WebUIServiceName != "", fmt.Sprint(app.Status.DriverInfo)
	})
	info := app.Status.DriverInfo
	if info.WebUIServiceName != svcName || info.WebUIIngressName != ingName ||
		info.WebUIIngressAddress != "http://"+name+".spark.example.com/"+app.Status.SparkApplicationID {
		t.Errorf("driverInfo = %+v, want Service %s, Ingress %s", info, svcName, ingName)
	}
	mustExist := func(obj client.Object, n string) {
		t.Helper()
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: n}, obj); err != nil {
			t.Errorf("%T %s: %v", obj, n, err)
		}
	}
	mustExist(&corev1.Service{}, svcName)
	mustExist(&networkingv1.Ingress{}, ingName)
	mustExist(&corev1.Service{}, sparkapplication.DriverIngressServiceName(app, 8080))
	mustExist(&networkingv1.Ingress{}, sparkapplication.DriverIngressName(app, 8080))

	noUI := func(what string) {
		t.Helper()
		framework.WaitFor(t, 30*time.Second, what, func() (bool, string) {
			app = util.GetApp(t, env.Client, ns, name)
			svcs := util.Count(env.Client, &corev1.ServiceList{}, client.InNamespace(ns), client.MatchingLabels{sparkapplication.LabelComponent: "ui"})
			ings := util.Count(env.Client, &networkingv1.IngressList{}, client.InNamespace(ns))
			di := app.Status.DriverInfo
			clear := di.WebUIServiceName == "" && di.WebUIAddress == "" && di.WebUIPort == 0 && di.WebUIIngressName == "" && di.WebUIIngressAddress == ""
			return clear && svcs == 0 && ings == 0, fmt.Sprint(app.Status.AppState.State, " ", di, " services ", svcs, " ingresses ", ings)
		})
	}
	// The driver fails; the retry waits an hour: the attempt is over, its UI objects are gone.
	util.FinishDriver(t, env.Client, ns, name+"-driver", 1)
	util.WaitForState(t, env.Client, ns, name, v1beta2.ApplicationStateFailing)
	noUI("the failed attempt's UI objects to be deleted and unnamed")
	if app.Status.AppState.State != v1beta2.ApplicationStateFailing || app.Status.DriverInfo.PodName != name+"-driver" {
		t.Errorf("status after the failure: %+v", app.Status)
	}

	// Fix the spec (no more retries) so it is submitted again at once; run and complete: the same for
	// a completed application.
	util.UpdateApp(t, env.Client, ns, name, func(a *v1beta2.SparkApplication) {
		a.Spec.RestartPolicy = v1beta2.RestartPolicy{Type: v1beta2.RestartPolicyNever}
	})
	framework.WaitFor(t, 30*time.Second, "the second attempt", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, name)
		return app.Status.AppState.State == v1beta2.ApplicationStateSubmitted && app.Status.SubmissionAttempts == 1, fmt.Sprint(app.Status.AppState)
	})
	if pod := util.WaitForPod(t, env.Client, ns, name+"-driver"); pod.Labels[v1beta2.LabelSubmissionID] != app.Status.SubmissionID {
		t.Fatalf("driver pod of submission %s, want %s", pod.Labels[v1beta2.LabelSubmissionID], app.Status.SubmissionID)
	}
	util.RunDriver(t, env.Client, ns, name+"-driver")
	framework.WaitFor(t, 30*time.Second, "the UI Service in driverInfo", func() (bool, string) {
		app = util.GetApp(t, env.Client, ns, name)
		return app.Status.DriverInfo.WebUIServiceName == svcName, fmt.Sprint(app.Status.DriverInfo)
	})
	util.FinishDriver(t, env.Client, ns, name+"-driver", 0)
	util.WaitForState(t, env.Client, ns, name, v1beta2.ApplicationStateCompleted)
	noUI("the completed attempt's UI objects to be deleted and unnamed")
}

// TestNoEmptyStateWhileEarlierDriverTerminates: a new application whose driver pod name is taken by
// an earlier driver that is still terminating waits for it without ever writing its status with
// state "" (which Airflow's SparkKubernetesOperator reads as "started"), then is submitted.
func TestNoEmptyStateWhileEarlierDriverTerminates(t *testing.T) {
	ns := env.ParallelNamespace(t)
	const hold = "example.com/hold"
	old := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "late-driver", Namespace: ns, Finalizers: []string{hold},
			Labels: map[string]string{v1beta2.LabelAppName: "late", v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver, v1beta2.LabelSubmissionID: "an-earlier-one"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark:3.5.3"}}},
	}
	util.Create(t, env.Client, old)
	if err := env.Client.Delete(context.Background(), old); err != nil {
		t.Fatal(err)
	}

	// Record every version of the application the API server stores.
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(context.Background(), &v1beta2.SparkApplicationList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var written []v1beta2.SparkApplicationStatus
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if app, ok := ev.Object.(*v1beta2.SparkApplication); ok && ev.Type != watch.Deleted {
				mu.Lock()
				written = append(written, app.Status)
				mu.Unlock()
			}
		}
	}()
	defer func() { w.Stop(); <-done }()

	startOperator(t, ns, defaultOptions())
	util.Create(t, env.Client, wrappers.MakeSparkApplication("late", ns).Obj())
	// The operator finds the name taken and waits; give it several reconciles.
	framework.WaitFor(t, 30*time.Second, "the operator to try to delete the earlier driver", func() (bool, string) {
		pod := util.GetPod(t, env.Client, ns, "late-driver")
		return pod.DeletionTimestamp != nil && pod.Labels[v1beta2.LabelSubmissionID] == "an-earlier-one", fmt.Sprint(pod.DeletionTimestamp)
	})
	time.Sleep(3 * time.Second)
	if app := util.GetApp(t, env.Client, ns, "late"); !reflect.DeepEqual(app.Status, v1beta2.SparkApplicationStatus{}) {
		t.Errorf("status written while waiting for the earlier driver: %+v", app.Status)
	}
	// The earlier driver goes; the application is submitted.
	patch := []byte(`{"metadata":{"$deleteFromPrimitiveList/finalizers":["` + hold + `"]}}`)
	if err := env.Client.Patch(context.Background(), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "late-driver", Namespace: ns}},
		client.RawPatch(types.StrategicMergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	app := util.WaitForState(t, env.Client, ns, "late", v1beta2.ApplicationStateSubmitted)
	if app.Status.SubmissionAttempts != 1 {
		t.Errorf("status after submission: %+v", app.Status)
	}
	util.WaitForEvents(t, env.Client, ns, "late", sparkapplication.ReasonSubmitted)
	mu.Lock()
	defer mu.Unlock()
	for _, st := range written {
		if st.AppState.State == v1beta2.ApplicationStateNew && !reflect.DeepEqual(st, v1beta2.SparkApplicationStatus{}) {
			t.Errorf("a status with state \"\" was written: %+v", st)
		}
	}
}
