package util

import (
	"os"
	"testing"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// Main is the body of an integration suite's TestMain: it sets controller-runtime's global logger
// to Logger(), starts one control plane for the package with opts and stores it in *env
// (framework.RunMain), runs the tests, stops the control plane and exits the process with the tests'
// code. A framework.WithLogger among opts replaces Logger().
//
//	var env *framework.Env
//
//	func TestMain(m *testing.M) { util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme)) }
func Main(m *testing.M, env **framework.Env, opts ...framework.Option) {
	ctrllog.SetLogger(Logger())
	os.Exit(framework.RunMain(m, env, opts...))
}
