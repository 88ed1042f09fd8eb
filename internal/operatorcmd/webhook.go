package operatorcmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	webhookserver "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/version"
	"github.com/sparkop/spark-operator/internal/webhook"
)

func init() {
	extraCommands = append(extraCommands, newWebhookCommand)
}

// webhookOptions are the flags of `spark-operator webhook start`: Kubeflow v2.5's, with its names
// and defaults.
type webhookOptions struct {
	namespaces          []string
	labelSelector       string
	workers             int
	cacheSyncTimeout    time.Duration
	certDir             string
	certName, keyName   string
	mutatingName        string
	validatingName      string
	port                int
	secretName          string
	secretNamespace     string
	serviceName         string
	serviceNamespace    string
	enableCertManager   bool
	leaderElection      bool
	lockName, lockNS    string
	lease, renew, retry time.Duration
	enableMetrics       bool
	metricsAddr         string
	metricsEndpoint     string
	metricsPrefix       string
	metricsLabels       []string
	healthAddr          string
	qps                 float32
	burst               int
	secureMetrics       bool
	enableHTTP2         bool
	tls                 serverTLS
	// quota is --enable-resource-quota-enforcement (quotaflags.go).
	quota *quotaOptions
	zap   zap.Options
}

// kubeflowMutatingPaths are the paths of Kubeflow's mutating webhooks. Nothing here needs them
// (the CRD schema applies the defaults; native submission creates complete pods), but a
// MutatingWebhookConfiguration left from Kubeflow would, with failurePolicy Fail, block every pod
// and application if they were not answered: they allow everything unchanged.
var kubeflowMutatingPaths = []string{
	"/mutate--v1-pod",
	"/mutate-sparkoperator-k8s-io-v1beta2-sparkapplication",
	"/mutate-sparkoperator-k8s-io-v1beta2-scheduledsparkapplication",
}

func newWebhookCommand() *cobra.Command {
	o := &webhookOptions{}
	parent := &cobra.Command{Use: "webhook", Short: "The validating webhook, as its own process"}
	start := &cobra.Command{
		Use:   "start",
		Short: "Serve the validating webhook and keep its certificate current",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx)
		},
	}
	f := start.Flags()
	f.IntVar(&o.workers, "controller-threads", 10, "concurrent reconciles of the webhook's certificate controller")
	f.Float32Var(&o.qps, "kube-api-qps", 20, "queries per second to the API server (Kubeflow's default)")
	f.IntVar(&o.burst, "kube-api-burst", 30, "burst of queries to the API server (Kubeflow's default)")
	f.StringSliceVar(&o.namespaces, "namespaces", nil, "validate only objects in these namespaces (comma-separated); empty or \"\" validates all")
	f.StringVar(&o.labelSelector, "label-selector-filter", "", "validate only objects whose labels match this selector, e.g. team=data; empty validates all")
	f.DurationVar(&o.cacheSyncTimeout, "cache-sync-timeout", 30*time.Second, "how long the certificate controller waits for its caches at start")
	f.StringVar(&o.certDir, "webhook-cert-dir", "/etc/k8s-webhook-server/serving-certs", "directory of the serving certificate and key (written from the Secret; a read-only mount of it also works)")
	f.StringVar(&o.certName, "webhook-cert-name", "tls.crt", "file name of the serving certificate")
	f.StringVar(&o.keyName, "webhook-key-name", "tls.key", "file name of the serving key")
	f.StringVar(&o.mutatingName, "mutating-webhook-name", "spark-operator-webhook", "MutatingWebhookConfiguration whose caBundle is kept current, if it exists (its paths allow everything unchanged)")
	f.StringVar(&o.validatingName, "validating-webhook-name", "spark-operator-webhook", "ValidatingWebhookConfiguration whose caBundle is kept current")
	f.IntVar(&o.port, "webhook-port", 9443, "port of the webhook server")
	f.StringVar(&o.secretName, "webhook-secret-name", "spark-operator-webhook-certs", "Secret holding the serving certificate (generated here, or by cert-manager)")
	f.StringVar(&o.secretNamespace, "webhook-secret-namespace", "spark-operator", "namespace of --webhook-secret-name")
	f.StringVar(&o.serviceName, "webhook-svc-name", "spark-webhook", "Service in front of the webhook; the certificate is for <name>.<namespace>.svc")
	f.StringVar(&o.serviceNamespace, "webhook-svc-namespace", "spark-webhook", "namespace of --webhook-svc-name")
	f.BoolVar(&o.enableCertManager, "enable-cert-manager", false, "take the certificate from the Secret cert-manager writes (and let cert-manager inject the CA) instead of generating it")
	f.BoolVar(&o.leaderElection, "leader-election", false, "only the elected replica generates, rotates and injects the certificate (every replica serves admission requests)")
	f.StringVar(&o.lockName, "leader-election-lock-name", "spark-operator-lock", "name of the leader election Lease")
	f.StringVar(&o.lockNS, "leader-election-lock-namespace", "spark-operator", "namespace of the leader election Lease")
	f.DurationVar(&o.lease, "leader-election-lease-duration", 15*time.Second, "leader election lease duration")
	f.DurationVar(&o.renew, "leader-election-renew-deadline", 14*time.Second, "leader election renew deadline")
	f.DurationVar(&o.retry, "leader-election-retry-period", 4*time.Second, "leader election retry period")
	f.BoolVar(&o.enableMetrics, "enable-metrics", false, "accepted for Kubeflow's manifests: the webhook exports no spark_* metrics; its controller-runtime metrics are served when --metrics-bind-address is not 0")
	f.StringVar(&o.metricsAddr, "metrics-bind-address", "0", "address of the metrics endpoint (0 disables it)")
	f.StringVar(&o.metricsEndpoint, "metrics-endpoint", "/metrics", "HTTP path of the metrics (served in addition to /metrics when it differs)")
	f.StringVar(&o.metricsPrefix, "metrics-prefix", "", "accepted for Kubeflow's manifests: the webhook exports no spark_* metrics to prefix")
	f.StringSliceVar(&o.metricsLabels, "metrics-labels", nil, "accepted for Kubeflow's manifests: the webhook exports no spark_* metrics to label")
	f.StringVar(&o.healthAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz probes (ready once the webhook server serves)")
	f.BoolVar(&o.secureMetrics, "secure-metrics", false, "serve metrics over HTTPS to authenticated and authorized callers (TokenReview, SubjectAccessReview)")
	f.BoolVar(&o.enableHTTP2, "enable-http2", false, "allow HTTP/2 on the metrics and webhook servers")
	o.tls.addFlags(f, "webhook")
	o.quota = addQuotaFlags(f)
	addGoFlags(f, "webhook", &o.zap)
	parent.AddCommand(start)
	return parent
}

