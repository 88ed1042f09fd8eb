package sparkconnect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/internal/submission"
)

// The server pod's life, decided from the pod and the previous state:
//   - no pod: render and create it (then its ConfigMaps, headless Service and the client Service);
//   - a pod of an older generation: delete it (the spec changed); a new one follows once it is gone;
//   - a pod that terminated after the server had been Ready: delete it; a new one follows (restart);
//   - a pod that terminated before it was ever Ready, or that cannot start (an invalid image name,
//     a container it cannot create, an image that fails to pull for Options.ImagePullTimeout): the
//     SparkConnect is Failed with the reason until its spec changes. A terminated pod is kept for its
//     log; one that cannot start is deleted.

// fatalWaiting are the container waiting reasons from which a server pod never starts.
var fatalWaiting = map[string]bool{"InvalidImageName": true, "ErrImageNeverPull": true, "CreateContainerConfigError": true, "CreateContainerError": true}

// pullWaiting are the waiting reasons of an image that does not pull (yet).
var pullWaiting = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true}

// errStale is reconcileServer's answer when the cached SparkConnect is older than the API server's:
// the reconcile is retried shortly, on a fresher cache.
var errStale = errors.New("the cached SparkConnect is stale")

// reconcileServer applies the policy above, recording the outcome in s (s.pod, s.failure, events).
func (r *Reconciler) reconcileServer(ctx context.Context, s *scope) error {
	conn := s.conn
	gen := strconv.FormatInt(conn.Generation, 10)
	failedThisGeneration := s.orig.Status.State == v1alpha1.SparkConnectStateFailed && failedGeneration(s.orig) == conn.Generation
	pod := &corev1.Pod{}
	err := r.client.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: ServerPodName(conn)}, pod)
	switch {
	case apierrors.IsNotFound(err):
		if failedThisGeneration {
			s.failure = failedMessage(s.orig)
			return nil
		}
		return r.createServer(ctx, s)
	case err != nil:
		return err
	}
	s.pod = pod
	switch {
	case !metav1.IsControlledBy(pod, conn):
		s.failure = fmt.Sprintf("pod %s exists and is not this SparkConnect's server; delete it or rename the SparkConnect", pod.Name)
		return nil
	case pod.DeletionTimestamp != nil:
		if failedThisGeneration {
			s.failure = failedMessage(s.orig)
		}
		return nil // a new server follows once it is gone (its deletion is a watched event)
	case revisionGeneration(pod) != gen:
		s.event(corev1.EventTypeNormal, ReasonServerReplaced, "the spec changed (generation %s): replacing server pod %s", gen, pod.Name)
		return r.deletePod(ctx, s)
	case failedThisGeneration:
		s.failure = failedMessage(s.orig)
		return nil
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		return r.serverTerminated(ctx, s)
	}
	return r.serverStarting(ctx, s)
}

// serverTerminated restarts a server that had been Ready, and fails one that never was.
func (r *Reconciler) serverTerminated(ctx context.Context, s *scope) error {
	why := terminationMessage(s.pod)
	if st := s.orig.Status.State; st == v1alpha1.SparkConnectStateReady || st == v1alpha1.SparkConnectStateNotReady {
		s.event(corev1.EventTypeWarning, ReasonServerRestarted, "server pod %s terminated (%s): starting a new one", s.pod.Name, why)
		ns := s.conn.Namespace
		s.observe = append(s.observe, func() { s.metrics.ServerRestarted(ns) })
		return r.deletePod(ctx, s)
	}
	s.failure = "the server terminated before it was ready: " + why
	return nil
}

// serverStarting checks a pending or running server pod for what keeps it from starting, and makes
// sure its ConfigMaps and headless Service exist while it is pending.
func (r *Reconciler) serverStarting(ctx context.Context, s *scope) error {
	for _, cs := range s.pod.Status.ContainerStatuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		if fatalWaiting[w.Reason] {
			s.failure = fmt.Sprintf("container %s cannot start: %s: %s", cs.Name, w.Reason, w.Message)
			return r.deletePod(ctx, s)
		}
		if pullWaiting[w.Reason] {
			waited := s.now.Sub(s.pod.CreationTimestamp.Time)
			if waited >= r.opts.ImagePullTimeout {
				s.failure = fmt.Sprintf("image %s of container %s did not pull within %s: %s: %s", cs.Image, cs.Name, r.opts.ImagePullTimeout, w.Reason, w.Message)
				return r.deletePod(ctx, s)
			}
			s.requeue(r.opts.ImagePullTimeout - waited)
		}
	}
	if s.pod.Status.Phase == corev1.PodPending || s.pod.Status.Phase == "" {
		return r.ensureServerObjects(ctx, s)
	}
	return nil
}

