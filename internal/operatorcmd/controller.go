package operatorcmd

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	webhookserver "sigs.k8s.io/controller-runtime/pkg/webhook"
	volcanoscheduling "volcano.sh/apis/pkg/apis/scheduling/v1beta1"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/controller/scheduledsparkapplication"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/eventrecorder"
	"github.com/sparkop/spark-operator/internal/metrics"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/version"
	"github.com/sparkop/spark-operator/internal/webhook"
)

func init() {
	extraCommands = append(extraCommands, newControllerCommand)
}

// controllerOptions are the flags of `spark-operator controller start`, named after Kubeflow's.
type controllerOptions struct {
	namespaces              []string
	namespaceSelector       string
	metricsPrefix           string
	metricsLabels           []string
	submitLatencyBuckets    []float64
	startLatencyBuckets     []float64
	workers                 int
	resync                  time.Duration
	qps                     float32
	burst                   int
	driverPodCreationGrace  time.Duration
	driverStartTimeout      time.Duration
	imagePullTimeout        time.Duration
	maxTrackedExecutors     int
	defaultTTLSeconds       int64
	enableUIService         bool
	enableDriverService     bool
	enableDriverPDB         bool
	enableSparkConnect      bool
	quota                   *quotaOptions
	ingressURLFormat        string
	ingressClassName        string
	ingressTLS              string
	ingressAnnotations      string
	masterURL               string
	sparkUser               string
	leaderElection          bool
	leaderElectionID        string
	leaderElectionNamespace string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	enableWebhook           bool
	webhookPort             int
	webhookCertDir          string
	webhookCertProvider     string
	webhookSecretName       string
	webhookNamespace        string
	webhookServiceName      string
	webhookConfigName       string
	metricsAddr             string
	healthAddr              string
	batch                   *batchSchedulerFlags
	zap                     zap.Options
	// kf are the flags of Kubeflow's `controller start` kept in controllerflags.go.
	kf kubeflowControllerOptions
}

