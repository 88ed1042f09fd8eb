package operatorcmd

// How the operator behaves while it cannot reach the API server (docs/operations.md, "When the API
// server goes away"): its informers retry a refused watch at a fixed short interval instead of
// client-go's exponential back-off, it waits for the API server at start-up instead of exiting, and
// it says that it is blind (a log line, the spark_operator_apiserver_reachable gauge, /readyz).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// WatchRetryInterval is how often an informer of the operator tries its list or watch again while
// the API server is unreachable (connection refused or reset, 503, 504, 500). client-go's reflector
// backs such a watch off exponentially up to 30 s with a jitter of 1.0, so that after an outage of
// a few tens of seconds it looked again only every 30 to 60 s; its back-off is a ReflectorOptions
// field that SharedIndexInformer does not expose (a TODO in client-go, kubernetes#136943).
const WatchRetryInterval = time.Second

// APIServerProbeInterval is how often the operator checks that the API server answers (/readyz).
const APIServerProbeInterval = time.Second

// apiServerReachable is 1 while the API server's /readyz answers OK, 0 while it does not.
var apiServerReachable = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "spark_operator_apiserver_reachable",
	Help: "1 while the operator reaches the API server (its /readyz answers OK), 0 while it does not: the operator then sees no change to applications or pods.",
})

func init() {
	apiServerReachable.Set(1)
	ctrlmetrics.Registry.MustRegister(apiServerReachable)
}

// NewRetryingInformer is the cache's NewInformer (cache.Options.NewInformer): client-go's shared
// informer over a ListerWatcher that retries a list or watch refused because the API server is
// unreachable every WatchRetryInterval, until it succeeds or the informer stops, so that the
// reflector's own back-off never grows during an outage and the cache catches up within about a
// second of the API server's return. Other errors (410 Gone, 403, 429 with its Retry-After, ...)
// reach the reflector unchanged.
func NewRetryingInformer(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	return toolscache.NewSharedIndexInformer(&retryingListerWatcher{inner: toolscache.ToListerWatcherWithContext(lw)}, obj, resync, indexers)
}

// retryingListerWatcher is a ListerWatcher that retries while the API server is unreachable.
type retryingListerWatcher struct {
	inner toolscache.ListerWatcherWithContext
}

func (l *retryingListerWatcher) List(options metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(context.Background(), options)
}

func (l *retryingListerWatcher) Watch(options metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(context.Background(), options)
}

func (l *retryingListerWatcher) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	return retryUnreachable(ctx, func() (runtime.Object, error) { return l.inner.ListWithContext(ctx, options) })
}

func (l *retryingListerWatcher) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	return retryUnreachable(ctx, func() (watch.Interface, error) { return l.inner.WatchWithContext(ctx, options) })
}

// retryUnreachable calls f until it returns an error other than Unreachable, or ctx ends (then it
// returns f's last error).
func retryUnreachable[T any](ctx context.Context, f func() (T, error)) (T, error) {
	for {
		v, err := f()
		if err == nil || !Unreachable(err) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(WatchRetryInterval):
		}
	}
}

// Unreachable reports whether err says that the API server (or its etcd) cannot serve at all right
// now, as opposed to refusing this request: a refused, reset or timed out connection, an unexpected
// EOF, or HTTP 503, 504 or 500 (etcd unavailable).
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsInternalError(err) {
		return true
	}
	var netErr net.Error
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &netErr) {
		return true
	}
	// Discovery and REST-mapping errors are formatted with %v, which loses the chain.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset by peer", "i/o timeout", "unexpected EOF", "TLS handshake timeout", "the server is currently unable to handle the request"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// notServedYet reports whether err says that the API server does not serve all API groups yet, as
// for a few seconds after it starts (the CRDs' group is missing from discovery), or that discovery
// does not list the operator's kinds yet, as for a moment after their CRDs were created or after the
// API server restarted (seen by hack/chaos: "failed to get restmapping: no matches for kind"). A CRD
// that is not installed at all gives the same errors: NewManagerWhenReachable then logs it at the
// first attempt and every tenth.
func notServedYet(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "unable to retrieve the complete list of server APIs") || strings.Contains(msg, "no matches for kind")
}

// StartupRetryInterval is how long NewManagerWhenReachable waits between attempts.
const StartupRetryInterval = time.Second

