// Package pdbquota_test runs the SparkApplication controller against a real kube-apiserver, etcd and
// a kube-controller-manager that runs, besides the garbage collector, the disruption controller
// (which computes a PodDisruptionBudget's status, without which the Eviction API refuses every
// eviction) and the resource quota controller (which keeps a ResourceQuota's status.used true): the
// driver PodDisruptionBudget holding an eviction, and executors blocked by a ResourceQuota being
// reported. The tests play the kubelet by writing pod status.
//
// Run: KUBEBUILDER_ASSETS=$PWD/bin go test ./test/integration/pdbquota/
package pdbquota_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme),
		framework.WithControllerManager("garbage-collector-controller", "namespace-controller", "disruption-controller", "resourcequota-controller"))
}

// startOperator runs the SparkApplication controller for namespace ns until the test ends.
func startOperator(t *testing.T, ns string, opts sparkapplication.Options) {
	t.Helper()
	if opts.DriverPodCreationGracePeriod == 0 {
		opts.DriverPodCreationGracePeriod = 2 * time.Second
	}
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &opts})
}

// runDriver plays the kubelet: the driver pod runs and is Ready (the disruption controller counts
// only Ready pods as healthy).
func runDriver(t *testing.T, ns, name string) {
	t.Helper()
	util.RunDriver(t, env.Client, ns, name)
	setReady(t, ns, name, corev1.ConditionTrue)
}

// finishDriver plays the kubelet: the driver is no longer Ready and its Spark container exits with
// code 0.
func finishDriver(t *testing.T, ns, name string) {
	t.Helper()
	setReady(t, ns, name, corev1.ConditionFalse)
	util.FinishDriver(t, env.Client, ns, name, 0)
}

// setReady sets the Ready condition of pod ns/name to status, as the kubelet does from its
// containers' readiness.
func setReady(t *testing.T, ns, name string, status corev1.ConditionStatus) {
	t.Helper()
	util.UpdatePodStatus(t, env.Client, ns, name, func(pod *corev1.Pod) {
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	})
}