func newControllerCommand() *cobra.Command {
	o := &controllerOptions{}
	parent := &cobra.Command{Use: "controller", Short: "The SparkApplication controller"}
	start := &cobra.Command{
		Use:   "start",
		Short: "Run the controller against the current kubeconfig or the in-cluster configuration",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return logExit(cmd, o.run()) },
	}
	f := start.Flags()
	f.StringSliceVar(&o.namespaces, "namespaces", nil, "namespaces to watch (comma-separated); empty watches all")
	f.StringVar(&o.namespaceSelector, "namespace-selector", "", "also serve namespaces whose labels match this selector, e.g. spark=enabled (the cache then watches all namespaces)")
	f.StringVar(&o.metricsPrefix, "metrics-prefix", "", "prefix of the spark_application_* and spark_executor_* metric names")
	f.StringSliceVar(&o.metricsLabels, "metrics-labels", nil, "SparkApplication labels to add as metric labels (keep their values few)")
	f.Float64SliceVar(&o.submitLatencyBuckets, "metrics-job-submit-latency-buckets", metrics.DefaultSubmitLatencyBuckets, "buckets (seconds) of spark_application_submit_latency_seconds_histogram")
	f.Float64SliceVar(&o.startLatencyBuckets, "metrics-job-start-latency-buckets", metrics.DefaultStartLatencyBuckets, "buckets (seconds) of spark_application_start_latency_seconds_histogram")
	f.IntVar(&o.workers, "controller-threads", 10, "number of concurrent reconciles")
	f.DurationVar(&o.resync, "resync-interval", 10*time.Hour, "how often every cached object is reconciled again")
	f.Float32Var(&o.qps, "kube-api-qps", 50, "queries per second to the API server")
	f.IntVar(&o.burst, "kube-api-burst", 100, "burst of queries to the API server")
	f.DurationVar(&o.driverPodCreationGrace, "driver-pod-creation-grace-period", 10*time.Second, "how long a SUBMITTED application may miss its driver pod before the attempt fails")
	f.DurationVar(&o.driverStartTimeout, "driver-start-timeout", 0, "how long a driver pod may stay Pending (unscheduled or not started) before the attempt fails with the reason; 0 waits without limit, as a queue may rightly hold a driver for hours (per application: annotation sparkoperator.k8s.io/driver-start-timeout)")
	f.DurationVar(&o.imagePullTimeout, "image-pull-timeout", 2*time.Minute, "how long the driver image may fail to pull before the submission fails")
	f.IntVar(&o.maxTrackedExecutors, "max-tracked-executor-per-app", 1000, "maximum executors listed in status.executorState (all are counted in status.executorCounts)")
	f.Int64Var(&o.defaultTTLSeconds, "default-time-to-live-seconds", 0, "delete terminated applications without spec.timeToLiveSeconds after this many seconds (0 keeps them)")
	f.BoolVar(&o.enableUIService, "enable-ui-service", true, "create a Service for each running driver's Spark UI")
	f.BoolVar(&o.enableDriverService, "enable-driver-service", false, "create spark-submit's headless driver Service for every application and point spark.driver.host at it; by default executors reach the driver at its pod IP and only applications that set the Service's labels, annotations or IP families get one (docs/submission.md)")
	o.quota = addQuotaFlags(f)
	f.BoolVar(&o.enableDriverPDB, "enable-driver-pdb", false, "create a PodDisruptionBudget (minAvailable 1) for the driver of each application that sets spec.driverPodDisruptionBudget")
	f.BoolVar(&o.enableSparkConnect, "enable-spark-connect", false, "run the SparkConnect controller (sparkoperator.k8s.io/v1alpha1; needs its CRD)")
	f.StringVar(&o.ingressURLFormat, "ingress-url-format", "", "create a UI Ingress at this URL ({{$appName}} and {{$appNamespace}} are replaced)")
	f.StringVar(&o.ingressClassName, "ingress-class-name", "", "ingressClassName of UI Ingresses")
	f.StringVar(&o.ingressTLS, "ingress-tls", "", "default TLS of UI Ingresses, as JSON ([]IngressTLS)")
	f.StringVar(&o.ingressAnnotations, "ingress-annotations", "", "default annotations of UI Ingresses, as a JSON object")
	f.StringVar(&o.masterURL, "master-url", "", "spark.master for submitted applications (default: k8s://https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT in a cluster)")
	f.StringVar(&o.sparkUser, "spark-user", submission.DefaultSparkUser, "SPARK_USER of drivers without spec.proxyUser")
	f.BoolVar(&o.leaderElection, "leader-election", false, "elect a leader (Lease) so that only one replica reconciles")
	f.StringVar(&o.leaderElectionID, "leader-election-lock-name", "spark-operator-lock", "name of the leader election Lease")
	f.StringVar(&o.leaderElectionNamespace, "leader-election-lock-namespace", "", "namespace of the leader election Lease (default: the operator's own)")
	f.DurationVar(&o.leaseDuration, "leader-election-lease-duration", 15*time.Second, "leader election lease duration")
	f.DurationVar(&o.renewDeadline, "leader-election-renew-deadline", 10*time.Second, "leader election renew deadline")
	f.DurationVar(&o.retryPeriod, "leader-election-retry-period", 2*time.Second, "leader election retry period")
	f.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables it)")
	f.BoolVar(&o.enableWebhook, "enable-webhook", false, "serve the optional validating webhook (rejects at admission what the submitter would refuse)")
	f.IntVar(&o.webhookPort, "webhook-port", 9443, "port of the webhook server")
	f.StringVar(&o.webhookCertDir, "webhook-cert-dir", filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs"), "directory of the webhook's tls.crt and tls.key")
	f.StringVar(&o.webhookCertProvider, "webhook-cert-provider", "self", "who provides the webhook certificate: self (generated and rotated by the operator) or cert-manager (mounted into --webhook-cert-dir)")
	f.StringVar(&o.webhookSecretName, "webhook-secret-name", "spark-operator-webhook-certs", "Secret holding the self-generated webhook certificate")
	f.StringVar(&o.webhookNamespace, "webhook-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the webhook Service and Secret (default: $POD_NAMESPACE)")
	f.StringVar(&o.webhookServiceName, "webhook-service-name", "spark-operator-webhook", "Service in front of the webhook server")
	f.StringVar(&o.webhookConfigName, "webhook-configuration-name", "spark-operator-webhook", "ValidatingWebhookConfiguration whose caBundle the operator keeps current")
	f.StringVar(&o.healthAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz probes")
	o.kf.addFlags(f)
	o.batch = addBatchSchedulerFlags(f)
	addGoFlags(f, "controller", &o.zap)
	parent.AddCommand(start)
	return parent
}

// newScheme returns the scheme of the operator's clients: the built-in types and v1beta2.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1beta2.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	_ = volcanoscheduling.AddToScheme(s)
	return s
}

