// Package sparkapplication is the SparkApplication controller: it submits each application natively
// (internal/submission), follows its driver and executor pods, and keeps status true through
// Kubeflow's state machine (docs/state-machine.md): "" -> SUBMITTED -> RUNNING -> SUCCEEDING/FAILING
// -> COMPLETED/FAILED, with SUBMISSION_FAILED, PENDING_RERUN, INVALIDATING, SUSPENDING, SUSPENDED,
// RESUMING and UNKNOWN.
//
// Each reconcile computes the new status in memory and writes it once; events are recorded and driver
// pod finalizers released only after that write succeeded.
package sparkapplication

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/controller/ctrlkit"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/metrics"
	"github.com/sparkop/spark-operator/internal/submission"
)

// DriverFinalizer is put on every driver pod the operator creates and removed once the pod's outcome
// is recorded in the application's status, so that a driver pod deleted right after it finished is
// still read (Kubeflow reports such short jobs as failed, "driver pod not found").
const DriverFinalizer = "sparkoperator.k8s.io/driver-state"

// staleRetry is how soon a reconcile that found a cached application older than its last status
// write looks again, should the watch event that normally brings the newer version not come.
const staleRetry = time.Second

// conflictRetry is how soon a reconcile whose status write lost a conflict runs again (the watch
// usually brings the newer object first).
const conflictRetry = time.Second

// Options configure the controller. Zero values mean the documented defaults.
type Options struct {
	// Submission are the options passed to the native submitter.
	Submission submission.Options
	// DriverPodCreationGracePeriod is how long a SUBMITTED application may miss its driver pod (cache
	// lag) before the attempt fails with "driver pod not found". Default 10s, as in Kubeflow.
	DriverPodCreationGracePeriod time.Duration
	// DriverStartTimeout is how long a driver pod may stay Pending (unscheduled, or its containers not
	// started) before the attempt fails with the reason; 0, the default, waits without limit (a
	// scheduler or queue holding the driver is waiting, not failing). The annotation
	// sparkoperator.k8s.io/driver-start-timeout overrides it per application.
	DriverStartTimeout time.Duration
	// MaxInfrastructureRestarts bounds how many times one application is restarted without consuming
	// a retry after its driver was lost to the infrastructure (evicted, preempted, its node gone;
	// infrastructure.go); past it such a loss counts as an ordinary failure. Default 5.
	MaxInfrastructureRestarts int
	// StuckTerminatingTimeout is how long a driver pod may stay Terminating past its grace period on
	// a node that is gone or not Ready before it is force-deleted (stuck.go). Default 2m.
	StuckTerminatingTimeout time.Duration
	// ImagePullTimeout is how long the driver may fail to pull its image (ErrImagePull,
	// ImagePullBackOff) before the submission fails. Default 2m.
	ImagePullTimeout time.Duration
	// MaxTrackedExecutors bounds status.executorState. Default 1000, as Kubeflow's
	// --max-tracked-executor-per-app.
	MaxTrackedExecutors int
	// DefaultTimeToLive deletes terminated applications without spec.timeToLiveSeconds after this long;
	// 0 keeps them.
	DefaultTimeToLive time.Duration
	// EnableUIService creates the <app>-ui-svc Service in front of the Spark UI.
	EnableUIService bool
	// IngressURLFormat, when set, creates an Ingress for the Spark UI at this URL, with {{$appName}},
	// {{$appNamespace}} and {{$appId}} (status.sparkApplicationID) replaced, spaces inside the braces
	// allowed as in Kubeflow ({{ $appName }}), e.g. "{{$appName}}.spark.example.com" or
	// "example.com/{{$appNamespace}}/{{$appName}}".
	IngressURLFormat string
	// IngressClassName is the ingressClassName of the UI Ingresses.
	IngressClassName string
	// IngressTLS and IngressAnnotations are the defaults for UI Ingresses without their own.
	IngressTLS         []networkingv1.IngressTLS
	IngressAnnotations map[string]string
	// MaxConcurrentReconciles is the number of workers. Default 10.
	MaxConcurrentReconciles int
	// Metrics records the application and executor metrics; nil records none.
	Metrics *metrics.Metrics
	// Namespaces filters the namespaces served (--namespace-selector); nil serves all the cache sees.
	Namespaces *namespaces.Filter
	// EnableDriverPDB (--enable-driver-pdb) creates a PodDisruptionBudget for the driver of each
	// application that sets spec.driverPodDisruptionBudget (see pdb.go).
	EnableDriverPDB bool
	// RateLimiter limits the workqueue (--workqueue-ratelimiter-*); nil is controller-runtime's.
	RateLimiter workqueue.TypedRateLimiter[reconcile.Request]
	// PartialRestart (feature gate) keeps a running application running when only the executor
	// fields listed in partialrestart.go changed.
	PartialRestart bool
	// BatchSchedulers are the batch schedulers applications are handed to (--enable-batch-scheduler);
	// nil is batch scheduling off: spec.batchScheduler then only sets the pods' schedulerName.
	BatchSchedulers *batchscheduler.Registry
}

