package operatorcmd

import (
	"flag"
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sparkop/spark-operator/internal/version"
)

// What `controller start` and `webhook start` set up alike.

// addGoFlags adds to f the logging flags of zapOpts (--zap-log-level, ...) and controller-runtime's
// --kubeconfig, which are Go flags, under a Go flag set named name.
func addGoFlags(f *pflag.FlagSet, name string, zapOpts *zap.Options) {
	goflags := flag.NewFlagSet(name, flag.ContinueOnError)
	zapOpts.BindFlags(goflags)
	if kubeconfig := flag.CommandLine.Lookup("kubeconfig"); kubeconfig != nil {
		goflags.Var(kubeconfig.Value, "kubeconfig", kubeconfig.Usage)
	}
	f.AddGoFlagSet(goflags)
}

// restConfig loads the kubeconfig (--kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config) and sets
// the user agent "<agent>/<version>".
func restConfig(agent string) (*rest.Config, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	cfg.UserAgent = agent + "/" + version.Get()
	return cfg, nil
}
