package operatorcmd

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/component-base/featuregate"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/features"
	"github.com/sparkop/spark-operator/internal/submission"
)

// kubeflowControllerOptions are the flags of Kubeflow v2.5's `controller start` that are not in
// controller.go, with Kubeflow's names, meanings and defaults unless docs/kubeflow-compatibility.md
// says otherwise.
type kubeflowControllerOptions struct {
	cacheSyncTimeout   time.Duration
	rateLimiterQPS     int
	rateLimiterBucket  int
	rateLimiterMaxWait time.Duration
	enableMetrics      bool
	metricsEndpoint    string
	secureMetrics      bool
	enableHTTP2        bool
	tls                serverTLS
	pprofAddr          string
	timestampPrecision string
	gates              featuregate.MutableFeatureGate
}

// timestampPrecisions are the values of --scheduled-spark-application-timestamp-precision, Kubeflow's.
var timestampPrecisions = []string{"nanos", "micros", "millis", "seconds", "minutes"}

// addFlags registers the flags on f.
func (k *kubeflowControllerOptions) addFlags(f *pflag.FlagSet) {
	f.DurationVar(&k.cacheSyncTimeout, "cache-sync-timeout", 30*time.Second, "how long each controller waits for its informer caches to sync at start before it fails")
	f.IntVar(&k.rateLimiterQPS, "workqueue-ratelimiter-bucket-qps", 10, "reconciles per second the workqueues' token bucket allows (all controllers, each its own bucket)")
	f.IntVar(&k.rateLimiterBucket, "workqueue-ratelimiter-bucket-size", 100, "burst size of the workqueues' token bucket")
	f.DurationVar(&k.rateLimiterMaxWait, "workqueue-ratelimiter-max-delay", rate.InfDuration, "longest delay the workqueue rate limiter imposes on one item (per-item back-off 5ms to 1000s, and the token bucket)")
	f.BoolVar(&k.enableMetrics, "enable-metrics", true, "export the spark_application_* and spark_executor_* metrics (the controller-runtime metrics are served whenever --metrics-bind-address is not 0)")
	f.StringVar(&k.metricsEndpoint, "metrics-endpoint", "/metrics", "HTTP path of the metrics (served in addition to /metrics when it differs)")
	f.BoolVar(&k.secureMetrics, "secure-metrics", false, "serve metrics over HTTPS, to callers authenticated by the API server (TokenReview) and authorized to GET the endpoint's path (SubjectAccessReview)")
	f.BoolVar(&k.enableHTTP2, "enable-http2", false, "allow HTTP/2 on the metrics and webhook servers (off by default: HTTP/2 Rapid Reset, CVE-2023-44487)")
	k.tls.addFlags(f, "metric")
	f.StringVar(&k.pprofAddr, "pprof-bind-address", "0", "address of the net/http/pprof endpoint (0 disables it)")
	f.StringVar(&k.timestampPrecision, "scheduled-spark-application-timestamp-precision", "seconds", "precision of the scheduled time in the names of a ScheduledSparkApplication's runs: "+strings.Join(timestampPrecisions, ", "))
	k.gates = features.New()
	features.AddFlag(k.gates, f)
}

// validate refuses flag values that parse but cannot work, naming the flag.
func (k *kubeflowControllerOptions) validate(defaultTTLSeconds int64) error {
	if !slices.Contains(timestampPrecisions, k.timestampPrecision) {
		return fmt.Errorf("--scheduled-spark-application-timestamp-precision: %q is not one of %s", k.timestampPrecision, strings.Join(timestampPrecisions, ", "))
	}
	if !strings.HasPrefix(k.metricsEndpoint, "/") {
		return fmt.Errorf("--metrics-endpoint: %q is not a path starting with /", k.metricsEndpoint)
	}
	if k.rateLimiterQPS <= 0 || k.rateLimiterBucket <= 0 {
		return fmt.Errorf("--workqueue-ratelimiter-bucket-qps and --workqueue-ratelimiter-bucket-size must be positive, not %d and %d", k.rateLimiterQPS, k.rateLimiterBucket)
	}
	if k.rateLimiterMaxWait <= 0 {
		return fmt.Errorf("--workqueue-ratelimiter-max-delay must be positive, not %s", k.rateLimiterMaxWait)
	}
	if err := k.tls.validate(); err != nil {
		return err
	}
	return checkDefaultTimeToLive(k.gates, defaultTTLSeconds)
}

// rateLimiter is Kubeflow's workqueue rate limiter: the larger of a per-item exponential back-off
// (5 ms doubling to 1000 s) and a token bucket (--workqueue-ratelimiter-bucket-qps, -size), capped at
// --workqueue-ratelimiter-max-delay. The defaults equal controller-runtime's own limiter.
func (k *kubeflowControllerOptions) rateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedWithMaxWaitRateLimiter(
		workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, 1000*time.Second),
			&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(k.rateLimiterQPS), k.rateLimiterBucket)},
		), k.rateLimiterMaxWait)
}

