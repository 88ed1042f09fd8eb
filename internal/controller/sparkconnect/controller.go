// Package sparkconnect is the SparkConnect controller: it runs a Spark Connect server
// (org.apache.spark.sql.connect.service.SparkConnectServer) as the driver of its executors, in the
// server pod "<name>-server", rendered by the native submitter (internal/submission) as a
// SparkApplication's driver would be, with the headless Service its executors reach it through and a
// client Service on port 15002.
//
// One policy per file: render.go (SparkConnect -> submission), server.go (the server pod's life:
// create, replace on spec change, recreate when a ready server dies, fail when it cannot start),
// service.go (the client Service), executors.go (executor counts), status.go (state, condition,
// the single status write). docs/spark-connect.md describes the behaviour.
package sparkconnect

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/internal/controller/ctrlkit"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/metrics"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Event reasons of the SparkConnect controller.
const (
	ReasonServerCreated   = "SparkConnectServerCreated"
	ReasonServerReady     = "SparkConnectServerReady"
	ReasonServerNotReady  = "SparkConnectServerNotReady"
	ReasonServerReplaced  = "SparkConnectServerReplaced"
	ReasonServerRestarted = "SparkConnectServerRestarted"
	ReasonFailed          = "SparkConnectFailed"
)

// DefaultImagePullTimeout is Options.ImagePullTimeout when zero.
const DefaultImagePullTimeout = 2 * time.Minute

// conflictRetry is how soon a reconcile whose status write lost a conflict runs again.
const conflictRetry = time.Second

// Options configure the controller.
type Options struct {
	// Submission shapes the rendered server pod (master URL, SPARK_USER, ...), as for applications.
	Submission submission.Options
	// ImagePullTimeout is how long the server image may fail to pull (ErrImagePull,
	// ImagePullBackOff) before the SparkConnect fails; 0 means DefaultImagePullTimeout.
	ImagePullTimeout time.Duration
	// MaxConcurrentReconciles is the number of workers. Default 10.
	MaxConcurrentReconciles int
	// Namespaces filters the namespaces served (--namespace-selector); nil serves all the cache sees.
	Namespaces *namespaces.Filter
	// RateLimiter limits the workqueue (--workqueue-ratelimiter-*); nil is controller-runtime's.
	RateLimiter workqueue.TypedRateLimiter[reconcile.Request]
	// Metrics counts server starts, restarts and failures; nil records nothing.
	Metrics *metrics.ConnectMetrics
	// APIReader reads without the cache (the manager's GetAPIReader): before starting a server the
	// controller checks that its cached SparkConnect is current, so that a status it wrote a moment
	// ago (Failed, say) is not undone from a stale copy. Nil uses the client.
	APIReader client.Reader
}

// Reconciler reconciles SparkConnects.
type Reconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.Clock
	opts     Options
}

// NewReconciler returns a Reconciler; clk is the time source (a fake one in tests).
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.Clock, opts Options) *Reconciler {
	if opts.MaxConcurrentReconciles == 0 {
		opts.MaxConcurrentReconciles = ctrlkit.DefaultWorkers
	}
	if opts.ImagePullTimeout == 0 {
		opts.ImagePullTimeout = DefaultImagePullTimeout
	}
	if opts.APIReader == nil {
		opts.APIReader = c
	}
	return &Reconciler{client: c, recorder: recorder, clock: clk, opts: opts}
}

// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=sparkconnects,verbs=get;list;watch
// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=sparkconnects/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create

// SetupWithManager registers the controller: it watches SparkConnects and the pods labelled with a
// SparkConnect's name (its server and executors).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	byLabel := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[v1alpha1.LabelSparkConnectName]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("sparkconnect").
		For(&v1alpha1.SparkConnect{}).
		Watches(&corev1.Pod{}, byLabel).
		WithOptions(ctrlkit.ControllerOptions(r.opts.MaxConcurrentReconciles, r.opts.RateLimiter)).
		Complete(r)
}

// scope is one reconcile of one SparkConnect: what it read, the status it computes, the events and
// metrics to record once the status is written.
type scope struct {
	orig, conn   *v1alpha1.SparkConnect
	now          time.Time
	log          klog.Logger
	metrics      *metrics.ConnectMetrics
	pod          *corev1.Pod // the server pod, nil when there is none
	failure      string      // why the server cannot start, when it cannot
	events       ctrlkit.Events
	observe      []func()
	requeueAfter time.Duration
}

func (s *scope) event(eventType, reason, format string, args ...any) {
	s.events.Add(eventType, reason, format, args...)
}

func (s *scope) requeue(d time.Duration) {
	if d > 0 && (s.requeueAfter == 0 || d < s.requeueAfter) {
		s.requeueAfter = d
	}
}

// Reconcile brings the server to the spec, then writes the status once.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, log, ok, err := ctrlkit.Begin(ctx, req, "sparkConnect", r.opts.Namespaces)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	conn := &v1alpha1.SparkConnect{}
	if err := r.client.Get(ctx, req.NamespacedName, conn); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if conn.DeletionTimestamp != nil {
		return ctrl.Result{}, nil // the garbage collector removes what it owns
	}
	s := &scope{orig: conn, conn: conn.DeepCopy(), now: r.clock.Now(), log: log, metrics: r.opts.Metrics}
	if err := r.reconcileServer(ctx, s); errors.Is(err, errStale) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	executors, err := r.countExecutors(ctx, s.conn)
	if err != nil {
		return ctrl.Result{}, err
	}
	computeStatus(s, executors)
	if res, err, done := r.writeStatus(ctx, s); done {
		return res, err
	}
	s.events.Emit(r.recorder, s.conn)
	for _, f := range s.observe {
		f()
	}
	return ctrl.Result{RequeueAfter: s.requeueAfter}, nil
}