// serves returns the filter of --namespaces and --label-selector-filter (nil when both are empty).
func (o *webhookOptions) serves() (func(metav1.Object) bool, error) {
	selector := labels.Everything()
	if o.labelSelector != "" {
		s, err := labels.Parse(o.labelSelector)
		if err != nil {
			return nil, fmt.Errorf("--label-selector-filter: %w", err)
		}
		selector = s
	}
	all := len(o.namespaces) == 0 || slices.Contains(o.namespaces, "")
	if all && o.labelSelector == "" {
		return nil, nil
	}
	return func(obj metav1.Object) bool {
		return (all || slices.Contains(o.namespaces, obj.GetNamespace())) && selector.Matches(labels.Set(obj.GetLabels()))
	}, nil
}

func (o *webhookOptions) validate() error {
	if o.metricsEndpoint == "" || o.metricsEndpoint[0] != '/' {
		return fmt.Errorf("--metrics-endpoint: %q is not a path starting with /", o.metricsEndpoint)
	}
	if o.port <= 0 || o.port > 65535 {
		return fmt.Errorf("--webhook-port: %d is not a port", o.port)
	}
	return o.tls.validate()
}

// managerOptions are the manager's options for these flags.
func (o *webhookOptions) managerOptions() ctrl.Options {
	opts := ctrl.Options{
		Scheme:                        newScheme(),
		Metrics:                       MetricsServerOptions(o.metricsAddr, o.metricsEndpoint, o.secureMetrics, o.enableHTTP2, o.tls.options()...),
		HealthProbeBindAddress:        o.healthAddr,
		LeaderElection:                o.leaderElection,
		LeaderElectionID:              o.lockName,
		LeaderElectionNamespace:       o.lockNS,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &o.lease,
		RenewDeadline:                 &o.renew,
		RetryPeriod:                   &o.retry,
		WebhookServer: webhookserver.NewServer(webhookserver.Options{
			Port: o.port, CertDir: o.certDir, CertName: o.certName, KeyName: o.keyName, TLSOpts: tlsOptions(o.enableHTTP2, o.tls.options()...),
		}),
	}
	opts.Controller.MaxConcurrentReconciles = o.workers
	opts.Controller.CacheSyncTimeout = o.cacheSyncTimeout
	return opts
}

