package sparkapplication

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// The driver PodDisruptionBudget, as Kubeflow's operator (2.5, --enable-driver-pdb) creates it: when
// the operator runs with --enable-driver-pdb and the application sets spec.driverPodDisruptionBudget,
// a PodDisruptionBudget named after the driver pod, minAvailable 1, selecting the application's
// driver pods (sparkoperator.k8s.io/app-name, spark-role=driver), labelled launched-by-spark-operator
// and controlled by the SparkApplication, exists while the attempt's driver is pending or running.
// A node drain (or any other client of the Eviction API) then cannot evict a running driver. It is
// deleted when the attempt stops (retry, spec change, suspension) and when the application
// terminates, and garbage-collected with the application. The Helm chart grants the permission for
// PodDisruptionBudgets only with controller.driverPodDisruptionBudget.enable.
//
// Where this differs from Kubeflow: an application that asks for the budget while the operator runs
// without --enable-driver-pdb is not silently left unprotected: its DriverPodDisruptionBudget
// condition is False (reason DisabledInOperator) and a Warning Event says so once per attempt.

// Reasons of the DriverPodDisruptionBudget condition.
const (
	pdbReasonCreated      = "Created"
	pdbReasonDisabled     = "DisabledInOperator"
	pdbReasonCreateFailed = "CreateFailed"
)

// pdbRetryInterval is how soon a budget the API server refused is tried again.
const pdbRetryInterval = 30 * time.Second

// wantsDriverPDB reports whether the application asks for a driver PodDisruptionBudget.
func wantsDriverPDB(app *v1beta2.SparkApplication) bool {
	return ptr.Deref(app.Spec.DriverPodDisruptionBudget, false)
}

// DriverPDB returns the driver PodDisruptionBudget of app as the controller creates it (without its
// owner reference): name = the driver pod's, minAvailable 1, selecting the application's driver pods.
func DriverPDB(app *v1beta2.SparkApplication) *policyv1.PodDisruptionBudget {
	minAvailable := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{
			Name:      submission.DriverPodName(app),
			Namespace: app.Namespace,
			Labels: map[string]string{
				v1beta2.LabelLaunchedBySparkOperator: "true",
				v1beta2.LabelAppName:                 app.Name,
			},
		},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: &minAvailable,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{
				v1beta2.LabelAppName:   app.Name,
				v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver,
			}},
		},
	}
}

// ensureDriverPDB converges the driver budget of a pending or running attempt to what the spec and
// the operator's flag ask for, and states it in the DriverPodDisruptionBudget condition. It never
// fails the reconcile: a budget the API server refuses is reported in the condition (reason
// CreateFailed) and tried again after pdbRetryInterval.
func (r *Reconciler) ensureDriverPDB(ctx context.Context, s *scope) error {
	app := s.app
	if !wantsDriverPDB(app) {
		meta.RemoveStatusCondition(&app.Status.Conditions, v1beta2.ConditionDriverPodDisruptionBudget)
		if r.opts.EnableDriverPDB {
			// The spec no longer asks for it (Kubeflow converges the same way).
			return r.deleteDriverPDB(ctx, s)
		}
		return nil
	}
	if !r.opts.EnableDriverPDB {
		msg := "spec.driverPodDisruptionBudget is true but the operator runs without --enable-driver-pdb " +
			"(chart value controller.driverPodDisruptionBudget.enable): no PodDisruptionBudget protects the driver from eviction"
		if r.setPDBCondition(s, metav1.ConditionFalse, pdbReasonDisabled, msg) {
			s.event(corev1.EventTypeWarning, ReasonDriverPDBDisabled, "%s", msg)
		}
		return nil
	}
	want := DriverPDB(app)
	existing := &policyv1.PodDisruptionBudget{}
	err := r.client.Get(ctx, client.ObjectKeyFromObject(want), existing)
	switch {
	case err == nil:
		if !ownedBy(existing, app) {
			r.setPDBCondition(s, metav1.ConditionFalse, pdbReasonCreateFailed,
				fmt.Sprintf("a PodDisruptionBudget %s not owned by this application is in the way; delete or rename it", want.Name))
			s.requeue(pdbRetryInterval)
			return nil
		}
	case apierrors.IsNotFound(err):
		want.OwnerReferences = []metav1.OwnerReference{submission.ApplicationOwner(app)}
		if err := r.client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			s.log.Error(err, "Creating the driver PodDisruptionBudget; tried again later", "podDisruptionBudget", want.Name)
			r.setPDBCondition(s, metav1.ConditionFalse, pdbReasonCreateFailed, fmt.Sprintf("creating PodDisruptionBudget %s: %v", want.Name, err))
			s.requeue(pdbRetryInterval)
			return nil
		}
		s.log.V(1).Info("Created the driver PodDisruptionBudget", "podDisruptionBudget", want.Name)
	default:
		return err
	}
	r.setPDBCondition(s, metav1.ConditionTrue, pdbReasonCreated,
		fmt.Sprintf("PodDisruptionBudget %s (minAvailable 1) keeps the driver from voluntary eviction", want.Name))
	return nil
}

// setPDBCondition sets the DriverPodDisruptionBudget condition and reports whether it is new or
// changed since the application was read (so that its Event is recorded once).
func (r *Reconciler) setPDBCondition(s *scope, status metav1.ConditionStatus, reason, message string) bool {
	old := meta.FindStatusCondition(s.orig.Status.Conditions, v1beta2.ConditionDriverPodDisruptionBudget)
	meta.SetStatusCondition(&s.app.Status.Conditions, metav1.Condition{
		Type: v1beta2.ConditionDriverPodDisruptionBudget, Status: status, Reason: reason, Message: message,
		ObservedGeneration: s.app.Generation, LastTransitionTime: metav1.NewTime(s.now),
	})
	return old == nil || old.Status != status || old.Reason != reason
}

// deleteDriverPDB deletes the driver budget of the application when it has one (the attempt ended:
// retry, spec change, suspension, termination) and drops the condition. Without --enable-driver-pdb
// it does nothing (no budget was created; one left from before the flag was turned off goes with the
// application, as in Kubeflow).
func (r *Reconciler) deleteDriverPDB(ctx context.Context, s *scope) error {
	meta.RemoveStatusCondition(&s.app.Status.Conditions, v1beta2.ConditionDriverPodDisruptionBudget)
	if !r.opts.EnableDriverPDB {
		return nil
	}
	pdb := &policyv1.PodDisruptionBudget{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: s.app.Namespace, Name: submission.DriverPodName(s.app)}, pdb)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if !ownedBy(pdb, s.app) {
		return nil
	}
	s.log.V(1).Info("Deleting the driver PodDisruptionBudget", "podDisruptionBudget", pdb.Name)
	if err := r.client.Delete(ctx, pdb, client.Preconditions{UID: &pdb.UID}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting PodDisruptionBudget %s: %w", pdb.Name, err)
	}
	return nil
}
