package sparkapplication

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/submission"
)

// The objects of the batch schedulers (internal/batchscheduler): Volcano's and scheduler-plugins'
// PodGroups, created before the driver, brought up to date on resubmission and deleted when the
// application ends. The operator neither lists nor watches them.
// +kubebuilder:rbac:groups=scheduling.volcano.sh,resources=podgroups,verbs=get;create;update;patch;delete
// +kubebuilder:rbac:groups=scheduling.x-k8s.io,resources=podgroups,verbs=get;create;update;patch;delete
// The "kubernetes" scheduler's Workloads and PodGroups (scheduling.k8s.io/v1alpha2) are per submission:
// created, listed (uncached) to delete those of earlier submissions, and deleted.
// +kubebuilder:rbac:groups=scheduling.k8s.io,resources=workloads;podgroups,verbs=get;list;create;delete

// prepareBatchScheduling hands the rendered submission to the application's batch scheduler, if any:
// the scheduler adapts the pods, and its objects are created (or updated) before the driver. It
// returns a non-empty message when the submission must fail (a scheduler the operator does not
// handle, options it cannot honour, a scheduler CRD that is not installed, an object refused).
func (r *Reconciler) prepareBatchScheduling(ctx context.Context, s *scope, res *submission.Resources) (string, error) {
	sched, _, err := r.opts.BatchSchedulers.Resolve(s.app)
	if err != nil {
		return err.Error(), nil
	}
	if sched == nil {
		return "", nil
	}
	objs, err := batchscheduler.Prepare(sched, s.app, res)
	if err != nil {
		return fmt.Sprintf("batch scheduler %s: %v", sched.Name(), err), nil
	}
	perSubmission, _ := sched.(batchscheduler.PerSubmission)
	for _, obj := range objs {
		var err error
		if perSubmission != nil {
			err = r.createObject(ctx, obj)
		} else {
			err = r.ensureObject(ctx, obj)
		}
		if err != nil {
			if meta.IsNoMatchError(err) || runtime.IsNotRegisteredError(err) {
				gvk := obj.GetObjectKind().GroupVersionKind()
				if req, ok := sched.(batchscheduler.APIRequirer); ok {
					return fmt.Sprintf("batch scheduler %s: the API server does not serve %s %s: it needs %s; or choose another spec.batchScheduler",
						sched.Name(), gvk.Kind, gvk.GroupVersion(), req.Requires()), nil
				}
				return fmt.Sprintf("batch scheduler %s: the API server does not serve %s %s: install the scheduler (its CRDs) or choose another spec.batchScheduler",
					sched.Name(), gvk.Kind, gvk.GroupVersion()), nil
			}
			if isPermanent(err) || errors.Is(err, errNotOwned) {
				return fmt.Sprintf("batch scheduler %s: %v", sched.Name(), err), nil
			}
			return "", err
		}
	}
	if perSubmission != nil {
		// The objects of earlier submissions (an earlier attempt, a spec since changed) hold nothing
		// the new one needs.
		if err := perSubmission.Sweep(ctx, r.uncachedClient(), s.app, res.DriverPod.Labels[v1beta2.LabelSubmissionID]); err != nil && !meta.IsNoMatchError(err) {
			return "", fmt.Errorf("batch scheduler %s: deleting the objects of earlier submissions: %w", sched.Name(), err)
		}
	}
	return "", nil
}

