// Package chart_test checks the Helm chart (charts/spark-operator) and the plain manifests
// (config/): rendered with Helm's Go SDK for the default values and variants, checked value by
// value, applied with server-side dry run to a real kube-apiserver, and the RBAC they grant
// exercised for real: the operator runs a SparkApplication to COMPLETED with a token of its own
// service account, and the Spark driver's service account can do what a driver does and no more.
//
// Run with: KUBEBUILDER_ASSETS=$PWD/bin go test ./test/integration/chart/...
package chart_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr/funcr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// env is the control plane shared by the tests of the package (kube-apiserver with the RBAC
// authorizer, as envtest configures it, and etcd).
var env *framework.Env

func TestMain(m *testing.M) {
	verbosity := 0
	if os.Getenv("TEST_VERBOSE") != "" {
		verbosity = 4
	}
	logger := funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: verbosity})
	ctrl.SetLogger(logger)
	os.Exit(framework.RunMain(m, &env, framework.WithScheme(v1beta2.AddToScheme, apiextensionsv1.AddToScheme),
		// The batch schedulers' PodGroups, which the operator's ClusterRole names.
		framework.WithCRDPaths("test/integration/batchscheduler/testdata/crds"), framework.WithLogger(logger)))
}