func (o *webhookOptions) run(ctx context.Context) error {
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	log := ctrl.Log.WithName("setup")
	if err := o.validate(); err != nil {
		return err
	}
	serves, err := o.serves()
	if err != nil {
		return err
	}
	if o.enableMetrics || o.metricsPrefix != "" || len(o.metricsLabels) > 0 {
		log.Info("--enable-metrics, --metrics-prefix and --metrics-labels have no effect on the webhook: it exports no spark_* metrics (the controller does)")
	}
	cfg, err := restConfig("spark-operator-webhook")
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.qps, o.burst
	mgr, err := ctrl.NewManager(cfg, o.managerOptions())
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	ready, err := o.setupCertificates(ctx, mgr)
	if err != nil {
		return err
	}
	// The webhook server starts (and needs the certificate files) once it is first asked for: only
	// after the files exist. Until then the probes fail.
	var serving atomic.Bool
	check := func(req *http.Request) error {
		if !serving.Load() {
			return errors.New("waiting for the serving certificate")
		}
		return mgr.GetWebhookServer().StartedChecker()(req)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", check); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		select {
		case <-ready:
		case <-ctx.Done():
			return
		}
		validator := &webhook.SparkApplicationValidator{Submission: submission.Options{}, Serves: serves}
		for _, opt := range o.quota.webhookOptions() {
			opt(mgr, validator)
		}
		if err := webhook.RegisterValidator(mgr, validator); err != nil {
			errc <- fmt.Errorf("registering the webhooks: %w", err)
			return
		}
		for _, path := range kubeflowMutatingPaths {
			mgr.GetWebhookServer().Register(path, &admission.Webhook{Handler: admission.HandlerFunc(allowUnchanged)})
		}
		serving.Store(true)
		log.Info("Serving the webhook", "port", o.port)
	}()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case err := <-errc:
			log.Error(err, "Stopping")
			cancel()
		case <-runCtx.Done():
		}
	}()
	log.Info("Starting the Spark operator webhook", "version", version.Get(), "certManager", o.enableCertManager)
	if err := mgr.Start(runCtx); err != nil {
		return err
	}
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// allowUnchanged answers Kubeflow's mutating paths (kubeflowMutatingPaths).
func allowUnchanged(context.Context, admission.Request) admission.Response {
	return admission.Allowed("nothing to default: the CRD schema applies the defaults and the pods are created complete")
}

// setupCertificates keeps the serving certificate in --webhook-secret-name and copies it into
// --webhook-cert-dir; it returns a channel closed once the files exist. Without cert-manager the
// certificate is generated and rotated here, and its CA injected into the webhook configurations.
func (o *webhookOptions) setupCertificates(ctx context.Context, mgr manager.Manager) (<-chan struct{}, error) {
	secret := types.NamespacedName{Namespace: o.secretNamespace, Name: o.secretName}
	files := webhook.CertFiles{Secret: secret, SecretCertKey: "tls.crt", SecretKeyKey: "tls.key", Dir: o.certDir, CertName: o.certName, KeyName: o.keyName}
	if !o.enableCertManager {
		files.SecretCertKey, files.SecretKeyKey = o.certName, o.keyName
		err := webhook.AddCertRotator(mgr, webhook.CertOptions{
			CertDir: o.certDir, CertName: o.certName, KeyName: o.keyName, Secret: secret,
			ServiceName: o.serviceName, ServiceNamespace: o.serviceNamespace,
			ConfigurationName: o.validatingName, MutatingConfigurationName: o.mutatingName,
			LeaderOnly: o.leaderElection,
		}, make(chan struct{}))
		if err != nil {
			return nil, fmt.Errorf("setting up the webhook certificate: %w", err)
		}
	}
	// Every replica, leader or not, serves once the files (copied from the Secret, or mounted) exist.
	ready := make(chan struct{})
	go func() {
		if err := webhook.WaitForFiles(ctx, o.certDir, o.certName, o.keyName); err == nil {
			close(ready)
		}
	}()
	return ready, files.Add(mgr)
}