// controllerSubmitOptions turns the flags into the submitter's options.
func (o *controllerOptions) submissionOptions() submission.Options {
	master := o.masterURL
	if master == "" {
		if host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"); host != "" && port != "" {
			master = "k8s://https://" + net.JoinHostPort(host, port)
		}
	}
	return submission.Options{MasterURL: master, SparkUser: o.sparkUser, DriverService: o.enableDriverService}
}

func (o *controllerOptions) reconcilerOptions() (sparkapplication.Options, error) {
	opts := sparkapplication.Options{
		Submission:                   o.submissionOptions(),
		DriverPodCreationGracePeriod: o.driverPodCreationGrace,
		DriverStartTimeout:           o.driverStartTimeout,
		ImagePullTimeout:             o.imagePullTimeout,
		MaxTrackedExecutors:          o.maxTrackedExecutors,
		DefaultTimeToLive:            time.Duration(o.defaultTTLSeconds) * time.Second,
		EnableUIService:              o.enableUIService,
		EnableDriverPDB:              o.enableDriverPDB,
		IngressURLFormat:             o.ingressURLFormat,
		IngressClassName:             o.ingressClassName,
		MaxConcurrentReconciles:      o.workers,
		RateLimiter:                  o.kf.rateLimiter(),
	}
	registry, err := o.batch.registry()
	if err != nil {
		return opts, err
	}
	opts.BatchSchedulers = registry
	if o.ingressTLS != "" {
		var tls []networkingv1.IngressTLS
		if err := json.Unmarshal([]byte(o.ingressTLS), &tls); err != nil {
			return opts, fmt.Errorf("--ingress-tls: %w", err)
		}
		opts.IngressTLS = tls
	}
	if o.ingressAnnotations != "" {
		if err := json.Unmarshal([]byte(o.ingressAnnotations), &opts.IngressAnnotations); err != nil {
			return opts, fmt.Errorf("--ingress-annotations: %w", err)
		}
	}
	return opts, nil
}