// apply sets the manager options these flags govern: the metrics server (path, HTTPS with
// authentication and authorization, HTTP/2), pprof, the webhook server's HTTP/2 and the controllers'
// cache sync timeout.
func (k *kubeflowControllerOptions) apply(o *ctrl.Options, metricsAddr string) {
	o.Metrics = MetricsServerOptions(metricsAddr, k.metricsEndpoint, k.secureMetrics, k.enableHTTP2, k.tls.options()...)
	o.PprofBindAddress = k.pprofAddr
	o.Controller.CacheSyncTimeout = k.cacheSyncTimeout
}

// MetricsServerOptions are the metrics server's options for --metrics-bind-address, --metrics-endpoint,
// --secure-metrics and --enable-http2 (shared by `controller start` and `webhook start`), with the
// TLS settings extra (the --*-tls-* flags, tlsflags.go) applied after those of HTTP/2. With secure
// serving the server uses a self-signed certificate and lets through only requests whose bearer token
// the API server authenticates (TokenReview) and whose user may GET the path (SubjectAccessReview,
// nonResourceURLs), by controller-runtime's filters.WithAuthenticationAndAuthorization.
func MetricsServerOptions(addr, endpoint string, secure, http2 bool, extra ...func(*tls.Config)) metricsserver.Options {
	m := metricsserver.Options{BindAddress: addr, SecureServing: secure, TLSOpts: tlsOptions(http2, extra...)}
	if secure {
		// Needs RBAC: create tokenreviews (authentication.k8s.io) and subjectaccessreviews
		// (authorization.k8s.io); the chart grants them when metrics are secure.
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if endpoint != "" && endpoint != "/metrics" {
		m.ExtraHandlers = map[string]http.Handler{endpoint: promhttp.HandlerFor(ctrlmetrics.Registry, promhttp.HandlerOpts{})}
	}
	return m
}

// tlsOptions disable HTTP/2 unless it is enabled (--enable-http2), as Kubeflow v2.5 and the
// kubebuilder scaffold do, then apply extra.
func tlsOptions(http2 bool, extra ...func(*tls.Config)) []func(*tls.Config) {
	if http2 {
		return extra
	}
	return append([]func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}, extra...)
}

// checkDefaultTimeToLive refuses --feature-gates=DefaultTimeToLive=false together with
// --default-time-to-live-seconds > 0: the flag would do nothing, silently.
func checkDefaultTimeToLive(gates featuregate.FeatureGate, seconds int64) error {
	if seconds < 0 {
		return fmt.Errorf("--default-time-to-live-seconds must not be negative, not %d", seconds)
	}
	if seconds > 0 && !gates.Enabled(features.DefaultTimeToLive) {
		return fmt.Errorf("--default-time-to-live-seconds=%d needs the DefaultTimeToLive feature gate, which --feature-gates turns off", seconds)
	}
	return nil
}

// applyGates sets what the feature gates change in the SparkApplication controller and the
// submitter: PartialRestart, and LoadSparkDefaults (the operator's spark-defaults.conf, read once
// here; an unreadable file fails the start, naming it). DefaultTimeToLive is checked by validate;
// RestSubmitter changes nothing (native submission) and says so in the log.
func (k *kubeflowControllerOptions) applyGates(opts *sparkapplication.Options, log logr.Logger) error {
	opts.PartialRestart = k.gates.Enabled(features.PartialRestart)
	path := submission.SparkDefaultsFile(os.Getenv)
	if k.gates.Enabled(features.LoadSparkDefaults) {
		defaults, err := submission.LoadSparkDefaults(path)
		if err != nil {
			return fmt.Errorf("--feature-gates=LoadSparkDefaults=true: %w", err)
		}
		opts.Submission.SparkDefaults = defaults
		log.Info("LoadSparkDefaults: applying the operator's Spark defaults to every submission", "file", path, "properties", len(defaults))
	} else if _, err := os.Stat(path); path != "" && err == nil {
		log.Info("Not applying the operator's spark-defaults.conf: enable it with --feature-gates=LoadSparkDefaults=true", "file", path)
	}
	if k.gates.Enabled(features.RestSubmitter) {
		log.Info("The RestSubmitter feature gate changes nothing here: submission is native, without spark-submit")
	}
	return nil
}

// allNamespaces turns Kubeflow's "all namespaces" forms of --namespaces (empty, or containing ""
// as its chart passes with --namespaces="") into nil.
func allNamespaces(list []string) []string {
	if slices.Contains(list, "") {
		return nil
	}
	return list
}
