// Package sparkconnect_test runs the SparkConnect controller against a real kube-apiserver, etcd and
// kube-controller-manager (garbage collector), playing the kubelet by writing pod status.
package sparkconnect_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkconnect"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme, v1alpha1.AddToScheme), framework.WithControllerManager())
}

// startOperator runs the SparkConnect controller for namespace ns until the test ends.
func startOperator(t *testing.T, ns string) {
	t.Helper()
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{SparkConnect: &sparkconnect.Options{ImagePullTimeout: 2 * time.Second}})
}

// countObjects counts the Services and ConfigMaps in ns labelled with SparkConnect name.
func countObjects(t *testing.T, ns, name string) (services, configMaps int) {
	t.Helper()
	sel := client.MatchingLabels{v1alpha1.LabelSparkConnectName: name}
	svcs, cms := &corev1.ServiceList{}, &corev1.ConfigMapList{}
	if err := env.Client.List(context.Background(), svcs, client.InNamespace(ns), sel); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.List(context.Background(), cms, client.InNamespace(ns), sel); err != nil {
		t.Fatal(err)
	}
	return len(svcs.Items), len(cms.Items)
}

// TestLifecycle: a SparkConnect gets its server pod, headless and client Services and its ConfigMap;
// it is Ready once the server container is, counts its executors, starts a new server when a ready
// one dies, and deleting it removes everything (garbage collector).
func TestLifecycle(t *testing.T) {
	ns := env.ParallelNamespace(t)
	startOperator(t, ns)
	util.Create(t, env.Client, wrappers.MakeSparkConnect("sc", ns).Obj())

	util.WaitForConnectState(t, env.Client, ns, "sc", v1alpha1.SparkConnectStateProvisioning)
	server := util.WaitForPod(t, env.Client, ns, "sc-server")
	if server.Labels[v1beta2.LabelSparkRole] != v1alpha1.SparkRoleConnectServer || server.Labels[v1alpha1.LabelSparkConnectName] != "sc" {
		t.Errorf("server labels %v", server.Labels)
	}
	util.WaitFor(t, "the Services and ConfigMaps", func() (bool, string) {
		svcs, cms := countObjects(t, ns, "sc")
		return svcs == 2 && cms == 1, fmt.Sprint(svcs, cms)
	})

	util.RunDriver(t, env.Client, ns, "sc-server")
	conn := util.WaitForConnectState(t, env.Client, ns, "sc", v1alpha1.SparkConnectStateReady)
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("conditions %+v", conn.Status.Conditions)
	}
	if conn.Status.Server.PodIP != util.PodIP || conn.Status.Server.ServiceName != "sc-server" {
		t.Errorf("status.server %+v", conn.Status.Server)
	}

	// An executor as the server's Spark creates it: labelled from spark.properties, owned by the server pod.
	server = util.GetPod(t, env.Client, ns, "sc-server")
	exec := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sc-exec-1", Namespace: ns,
		Labels:          map[string]string{v1alpha1.LabelSparkConnectName: "sc", v1beta2.LabelSparkRole: v1beta2.SparkRoleExecutor, v1beta2.LabelLaunchedBySparkOperator: "true"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: server.Name, UID: server.UID}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-executor", Image: "spark:4.0.1"}}}}
	util.Create(t, env.Client, exec)
	util.RunDriver(t, env.Client, ns, "sc-exec-1")
	util.WaitFor(t, "one running executor in the status", func() (bool, string) {
		c := util.GetConnect(t, env.Client, ns, "sc")
		return c.Status.Executors["running"] == 1, fmt.Sprint(c.Status.Executors)
	})

	// The ready server dies: a new one is started.
	util.FinishDriver(t, env.Client, ns, "sc-server", 137)
	util.WaitFor(t, "a new server pod", func() (bool, string) {
		pod := &corev1.Pod{}
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "sc-server"}, pod)
		return err == nil && pod.UID != server.UID, fmt.Sprint(err)
	})
	util.WaitForKindEvents(t, env.Client, ns, "SparkConnect", "sc", sparkconnect.ReasonServerCreated, sparkconnect.ReasonServerReady, sparkconnect.ReasonServerRestarted)
	util.WaitForPodGone(t, env.Client, ns, "sc-exec-1") // the old server's executor went with it

	// Deleting the SparkConnect removes all of it.
	if err := env.Client.Delete(context.Background(), util.GetConnect(t, env.Client, ns, "sc")); err != nil {
		t.Fatal(err)
	}
	util.WaitForPodGone(t, env.Client, ns, "sc-server")
	util.WaitFor(t, "no Service or ConfigMap left", func() (bool, string) {
		svcs, cms := countObjects(t, ns, "sc")
		return svcs == 0 && cms == 0, fmt.Sprint(svcs, cms)
	})
}

// TestServerCannotStart: a server whose container exits before it is ready, and one whose image does
// not pull, end Failed with the reason in the condition and an Event.
func TestServerCannotStart(t *testing.T) {
	ns := env.ParallelNamespace(t)
	startOperator(t, ns)
	util.Create(t, env.Client, wrappers.MakeSparkConnect("exits", ns).Obj())
	util.Create(t, env.Client, wrappers.MakeSparkConnect("nopull", ns).Obj())

	util.WaitForPod(t, env.Client, ns, "exits-server")
	util.FinishDriver(t, env.Client, ns, "exits-server", 1)
	conn := util.WaitForConnectState(t, env.Client, ns, "exits", v1alpha1.SparkConnectStateFailed)
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); c == nil || !strings.Contains(c.Message, "ExitCode: 1") {
		t.Errorf("condition %+v", c)
	}

	util.WaitForPod(t, env.Client, ns, "nopull-server")
	util.SetPodStatus(t, env.Client, ns, "nopull-server", corev1.PodPending, util.ContainerState{Waiting: "ErrImagePull", Message: "manifest unknown"})
	conn = util.WaitForConnectState(t, env.Client, ns, "nopull", v1alpha1.SparkConnectStateFailed)
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); c == nil || !strings.Contains(c.Message, "ErrImagePull: manifest unknown") {
		t.Errorf("condition %+v", c)
	}
	util.WaitForPodGone(t, env.Client, ns, "nopull-server")
	for _, name := range []string{"exits", "nopull"} {
		util.WaitForKindEvents(t, env.Client, ns, "SparkConnect", name, sparkconnect.ReasonServerCreated, sparkconnect.ReasonFailed)
	}
}
