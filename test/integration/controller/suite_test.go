// Package controller_test runs the SparkApplication controller against a real kube-apiserver, etcd and
// kube-controller-manager (garbage collector), playing the kubelet by writing pod status.
package controller_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	volcanov1beta1 "volcano.sh/apis/pkg/apis/scheduling/v1beta1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var env *framework.Env

func TestMain(m *testing.M) {
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme, volcanov1beta1.AddToScheme), framework.WithControllerManager())
}

// operator is one instance of the controller, watching one namespace, for one test.
type operator struct {
	stop func() // stops the manager and waits for it; idempotent
}

// testOptions are the controller options plus what the command line would build from flags.
type testOptions struct {
	sparkapplication.Options
	// NamespaceSelector is --namespace-selector.
	NamespaceSelector string
}

// defaultOptions are the controller options of the tests: short timeouts so they run quickly.
func defaultOptions() testOptions {
	return testOptions{Options: sparkapplication.Options{
		DriverPodCreationGracePeriod: 2 * time.Second,
		ImagePullTimeout:             2 * time.Second,
		EnableUIService:              true,
		MaxConcurrentReconciles:      4,
	}}
}

// parallelWithOperator marks t parallel and returns a new namespace with an operator running for it
// until t ends, with defaultOptions changed by each of mods: how most tests of the suite begin.
func parallelWithOperator(t *testing.T, mods ...func(*testOptions)) string {
	t.Helper()
	opts := defaultOptions()
	for _, mod := range mods {
		mod(&opts)
	}
	return env.ParallelNamespace(t, func(t *testing.T, ns string) { startOperator(t, ns, opts) })
}

// startOperator runs the controller for namespace ns until the test ends (or Stop).
func startOperator(t *testing.T, ns string, opts testOptions) *operator {
	t.Helper()
	return startOperatorFor(t, []string{ns}, opts)
}

// startOperatorFor runs the controller with a cache over the given namespaces (nil: all of them).
func startOperatorFor(t *testing.T, cacheNamespaces []string, opts testOptions) *operator {
	t.Helper()
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, cacheNamespaces, nil)
	if opts.NamespaceSelector != "" {
		var err error
		if opts.Namespaces, err = namespaces.New(mgr.GetClient(), nil, opts.NamespaceSelector); err != nil {
			t.Fatal(err)
		}
	}
	return &operator{stop: operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &opts.Options})}
}

// Stop stops the operator and waits for it.
func (o *operator) Stop() { o.stop() }

// exhaustedQuota creates a ResourceQuota allowing none of resource in ns, with its status filled in
// as the quota controller would (admission needs it).
func exhaustedQuota(t *testing.T, ns, name string, resource corev1.ResourceName) {
	t.Helper()
	none := corev1.ResourceList{resource: apiresource.MustParse("0")}
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ResourceQuotaSpec{Hard: none}}
	util.Create(t, env.Client, quota)
	quota.Status = corev1.ResourceQuotaStatus{Hard: none, Used: none}
	if err := env.Client.Status().Update(context.Background(), quota); err != nil {
		t.Fatal(err)
	}
}

// createOrphanDriver creates the driver pod of submission attempt attempt of app, as a controller
// that crashed (or lost its status write) right after creating it would have left it, and returns
// the submission and the pod.
func createOrphanDriver(t *testing.T, app *v1beta2.SparkApplication, attempt int32) (submission.Submission, *corev1.Pod) {
	t.Helper()
	sub := submission.NewSubmission(app.UID, sparkapplication.Revision(app), attempt, time.Now())
	res, err := submission.Render(app, sub, submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res.DriverPod.Finalizers = []string{sparkapplication.DriverFinalizer}
	util.Create(t, env.Client, res.DriverPod)
	return sub, res.DriverPod
}