// createObject creates obj; one that exists already is this submission's (its name is per
// submission and a retried reconcile renders the same submission again), kept as it is.
func (r *Reconciler) createObject(ctx context.Context, obj client.Object) error {
	if err := r.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// uncachedClient is the reconciler's client with reads from the API server (the manager's API
// reader), so that listing a batch scheduler's objects starts no informer (which would need watch
// permission and keep them all in memory). Without a manager (unit tests) it is the client itself.
func (r *Reconciler) uncachedClient() client.Client {
	if r.apiReader == nil {
		return r.client
	}
	return uncachedClient{Client: r.client, reader: r.apiReader}
}

// uncachedClient is a client.Client whose Get and List go to reader.
type uncachedClient struct {
	client.Client
	reader client.Reader
}

func (c uncachedClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.reader.Get(ctx, key, obj, opts...)
}

func (c uncachedClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return c.reader.List(ctx, list, opts...)
}

// errNotOwned says that an object the application needs exists but belongs to something else.
var errNotOwned = errors.New("does not belong to this application")

// ensureObject creates obj, or when it exists already (an earlier attempt of the application made
// it), sets its spec to obj's with a merge patch, leaving the status (which a scheduler may keep in
// the main resource) alone. An object of that name that the application does not own is an error.
func (r *Reconciler) ensureObject(ctx context.Context, obj client.Object) error {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	err := r.client.Create(ctx, obj)
	if err == nil || !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("creating %s %s: %w", kind, obj.GetName(), err)
		}
		return nil
	}
	gvk, err := apiutil.GVKForObject(obj, r.client.Scheme())
	if err != nil {
		return err
	}
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(gvk)
	if err := r.client.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return fmt.Errorf("reading %s %s: %w", kind, obj.GetName(), err)
	}
	if owner := metav1ControllerUID(obj); owner != "" && metav1ControllerUID(existing) != owner {
		return fmt.Errorf("%s %s exists and %w; delete or rename it", kind, obj.GetName(), errNotOwned)
	}
	want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(existing.Object["spec"], want["spec"]) {
		return nil
	}
	orig := existing.DeepCopy()
	existing.Object["spec"] = want["spec"]
	if err := r.client.Patch(ctx, existing, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("updating %s %s: %w", kind, obj.GetName(), err)
	}
	return nil
}

// metav1ControllerUID is the UID of obj's controller owner, "" for none.
func metav1ControllerUID(obj client.Object) string {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return string(ref.UID)
		}
	}
	return ""
}

// cleanupBatchScheduling deletes the batch scheduler's objects of an application that has just
// terminated or been suspended, so that its pod group no longer holds a queue's capacity. Objects
// already gone, and kinds no longer installed, need nothing more.
func (r *Reconciler) cleanupBatchScheduling(ctx context.Context, s *scope) error {
	sched, _, err := r.opts.BatchSchedulers.Resolve(s.app)
	if err != nil || sched == nil {
		return nil
	}
	if ps, ok := sched.(batchscheduler.PerSubmission); ok {
		if err := ps.Sweep(ctx, r.uncachedClient(), s.app, ""); err != nil && !meta.IsNoMatchError(err) {
			return fmt.Errorf("batch scheduler %s: %w", sched.Name(), err)
		}
	}
	for _, obj := range sched.Cleanup(s.app) {
		if err := r.deleteOwned(ctx, obj, s.app.UID); err != nil {
			return fmt.Errorf("deleting %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	}
	return nil
}

// deleteOwned deletes the object named like obj if the application whose UID is owner controls it
// (a group of the same name that belongs to something else is left alone). An object or a kind
// that is gone needs nothing more.
func (r *Reconciler) deleteOwned(ctx context.Context, obj client.Object, owner types.UID) error {
	gvk, err := apiutil.GVKForObject(obj, r.client.Scheme())
	if err != nil {
		return err
	}
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(gvk)
	err = r.client.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if metav1ControllerUID(existing) != string(owner) {
		return nil
	}
	uid := existing.GetUID()
	if err := r.client.Delete(ctx, existing, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	return nil
}

// batchSchedulingNotice records, with a submission, the Warning event saying that the application's
// spec.batchScheduler or spec.batchSchedulerOptions has no effect, if that is so.
func (r *Reconciler) batchSchedulingNotice(s *scope) {
	if _, notice, _ := r.opts.BatchSchedulers.Resolve(s.app); notice != "" {
		s.event(corev1.EventTypeWarning, ReasonBatchSchedulerNotHandled, "%s", notice)
	}
}