func (o *Options) defaults() {
	if o.DriverPodCreationGracePeriod == 0 {
		o.DriverPodCreationGracePeriod = 10 * time.Second
	}
	if o.MaxInfrastructureRestarts == 0 {
		o.MaxInfrastructureRestarts = 5
	}
	if o.StuckTerminatingTimeout == 0 {
		o.StuckTerminatingTimeout = 2 * time.Minute
	}
	if o.ImagePullTimeout == 0 {
		o.ImagePullTimeout = 2 * time.Minute
	}
	if o.MaxTrackedExecutors == 0 {
		o.MaxTrackedExecutors = 1000
	}
	if o.MaxConcurrentReconciles == 0 {
		o.MaxConcurrentReconciles = ctrlkit.DefaultWorkers
	}
}

// Reconciler reconciles SparkApplications.
type Reconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.Clock
	opts     Options
	// writes holds back reconciles that would read a status this controller already replaced.
	writes statusWrites
	// releases keeps a reconcile from releasing a driver finalizer a second time (releases.go).
	releases driverReleases
	// apiReader reads from the API server without the cache (the raw templates, templates.go); set
	// by SetupWithManager, nil without a manager.
	apiReader client.Reader
	// status writes the status and reads back only metadata (statuswrite.go); set by
	// SetupWithManager, nil without a manager.
	status *statusWriter
}

// NewReconciler returns a Reconciler. c is the (cached) client of the manager (after SetupWithManager
// the status writes go through a REST client of the manager's instead, statuswrite.go); recorder records the
// Kubeflow-named events (package eventrecorder in the operator); clk is the time source (a fake one
// in tests).
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.Clock, opts Options) *Reconciler {
	opts.defaults()
	return &Reconciler{client: c, recorder: recorder, clock: clk, opts: opts}
}

// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=sparkapplications,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=sparkapplications/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=sparkapplications/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch;update
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas,verbs=list;watch

// SetupWithManager registers the controller: it watches SparkApplications, their pods, and the
// deletion of their UI Services and (with EnableDriverPDB) driver PodDisruptionBudgets (mapped back by the sparkoperator.k8s.io/app-name label). The
// manager's cache decides which of these objects are seen at all (operatorcmd.CacheOptions: pods
// launched by the operator, Services selected by UIObjectLabels).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := setupIndexes(context.Background(), mgr); err != nil {
		return err
	}
	r.apiReader = mgr.GetAPIReader()
	status, err := newStatusWriter(mgr)
	if err != nil {
		return err
	}
	r.status = status
	byApp := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[v1beta2.LabelAppName]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	})
	b := ctrl.NewControllerManagedBy(mgr).
		Named("sparkapplication").
		For(&v1beta2.SparkApplication{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletedPredicate(), r.writes.caughtUpPredicate()))).
		Watches(&corev1.Pod{}, byApp, builder.WithPredicates(podChangedPredicate())).
		Watches(&corev1.Service{}, byApp, builder.WithPredicates(deletedPredicate()))
	if r.opts.EnableDriverPDB {
		// A driver budget deleted by someone else is created again.
		b = b.Watches(&policyv1.PodDisruptionBudget{}, byApp, builder.WithPredicates(deletedPredicate()))
	}
	return b.WithOptions(ctrlkit.ControllerOptions(r.opts.MaxConcurrentReconciles, r.opts.RateLimiter)).
		Complete(r)
}

// podChangedPredicate passes pod events that can change an application's state: creation, deletion,
// and updates of phase, container states or the deletion timestamp.
func podChangedPredicate() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Pod)
			n, ok2 := e.ObjectNew.(*corev1.Pod)
			if !ok1 || !ok2 {
				return true
			}
			return o.Status.Phase != n.Status.Phase ||
				(o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) ||
				!equality.Semantic.DeepEqual(o.Status.ContainerStatuses, n.Status.ContainerStatuses) ||
				!equality.Semantic.DeepEqual(o.Status.Conditions, n.Status.Conditions)
		},
	}
}

