// Package scheduledsparkapplication is the ScheduledSparkApplication controller: it starts a
// SparkApplication from the template at each scheduled time, honours the concurrency policy, keeps the
// run history within its limits, and starts one run per manual trigger.
//
// Runs are named deterministically from their scheduled time (<name>-<unix seconds>) or trigger token
// (<name>-manual-<hash>), so a retried reconcile or a restarted controller never starts the same run
// twice. Missed runs follow Kubernetes CronJob: only the most recent missed time is started, and not
// at all when it is older than startingDeadlineSeconds; the status says what was missed.
package scheduledsparkapplication

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/ctrlkit"
	"github.com/sparkop/spark-operator/internal/controller/namespaces"
	"github.com/sparkop/spark-operator/internal/schedule"
	"github.com/sparkop/spark-operator/internal/submission"
)

// conflictRetry is how soon a reconcile whose status write lost a conflict runs again.
const conflictRetry = time.Second

// reasonSuspended is status.reason while the schedule is suspended.
const reasonSuspended = "suspended: no runs are started"

// Options configure the controller.
type Options struct {
	// MaxConcurrentReconciles is the number of workers. Default 10.
	MaxConcurrentReconciles int
	// Namespaces filters the namespaces served (--namespace-selector); nil serves all the cache sees.
	Namespaces *namespaces.Filter
	// RateLimiter limits the workqueue (--workqueue-ratelimiter-*); nil is controller-runtime's.
	RateLimiter workqueue.TypedRateLimiter[reconcile.Request]
	// TimestampPrecision is the precision of the scheduled time in run names (RunSuffix); "" is seconds.
	TimestampPrecision string
}

// Reconciler reconciles ScheduledSparkApplications.
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
	return &Reconciler{client: c, recorder: recorder, clock: clk, opts: opts}
}

// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=scheduledsparkapplications,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=scheduledsparkapplications/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=sparkoperator.k8s.io,resources=sparkapplications,verbs=get;list;watch;create;delete

// SetupWithManager registers the controller: it watches ScheduledSparkApplications (spec and
// annotation changes) and the SparkApplications they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("scheduledsparkapplication").
		For(&v1beta2.ScheduledSparkApplication{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&v1beta2.SparkApplication{}).
		WithOptions(ctrlkit.ControllerOptions(r.opts.MaxConcurrentReconciles, r.opts.RateLimiter)).
		Complete(r)
}

// scope is one reconcile of one ScheduledSparkApplication.
type scope struct {
	orig, ssa    *v1beta2.ScheduledSparkApplication
	now          time.Time
	log          klog.Logger
	events       ctrlkit.Events
	requeueAfter time.Duration
}

func (s *scope) event(eventType, reason, format string, args ...any) {
	s.events.Add(eventType, reason, format, args...)
}

// Reconcile starts the runs that are due, keeps the history and writes the status once.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, log, ok, err := ctrlkit.Begin(ctx, req, "scheduledSparkApplication", r.opts.Namespaces)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	ssa := &v1beta2.ScheduledSparkApplication{}
	if err := r.client.Get(ctx, req.NamespacedName, ssa); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ssa.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	s := &scope{orig: ssa, ssa: ssa.DeepCopy(), now: r.clock.Now(), log: log}
	if err := r.reconcile(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	s.ssa.Status.ObservedGeneration = s.ssa.Generation
	if !equality.Semantic.DeepEqual(s.orig.Status, s.ssa.Status) {
		if err := r.client.Status().Update(ctx, s.ssa); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, err
		}
	}
	s.events.Emit(r.recorder, s.ssa)
	return ctrl.Result{RequeueAfter: s.requeueAfter}, nil
}

func (r *Reconciler) reconcile(ctx context.Context, s *scope) error {
	st := &s.ssa.Status
	sched, err := schedule.Parse(s.ssa.Spec.Schedule, s.ssa.Spec.TimeZone)
	if err != nil {
		if st.ScheduleState != v1beta2.ScheduleStateFailedValidation || st.Reason != err.Error() {
			s.event(corev1.EventTypeWarning, ReasonInvalidSchedule, "%v", err)
		}
		st.ScheduleState, st.Reason, st.NextRun = v1beta2.ScheduleStateFailedValidation, err.Error(), metav1.Time{}
		setCondition(s.ssa, metav1.ConditionFalse, "InvalidSchedule", err.Error())
		return nil
	}
	if st.ScheduleState == v1beta2.ScheduleStateFailedValidation || (st.Reason == reasonSuspended && !ptr.Deref(s.ssa.Spec.Suspend, false)) {
		// The reason described what is now fixed. Other reasons (missed or waiting runs) stay until
		// the next run starts on time.
		st.Reason = ""
	}
	st.ScheduleState = v1beta2.ScheduleStateScheduled
	setCondition(s.ssa, metav1.ConditionTrue, "Scheduled", "")
	adoptSchedule(st)

	runs, err := r.listRuns(ctx, s.ssa)
	if err != nil {
		return err
	}
	if err := r.manualTrigger(ctx, s, runs); err != nil {
		return err
	}
	if ptr.Deref(s.ssa.Spec.Suspend, false) {
		st.NextRun = metav1.Time{}
		st.Reason = reasonSuspended
	} else if err := r.scheduledRun(ctx, s, sched, runs); err != nil {
		return err
	}
	// The list may have changed; read it again for the history.
	if runs, err = r.listRuns(ctx, s.ssa); err != nil {
		return err
	}
	return r.keepHistory(ctx, s, runs)
}