// createServer renders a new revision and creates the server pod, then its dependents. It first
// checks that the cached SparkConnect is current (errStale otherwise), and takes a pod that exists
// already (the cache has not seen it yet) as started.
func (r *Reconciler) createServer(ctx context.Context, s *scope) error {
	conn := s.conn
	fresh := &v1alpha1.SparkConnect{}
	if err := r.opts.APIReader.Get(ctx, client.ObjectKeyFromObject(conn), fresh); err != nil {
		return client.IgnoreNotFound(err)
	}
	if fresh.ResourceVersion != conn.ResourceVersion {
		return errStale
	}
	revision := fmt.Sprintf("%d/%d", conn.Generation, s.now.UnixNano())
	res, err := renderServer(conn, revision, s.now, r.opts.Submission)
	var fe *submission.FieldError
	if errors.As(err, &fe) {
		// The submitter names the application's fields; the server's settings are spec.server's.
		s.failure = strings.Replace(err.Error(), "spec.driver", "spec.server", 1)
		return nil
	} else if err != nil {
		return err
	}
	pod := res.DriverPod
	if err := r.client.Create(ctx, pod); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return errStale
		}
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) && !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			s.failure = "creating the server pod: " + err.Error()
			return nil
		}
		return err
	}
	s.pod = pod
	s.event(corev1.EventTypeNormal, ReasonServerCreated, "server pod %s created (Spark %s)", pod.Name, conn.Spec.SparkVersion)
	ns := conn.Namespace
	s.observe = append(s.observe, func() { s.metrics.ServerStarted(ns) })
	if err := r.createDependents(ctx, res); err != nil {
		return err
	}
	return r.applyService(ctx, s)
}

// ensureServerObjects creates, for a pending server pod, the dependents a previous reconcile may not
// have created (it failed or the operator stopped between the pod and them): rendered again from the
// pod's revision, they are the same objects. The conf ConfigMap, created first, is looked up in the
// cache, so a pod whose dependents exist costs no write.
func (r *Reconciler) ensureServerObjects(ctx context.Context, s *scope) error {
	res, err := renderServer(s.conn, s.pod.Annotations[AnnotationRevision], s.pod.CreationTimestamp.Time, r.opts.Submission)
	if err != nil {
		return nil // the pod was rendered from this spec once; nothing more to do
	}
	cm := &corev1.ConfigMap{}
	err = r.client.Get(ctx, client.ObjectKeyFromObject(res.ConfConfigMap), cm)
	if err == nil || !apierrors.IsNotFound(err) {
		return err
	}
	res.DriverPod.UID = s.pod.UID
	return r.createDependents(ctx, res)
}

// createDependents creates the server pod's ConfigMaps and headless Service, owned by the pod as
// spark-submit owns them, so that they go with it.
func (r *Reconciler) createDependents(ctx context.Context, res *submission.Resources) error {
	owned := res.DriverOwned()
	submission.OwnDriverResources(res.DriverPod, owned...)
	for _, o := range owned {
		if err := r.client.Create(ctx, o.(client.Object)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// deletePod deletes the server pod (precondition: its UID), so that a new one can be started.
func (r *Reconciler) deletePod(ctx context.Context, s *scope) error {
	err := r.client.Delete(ctx, s.pod, client.Preconditions{UID: &s.pod.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	s.pod = nil
	return nil
}

// terminationMessage says how the server container (else the pod) ended, in Kubeflow's wording for
// drivers: "server container failed with ExitCode: 1, Reason: Error".
func terminationMessage(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && cs.Name == serverContainer {
			msg := fmt.Sprintf("server container failed with ExitCode: %d, Reason: %s", t.ExitCode, t.Reason)
			if t.Message != "" {
				msg += ": " + t.Message
			}
			return msg
		}
	}
	if pod.Status.Reason != "" || pod.Status.Message != "" {
		return fmt.Sprintf("pod %s: %s %s", pod.Status.Phase, pod.Status.Reason, pod.Status.Message)
	}
	return "pod " + string(pod.Status.Phase)
}

// failedGeneration is the generation a Failed SparkConnect failed at (its condition's
// observedGeneration).
func failedGeneration(conn *v1alpha1.SparkConnect) int64 {
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); c != nil {
		return c.ObservedGeneration
	}
	return 0
}

// failedMessage is the recorded reason of a Failed SparkConnect.
func failedMessage(conn *v1alpha1.SparkConnect) string {
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); c != nil {
		return c.Message
	}
	return "failed"
}

// serverReady reports whether the server pod runs and its Spark container is ready (its readiness
// probe on port 15002 passes).
func serverReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == serverContainer {
			return cs.Ready
		}
	}
	return false
}