func deletedPredicate() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// scope is one reconcile of one application: the object as read, the copy whose status is computed,
// and what to do once the status is written.
type scope struct {
	orig   *v1beta2.SparkApplication
	app    *v1beta2.SparkApplication
	now    time.Time
	log    klog.Logger
	events ctrlkit.Events
	// transitions are the states the application went through in this reconcile, in order.
	transitions []v1beta2.ApplicationStateType
	// afterWrite runs after the status write succeeded (finalizer releases).
	afterWrite []func(context.Context) error
	// releasing is the driver pod whose finalizer afterWrite releases: one reconcile that goes
	// through SUCCEEDING to COMPLETED reaches releaseDriver twice and releases once.
	releasing *podVersion
	// requeueAfter is the earliest time the application needs another look; 0 means none.
	requeueAfter time.Duration
	// deleted is set when the reconcile deleted the application (TTL): no status to write.
	deleted bool
}

func (s *scope) event(eventType, reason, format string, args ...any) {
	s.events.Add(eventType, reason, format, args...)
}

// requeue asks for another reconcile after d at the latest.
func (s *scope) requeue(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	if s.requeueAfter == 0 || d < s.requeueAfter {
		s.requeueAfter = d
	}
}

// Reconcile fetches the application, runs the state machine on a copy, writes the status once, then
// records events and releases finalizers.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	res, err := r.reconcile(ctx, req)
	return retryWhenUnavailable(ctx, res, err)
}

// reconcile is one pass of Reconcile; its errors go through retryWhenUnavailable.
func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, log, ok, err := ctrlkit.Begin(ctx, req, "sparkApplication", r.opts.Namespaces)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	app := &v1beta2.SparkApplication{}
	if err := r.client.Get(ctx, req.NamespacedName, app); err != nil {
		if apierrors.IsNotFound(err) {
			r.writes.forget(req.NamespacedName)
			r.releases.forget(req.NamespacedName)
			return ctrl.Result{}, r.cleanupDeleted(ctx, req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	if r.writes.stale(req.NamespacedName, app.ResourceVersion) {
		log.V(2).Info("The cache has not seen the last status write yet; waiting for it")
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}
	defer r.reportPanic(app)
	s := &scope{orig: app, app: app.DeepCopy(), now: r.clock.Now(), log: log}
	if err := r.reconcileState(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if s.deleted {
		return ctrl.Result{}, nil
	}
	if s.app.Status.AppState.State == v1beta2.ApplicationStateNew {
		// Not submitted yet (an earlier driver pod of the same name is still going away): the status
		// is left as it is. It is never written with state "", which clients read as "started"
		// (Airflow's SparkKubernetesOperator waits only while the state is missing or SUBMITTED).
		return ctrl.Result{RequeueAfter: s.requeueAfter}, nil
	}
	setConditions(s.app, s.now)
	s.app.Status.ObservedGeneration = s.app.Generation
	if !equality.Semantic.DeepEqual(s.orig.Status, s.app.Status) {
		if err := r.writeStatus(ctx, s.app); err != nil {
			if apierrors.IsConflict(err) {
				// The API server holds a newer version than the cached copy: another writer got
				// there first, or a write of ours went through but its reply was lost (an API
				// server outage). Hold back reconciles of this copy until the cache has the newer
				// one (its watch event runs the application again), instead of running the state
				// machine on the stale copy once a second.
				r.writes.wrote(req.NamespacedName, s.orig.ResourceVersion)
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("writing status: %w", err)
		}
		if s.app.ResourceVersion != s.orig.ResourceVersion {
			// A write that changed nothing on the server (the same JSON) keeps the version: there
			// is no newer one for the cache to wait for.
			r.writes.wrote(req.NamespacedName, s.orig.ResourceVersion)
		}
		if s.orig.Status.AppState.State != s.app.Status.AppState.State {
			log.V(1).Info("State changed", "from", s.orig.Status.AppState.State, "to", s.app.Status.AppState.State)
		}
		r.opts.Metrics.Observe(s.app, &s.orig.Status, s.transitions, s.now)
	}
	s.events.Emit(r.recorder, s.app)
	for _, f := range s.afterWrite {
		if err := f(ctx); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: s.requeueAfter}, nil
}