func setCondition(ssa *v1beta2.ScheduledSparkApplication, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ssa.Status.Conditions, metav1.Condition{
		Type: v1beta2.ConditionScheduleValid, Status: status, Reason: reason, Message: message,
		ObservedGeneration: ssa.Generation,
	})
}

// listRuns returns the SparkApplications this ScheduledSparkApplication owns, newest first.
func (r *Reconciler) listRuns(ctx context.Context, ssa *v1beta2.ScheduledSparkApplication) ([]v1beta2.SparkApplication, error) {
	list := &v1beta2.SparkApplicationList{}
	if err := r.client.List(ctx, list, client.InNamespace(ssa.Namespace), client.MatchingLabels{v1beta2.LabelScheduledAppName: ssa.Name}); err != nil {
		return nil, err
	}
	runs := slices.DeleteFunc(list.Items, func(a v1beta2.SparkApplication) bool { return !metav1.IsControlledBy(&a, ssa) })
	slices.SortFunc(runs, func(a, b v1beta2.SparkApplication) int { return runTime(&b).Compare(runTime(&a)) })
	return runs, nil
}

// runTime is when a run was scheduled (its annotation), else created.
func runTime(app *v1beta2.SparkApplication) time.Time {
	if t, err := time.Parse(time.RFC3339, app.Annotations[v1beta2.AnnotationScheduledTime]); err == nil {
		return t
	}
	return app.CreationTimestamp.Time
}

func finished(app *v1beta2.SparkApplication) bool {
	st := app.Status.AppState.State
	return st == v1beta2.ApplicationStateCompleted || st == v1beta2.ApplicationStateFailed
}

