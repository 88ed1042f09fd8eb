// Package sparkctl is the sparkctl command line: a kubectl-style client for SparkApplications and
// ScheduledSparkApplications (sparkoperator.k8s.io/v1beta2). It covers what Kubeflow's sparkctl did
// (create with upload of local files, list, status, event, log, delete, forward) and adds render,
// lint, suspend, resume, rerun and trigger.
//
// Every command is an options struct with Complete (read flags, arguments and the kubeconfig), Validate
// (refuse bad input with a clear message) and Run (do it), so commands can be tested and reused. The
// kubeconfig, context and namespace flags are cli-runtime's, as in kubectl; the binary also works as
// the kubectl plugin `kubectl sparkapp` when installed as kubectl-sparkapp.
package sparkctl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/connect"
	"github.com/sparkop/spark-operator/internal/sparkctl/lint"
	"github.com/sparkop/spark-operator/internal/version"
)

// PluginName is the name under which kubectl finds sparkctl as a plugin: an executable called
// kubectl-sparkapp on the PATH makes `kubectl sparkapp ...` run it.
const PluginName = "kubectl-sparkapp"

// Factory builds what commands need to talk to the cluster, lazily and once, from the kubeconfig
// flags (cli-runtime's ConfigFlags: --kubeconfig, --context, --namespace, --server, ...). Commands that
// work offline (render, lint) never touch it, so they need no kubeconfig.
type Factory struct {
	// ConfigFlags are the kubeconfig flags shared by every command.
	ConfigFlags *genericclioptions.ConfigFlags
	// Scheme knows client-go's types and sparkoperator.k8s.io/v1beta2.
	Scheme *runtime.Scheme

	mu        sync.Mutex
	config    *rest.Config
	client    client.WithWatch
	clientset kubernetes.Interface
}

// NewFactory returns a Factory reading the given kubeconfig flags.
func NewFactory(flags *genericclioptions.ConfigFlags) *Factory {
	return &Factory{ConfigFlags: flags, Scheme: NewScheme()}
}

// NewScheme returns a scheme with client-go's built-in types and the v1beta2 API.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1beta2.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	return s
}

// RESTConfig returns the REST configuration of the selected kubeconfig context.
func (f *Factory) RESTConfig() (*rest.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.config == nil {
		cfg, err := f.ConfigFlags.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("reading the kubeconfig: %w", err)
		}
		cfg.UserAgent = "sparkctl/" + version.Get()
		f.config = cfg
	}
	return f.config, nil
}

// Client returns a controller-runtime client (with watch support) for the cluster.
func (f *Factory) Client() (client.WithWatch, error) {
	return connectOnce(f, &f.client, func(cfg *rest.Config) (client.WithWatch, error) {
		return client.NewWithWatch(cfg, client.Options{Scheme: f.Scheme})
	})
}

// Clientset returns a client-go clientset, for pod logs and port forwarding.
func (f *Factory) Clientset() (kubernetes.Interface, error) {
	return connectOnce(f, &f.clientset, func(cfg *rest.Config) (kubernetes.Interface, error) {
		return kubernetes.NewForConfig(cfg)
	})
}

// connectOnce returns *cached, made by connect from the REST configuration on the first call.
func connectOnce[T comparable](f *Factory, cached *T, connect func(*rest.Config) (T, error)) (T, error) {
	var none T
	cfg, err := f.RESTConfig()
	if err != nil {
		return none, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if *cached == none {
		c, err := connect(cfg)
		if err != nil {
			return none, fmt.Errorf("connecting to the cluster: %w", err)
		}
		*cached = c
	}
	return *cached, nil
}

// Namespace returns the namespace to work in: --namespace, else the kubeconfig context's, else
// "default". explicit says whether --namespace was given.
func (f *Factory) Namespace() (ns string, explicit bool, err error) {
	ns, explicit, err = f.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", false, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	return ns, explicit, nil
}

// NewRootCommand returns the sparkctl command with every subcommand. name is the program name
// (os.Args[0]); when it is kubectl-sparkapp the help shows `kubectl sparkapp`.
func NewRootCommand(name string, streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	f := NewFactory(flags)
	display := "sparkctl"
	if strings.HasPrefix(filepath.Base(name), PluginName) {
		display = "kubectl sparkapp"
	}
	root := &cobra.Command{
		Use:   "sparkctl",
		Short: "Create, follow and manage Spark applications on Kubernetes",
		Long: `sparkctl manages SparkApplications and ScheduledSparkApplications
(sparkoperator.k8s.io/v1beta2) run by the Spark operator: create them (uploading local files to
S3), list them, follow their state, events and logs, open the Spark UI, suspend, resume, rerun and
delete them; and, offline, lint a manifest or render what the operator would create for it.

It reads the kubeconfig as kubectl does (--kubeconfig, --context, --namespace). Installed as
kubectl-sparkapp on the PATH, it also runs as "kubectl sparkapp".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: display},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	registerConfigFlagCompletions(root, f)

	root.AddGroup(
		&cobra.Group{ID: "run", Title: "Running applications:"},
		&cobra.Group{ID: "follow", Title: "Following applications:"},
		&cobra.Group{ID: "offline", Title: "Offline (no cluster needed):"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("run",
		NewCreateCommand(f, streams),
		NewDeleteCommand(f, streams),
		NewSuspendCommand(f, streams),
		NewResumeCommand(f, streams),
		NewRerunCommand(f, streams),
		NewTriggerCommand(f, streams),
	)
	add("follow",
		NewListCommand(f, streams),
		NewStatusCommand(f, streams),
		NewEventCommand(f, streams),
		NewLogCommand(f, streams),
		NewForwardCommand(f, streams),
	)
	add("offline",
		NewRenderCommand(streams),
		lint.NewCommand(streams),
	)
	root.AddCommand(newVersionCommand(streams))
	root.AddCommand(connect.NewCommand(f, streams))
	return root
}

// Execute runs the root command with ctx and returns the exit code: 0 on success, 1 on any error,
// which is printed to the error stream first.
func Execute(ctx context.Context, cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error: "+describeError(err))
		var exit *cmdutil.ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		return 1
	}
	return 0
}

// describeError makes API errors read well: the server's message, without the Go error chain noise.
func describeError(err error) string {
	var status apierrors.APIStatus
	switch {
	case meta.IsNoMatchError(err) || (errors.As(err, &status) && status.Status().Code == http.StatusNotFound && strings.Contains(err.Error(), "the server could not find the requested resource")):
		return err.Error() + " (are the Spark operator's CRDs installed? kubectl apply -f config/crd/bases/)"
	case errors.As(err, &status) && status.Status().Code == http.StatusUnauthorized:
		return err.Error() + " (check your kubeconfig credentials)"
	case errors.As(err, &status) && status.Status().Code == http.StatusForbidden:
		return err.Error() + " (your kubeconfig user lacks the permission; see docs/sparkctl.md for the RBAC sparkctl needs)"
	case strings.Contains(err.Error(), "connection refused") && strings.Contains(err.Error(), "server groups"):
		return err.Error() + " (is the cluster reachable? check --kubeconfig and --context)"
	}
	return err.Error()
}