func (o *controllerOptions) run() error {
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	klog.SetLogger(ctrl.Log) // client-go's and leader election's log lines in the same JSON log
	log := ctrl.Log.WithName("setup")
	setMemoryLimit(log)
	if err := o.kf.validate(o.defaultTTLSeconds); err != nil {
		return err
	}
	o.namespaces = allNamespaces(o.namespaces)
	recOpts, err := o.reconcilerOptions()
	if err != nil {
		return err
	}
	if err := o.kf.applyGates(&recOpts, log); err != nil {
		return err
	}
	cfg, err := restConfig("spark-operator")
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.qps, o.burst
	cacheNamespaces := o.namespaces
	if o.namespaceSelector != "" {
		// Namespaces matching the selector can appear at any time: watch all, filter in the controllers.
		cacheNamespaces = nil
	}
	mgrOpts := ctrl.Options{
		Scheme:                        newScheme(),
		Cache:                         CacheOptions(cacheNamespaces, o.resync),
		HealthProbeBindAddress:        o.healthAddr,
		WebhookServer:                 webhookserver.NewServer(webhookserver.Options{Port: o.webhookPort, CertDir: o.webhookCertDir, TLSOpts: tlsOptions(o.kf.enableHTTP2, o.kf.tls.options()...)}),
		LeaderElection:                o.leaderElection,
		LeaderElectionID:              o.leaderElectionID,
		LeaderElectionNamespace:       o.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &o.leaseDuration,
		RenewDeadline:                 &o.renewDeadline,
		RetryPeriod:                   &o.retryPeriod,
	}
	o.kf.apply(&mgrOpts, o.metricsAddr)
	if err := UseStableLeaderIdentity(cfg, &mgrOpts); err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	mgr, err := newManagerUntilSignal(log, cfg, o.healthAddr, mgrOpts)
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	nsFilter, err := namespaces.New(mgr.GetClient(), o.namespaces, o.namespaceSelector)
	if err != nil {
		return fmt.Errorf("--namespace-selector: %w", err)
	}
	recOpts.Namespaces = nsFilter
	if o.kf.enableMetrics {
		recOpts.Metrics = metrics.New(o.metricsPrefix, o.metricsLabels, o.submitLatencyBuckets, o.startLatencyBuckets, mgr.GetClient())
		if err := recOpts.Metrics.Register(ctrlmetrics.Registry); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	// Not mgr.GetEventRecorder: see package eventrecorder for why (memory at scale).
	recorder, err := eventrecorder.ForManager(mgr, "spark-operator")
	if err != nil {
		return fmt.Errorf("adding the event recorder: %w", err)
	}
	r := sparkapplication.NewReconciler(mgr.GetClient(), recorder, clock.RealClock{}, recOpts)
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the SparkApplication controller: %w", err)
	}
	sr := scheduledsparkapplication.NewReconciler(mgr.GetClient(), recorder, clock.RealClock{},
		scheduledsparkapplication.Options{MaxConcurrentReconciles: o.workers, Namespaces: nsFilter,
			RateLimiter: o.kf.rateLimiter(), TimestampPrecision: o.kf.timestampPrecision})
	if err := sr.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the ScheduledSparkApplication controller: %w", err)
	}
	if err := o.setupSparkConnect(mgr, recorder, recOpts); err != nil {
		return err
	}
	if err := o.setupWebhook(mgr, recOpts.Submission); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("Starting the Spark operator", "version", version.Get(), "namespaces", o.namespaces, "workers", o.workers)
	if _, err := AddAPIServerProbe(mgr); err != nil {
		return fmt.Errorf("adding the API server probe: %w", err)
	}
	return RestartInPlaceIfLeaseLost(log, mgr.Start(ctrl.SetupSignalHandler()))
}

// setupWebhook serves the validating webhook when enabled. With self-provided certificates the
// webhooks are registered once the certificate rotator has written the certificate.
func (o *controllerOptions) setupWebhook(mgr ctrl.Manager, opts submission.Options) error {
	if !o.enableWebhook {
		return o.quota.withoutWebhook()
	}
	switch o.webhookCertProvider {
	case "cert-manager":
		return webhook.Register(mgr, opts, o.quota.webhookOptions()...)
	case "self":
		if o.webhookNamespace == "" {
			return fmt.Errorf("--webhook-namespace (or $POD_NAMESPACE) is required with --enable-webhook")
		}
		ready := make(chan struct{})
		err := webhook.AddCertRotator(mgr, webhook.CertOptions{
			CertDir:     o.webhookCertDir,
			Secret:      types.NamespacedName{Namespace: o.webhookNamespace, Name: o.webhookSecretName},
			ServiceName: o.webhookServiceName, ServiceNamespace: o.webhookNamespace,
			ConfigurationName: o.webhookConfigName,
		}, ready)
		if err != nil {
			return fmt.Errorf("setting up webhook certificates: %w", err)
		}
		go func() {
			<-ready
			if err := webhook.Register(mgr, opts, o.quota.webhookOptions()...); err != nil {
				ctrl.Log.Error(err, "Registering the webhooks")
				os.Exit(1)
			}
		}()
		return nil
	default:
		return fmt.Errorf("--webhook-cert-provider must be self or cert-manager, not %q", o.webhookCertProvider)
	}
}

// setMemoryLimit sets the Go runtime's soft memory limit to 90% of the container's cgroup memory
// limit (github.com/KimMachineGun/automemlimit), so that the garbage collector works harder before
// the kernel's OOM killer would act, instead of letting the heap grow to twice its live size
// (GOGC=100) regardless of the limit. A GOMEMLIMIT environment variable takes precedence;
// AUTOMEMLIMIT sets another ratio in (0, 1], or "off". Without a cgroup limit it changes nothing, and
// a failure to read the cgroup is logged, never fatal.
func setMemoryLimit(log logr.Logger) {
	_, _ = memlimit.Set(memlimit.WithProvider(memlimit.FromCgroup), memlimit.WithLogger(slog.New(logr.ToSlogHandler(log))))
}