// manualTrigger starts one run for a new sparkoperator.k8s.io/trigger-run token, whatever the schedule,
// suspension or concurrency policy say (it is an explicit request).
func (r *Reconciler) manualTrigger(ctx context.Context, s *scope, runs []v1beta2.SparkApplication) error {
	token := s.ssa.Annotations[v1beta2.AnnotationTriggerRun]
	if token == "" || token == s.ssa.Status.LastTriggerToken {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	name := submission.DerivedName(s.ssa.Name, "manual-"+hex.EncodeToString(sum[:4]))
	if err := r.createRun(ctx, s, name, s.now); err != nil {
		return err
	}
	s.ssa.Status.LastTriggerToken = token
	s.ssa.Status.LastRun = metav1.NewTime(s.now)
	s.ssa.Status.LastRunName = name
	s.event(corev1.EventTypeNormal, ReasonManualRun, "Started run %s on request (trigger %q)", name, token)
	return nil
}

// scheduledRun starts the run that is due, if any, under the concurrency policy, and sets nextRun.
func (r *Reconciler) scheduledRun(ctx context.Context, s *scope, sched *schedule.Schedule, runs []v1beta2.SparkApplication) error {
	st := &s.ssa.Status
	ref := st.LastScheduleTime.Time
	if ref.IsZero() {
		ref = s.ssa.CreationTimestamp.Time
	}
	latest, missed := sched.Missed(ref, s.now)
	// The next time follows the most recent due one (the reference when none is due), as CronJob's:
	// for "@every <d>" that is <d> after it, not <d> after this reconcile.
	base := latest
	if base.IsZero() {
		base = ref
	}
	next := sched.Next(base)
	if !next.After(s.now) { // the reference is older than Missed's window and nothing fell in it
		next = sched.Next(s.now)
	}
	st.NextRun = metav1.NewTime(next)
	s.requeueAfter = next.Sub(s.now)
	if latest.IsZero() {
		return nil
	}
	if d := s.ssa.Spec.StartingDeadlineSeconds; d != nil && s.now.Sub(latest) > time.Duration(*d)*time.Second {
		st.LastScheduleTime = metav1.NewTime(latest)
		st.Reason = fmt.Sprintf("missed %d scheduled run(s), the latest at %s, more than startingDeadlineSeconds (%ds) ago; waiting for the next at %s",
			missed, latest.UTC().Format(time.RFC3339), *d, next.UTC().Format(time.RFC3339))
		s.event(corev1.EventTypeWarning, ReasonMissedSchedule, "%s", st.Reason)
		return nil
	}
	var active []*v1beta2.SparkApplication
	for i := range runs {
		if !finished(&runs[i]) {
			active = append(active, &runs[i])
		}
	}
	switch policy := s.ssa.Spec.ConcurrencyPolicy; {
	case len(active) > 0 && policy == v1beta2.ConcurrencyForbid:
		// As CronJob: wait; when the active run finishes, the most recent due time still starts
		// (unless it is past startingDeadlineSeconds by then).
		msg := fmt.Sprintf("run due at %s waits for %s to finish (concurrencyPolicy Forbid)", latest.UTC().Format(time.RFC3339), active[0].Name)
		if st.Reason != msg {
			s.event(corev1.EventTypeNormal, ReasonRunWaiting, "%s", msg)
		}
		st.Reason = msg
		return nil
	case len(active) > 0 && policy == v1beta2.ConcurrencyReplace:
		for _, a := range active {
			if err := r.client.Delete(ctx, a, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			s.event(corev1.EventTypeNormal, ReasonRunReplaced, "Deleted unfinished run %s to start the run due at %s (concurrencyPolicy Replace)", a.Name, latest.UTC().Format(time.RFC3339))
		}
	}
	name := submission.DerivedName(s.ssa.Name, RunSuffix(latest, r.opts.TimestampPrecision))
	if err := r.createRun(ctx, s, name, latest); err != nil {
		return err
	}
	st.LastScheduleTime = metav1.NewTime(latest)
	st.LastRun = metav1.NewTime(s.now)
	st.LastRunName = name
	s.event(corev1.EventTypeNormal, ReasonRunStarted, "Started run %s scheduled at %s", name, latest.UTC().Format(time.RFC3339))
	st.Reason = ""
	if missed > 1 {
		st.Reason = fmt.Sprintf("missed %d scheduled runs since %s; started only the latest, at %s", missed-1, ref.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
		s.event(corev1.EventTypeWarning, ReasonMissedSchedule, "%s", st.Reason)
	}
	return nil
}

// createRun creates the SparkApplication of a run from the template: the ScheduledSparkApplication's
// labels plus sparkoperator.k8s.io/scheduled-app-name, the scheduled time, and a controller owner
// reference. A run that already exists (an earlier reconcile created it) is left as it is.
func (r *Reconciler) createRun(ctx context.Context, s *scope, name string, scheduled time.Time) error {
	labels := map[string]string{}
	for k, v := range s.ssa.Labels {
		labels[k] = v
	}
	labels[v1beta2.LabelScheduledAppName] = s.ssa.Name
	app := &v1beta2.SparkApplication{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   s.ssa.Namespace,
			Labels:      labels,
			Annotations: map[string]string{v1beta2.AnnotationScheduledTime: scheduled.UTC().Format(time.RFC3339)},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1beta2.GroupVersion.String(), Kind: "ScheduledSparkApplication",
				Name: s.ssa.Name, UID: s.ssa.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: *s.ssa.Spec.Template.DeepCopy(),
	}
	if err := r.client.Create(ctx, app); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating run %s: %w", name, err)
	}
	return nil
}

// keepHistory records the finished runs, newest first, and deletes the oldest beyond the history
// limits. Unfinished runs are never deleted.
func (r *Reconciler) keepHistory(ctx context.Context, s *scope, runs []v1beta2.SparkApplication) error {
	var succeeded, failed []*v1beta2.SparkApplication
	for i := range runs {
		switch runs[i].Status.AppState.State {
		case v1beta2.ApplicationStateCompleted:
			succeeded = append(succeeded, &runs[i])
		case v1beta2.ApplicationStateFailed:
			failed = append(failed, &runs[i])
		}
	}
	prune := func(list []*v1beta2.SparkApplication, limit *int32) ([]string, error) {
		keep := int(ptr.Deref(limit, 1))
		var names []string
		for i, a := range list {
			if i < keep {
				names = append(names, a.Name)
				continue
			}
			if a.DeletionTimestamp != nil {
				continue
			}
			if err := r.client.Delete(ctx, a, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			s.event(corev1.EventTypeNormal, ReasonRunDeleted, "Deleted run %s beyond the history limit of %d", a.Name, keep)
		}
		return names, nil
	}
	var err error
	if s.ssa.Status.PastSuccessfulRunNames, err = prune(succeeded, s.ssa.Spec.SuccessfulRunHistoryLimit); err != nil {
		return err
	}
	s.ssa.Status.PastFailedRunNames, err = prune(failed, s.ssa.Spec.FailedRunHistoryLimit)
	return err
}