// NewManagerWhenReachable creates the manager like ctrl.NewManager, but while the API server is
// Unreachable or does not serve the operator's API groups yet (creating the manager reads the API's
// discovery) it logs that (at the first attempt and every tenth) and tries again every
// StartupRetryInterval, until ctx ends, instead of failing: a Deployment restarted during an outage
// then starts as soon as the API server is back rather than exiting into CrashLoopBackOff. While it
// waits it answers the liveness probe (/healthz on healthAddr, when set) so that the kubelet does not
// restart it, and fails /readyz. Other errors are returned at once.
func NewManagerWhenReachable(ctx context.Context, log logr.Logger, cfg *rest.Config, healthAddr string, opts ctrl.Options) (ctrl.Manager, error) {
	var interim *http.Server
	defer func() {
		if interim != nil {
			_ = interim.Close()
		}
	}()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		mgr, err := ctrl.NewManager(cfg, opts)
		if err == nil || !(Unreachable(err) || notServedYet(err)) {
			if err == nil && attempt > 1 {
				apiServerReachable.Set(1)
				log.Info("The API server is reachable; starting", "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return mgr, err
		}
		apiServerReachable.Set(0)
		if attempt == 1 || attempt%10 == 0 {
			log.Error(err, "The API server cannot serve the operator yet; trying again every second", "attempt", attempt,
				"waited", time.Since(start).Round(time.Second).String())
		}
		if interim == nil && healthAddr != "" && healthAddr != "0" {
			interim = serveStartupProbes(log, healthAddr)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("creating the manager: %w (gave up waiting for the API server: %v)", err, ctx.Err())
		case <-time.After(StartupRetryInterval):
		}
		if interim != nil {
			// Free the port for the manager's own probe server before the next attempt.
			_ = interim.Close()
			interim = nil
		}
	}
}

// newManagerUntilSignal is NewManagerWhenReachable until SIGINT or SIGTERM (the manager's own
// signal handler, ctrl.SetupSignalHandler, can be set up only once, for mgr.Start).
func newManagerUntilSignal(log logr.Logger, cfg *rest.Config, healthAddr string, opts ctrl.Options) (ctrl.Manager, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return NewManagerWhenReachable(ctx, log, cfg, healthAddr, opts)
}

// serveStartupProbes answers /healthz with 200 and /readyz with 503 on addr until closed; a failure
// to listen is logged, not fatal.
func serveStartupProbes(log logr.Logger, addr string) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "waiting for the API server", http.StatusServiceUnavailable)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error(err, "Serving the probes while waiting for the API server", "address", addr)
		return nil
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv
}

// APIServerProbe checks every APIServerProbeInterval that the API server's /readyz answers OK. While
// it does not, the operator is blind (its informers see no change), and the probe says so: an error
// log line when it stops answering and every 30 s after, an info line when it is back with how long
// it was away, the spark_operator_apiserver_reachable gauge, and a failing readiness check (Check).
type APIServerProbe struct {
	client    rest.Interface
	log       logr.Logger
	reachable atomic.Bool
	lastErr   atomic.Value // string
}

// AddAPIServerProbe adds an APIServerProbe to mgr (running on every replica, leader or not) and its
// readiness check "apiserver".
func AddAPIServerProbe(mgr ctrl.Manager) (*APIServerProbe, error) {
	cs, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return nil, err
	}
	p := &APIServerProbe{client: cs.Discovery().RESTClient(), log: mgr.GetLogger().WithName("apiserver-probe")}
	p.reachable.Store(true)
	if err := mgr.Add(p); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("apiserver", p.Check); err != nil {
		return nil, err
	}
	return p, nil
}

// NeedLeaderElection is false: every replica reports what it sees.
func (p *APIServerProbe) NeedLeaderElection() bool { return false }

// Check is the readiness check: an error while the API server is unreachable.
func (p *APIServerProbe) Check(*http.Request) error {
	if p.reachable.Load() {
		return nil
	}
	msg, _ := p.lastErr.Load().(string)
	return fmt.Errorf("cannot reach the API server: %s", msg)
}

// Reachable reports the last probe's result.
func (p *APIServerProbe) Reachable() bool { return p.reachable.Load() }

// Start probes until ctx ends.
func (p *APIServerProbe) Start(ctx context.Context) error {
	var downSince, lastLog time.Time
	t := time.NewTicker(APIServerProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 2*APIServerProbeInterval)
		err := p.client.Get().AbsPath("/readyz").Do(rctx).Error()
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		switch {
		case err != nil && downSince.IsZero():
			downSince, lastLog = now, now
			p.lastErr.Store(err.Error())
			p.reachable.Store(false)
			apiServerReachable.Set(0)
			p.log.Error(err, "Cannot reach the API server: the operator sees no change to applications or pods until it is back")
		case err != nil:
			p.lastErr.Store(err.Error())
			if now.Sub(lastLog) >= 30*time.Second {
				lastLog = now
				p.log.Error(err, "Still cannot reach the API server", "for", now.Sub(downSince).Round(time.Second).String())
			}
		case !downSince.IsZero():
			p.reachable.Store(true)
			apiServerReachable.Set(1)
			p.log.Info("The API server is reachable again", "after", now.Sub(downSince).Round(time.Millisecond).String())
			downSince = time.Time{}
		}
	}
}

var _ manager.LeaderElectionRunnable = &APIServerProbe{}
