package processnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// podWorker owns one pod on the node, from its first sight to its final deletion; all its state
// is touched by its own goroutine only (container exits arrive as wake-ups).
type podWorker struct {
	n         *Node
	uid       types.UID
	namespace string
	name      string
	nodeName  string
	notify    chan struct{}

	dir        string
	ip         string
	netns      string // path of the pod's network namespace; "" on the host's (loopback addresses)
	startTime  metav1.Time
	volumes    *podVolumes
	mountErr   string
	mountEvent bool
	initIndex  int // init containers done so far
	init       map[string]*container
	main       map[string]*container
	lastStatus *corev1.PodStatus
}

func newPodWorker(n *Node, pod *corev1.Pod) *podWorker {
	return &podWorker{
		n: n, uid: pod.UID, namespace: pod.Namespace, name: pod.Name, nodeName: pod.Spec.NodeName,
		notify: make(chan struct{}, 1),
		dir:    filepath.Join(n.cfg.StateDir, "pods", string(pod.UID)),
		init:   map[string]*container{}, main: map[string]*container{},
	}
}

func (w *podWorker) wake() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *podWorker) key() string { return w.namespace + "/" + w.name }

func (w *podWorker) run(ctx context.Context) {
	log := w.n.log.WithValues("pod", w.key())
	defer func() {
		w.n.hosts.remove(w.uid)
		w.n.network.remove(w.uid)
		w.volumes.stop()
		// The pod is gone (or the node stops): its volumes, logs and container specs go too.
		_ = os.RemoveAll(w.dir)
	}()
	w.wake()
	resync := time.NewTicker(5 * time.Second)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			w.stopAll(ctx, nil, 0)
			return
		case <-w.notify:
		case <-resync.C:
		}
		pod, err := w.n.pods.Pods(w.namespace).Get(w.name)
		if err != nil || pod.UID != w.uid {
			// Gone from the API server (force-deleted): nothing to report, stop at once.
			log.Info("pod is gone; killing its containers")
			w.stopAll(ctx, nil, 0)
			return
		}
		if pod.DeletionTimestamp != nil {
			grace := int64(30)
			if pod.DeletionGracePeriodSeconds != nil {
				grace = *pod.DeletionGracePeriodSeconds
			}
			log.Info("pod is being deleted; stopping its containers", "gracePeriodSeconds", grace)
			w.stopAll(ctx, pod, time.Duration(grace)*time.Second)
			w.updateStatus(ctx, pod)
			w.n.finalDelete(ctx, pod)
			return
		}
		w.sync(ctx, pod)
		w.updateStatus(ctx, pod)
	}
}

// sync moves the pod forward: sandbox (IP, hosts file), volumes, init containers one by one,
// then every container, restarting them by the pod's restartPolicy.
func (w *podWorker) sync(ctx context.Context, pod *corev1.Pod) {
	if w.ip == "" {
		if pod.Status.Phase == corev1.PodRunning || len(pod.Status.ContainerStatuses) > 0 && pod.Status.PodIP != "" {
			// Started by an earlier run of the process node: its processes are gone.
			w.ip = pod.Status.PodIP
			w.startTime = ptr.Deref(pod.Status.StartTime, metav1.Now())
			for _, c := range pod.Spec.Containers {
				w.main[c.Name] = &container{name: c.Name, lost: true, exitCode: 137, reason: "ContainerStatusUnknown",
					message: "the process node restarted; the container's process is gone", finishedAt: time.Now().Truncate(time.Second)}
			}
			w.initIndex = len(pod.Spec.InitContainers)
			return
		}
		if err := os.MkdirAll(w.dir, 0o755); err != nil {
			w.mountErr = err.Error()
			return
		}
		ip, netns, err := w.n.podAddress(pod)
		if err != nil {
			w.mountErr = err.Error()
			return
		}
		w.ip, w.netns = ip, netns
		w.startTime = metav1.NewTime(time.Now().Truncate(time.Second))
		w.n.hosts.add(w.uid, pod, w.ip, filepath.Join(w.dir, "hosts"))
	}
	if w.phase(pod) == corev1.PodSucceeded || w.phase(pod) == corev1.PodFailed {
		return
	}
	if w.volumes == nil {
		vols, err := setupVolumes(ctx, w.n.client, pod, filepath.Join(w.dir, "volumes"))
		if err != nil {
			w.mountErr = err.Error()
			if !w.mountEvent {
				w.mountEvent = true
				w.n.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedMount", "%s", err.Error())
			}
			return
		}
		w.volumes, w.mountErr = vols, ""
	}
	// Init containers, in order; a failed one is retried unless restartPolicy is Never.
	for w.initIndex < len(pod.Spec.InitContainers) {
		spec := pod.Spec.InitContainers[w.initIndex]
		c := containerIn(w.init, spec.Name)
		if c.running() || c.waitingUntil.After(time.Now()) {
			return
		}
		if c.exited() {
			if c.exitCode == 0 {
				w.initIndex++
				continue
			}
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				return
			}
		}
		w.start(ctx, pod, &spec, c)
		return
	}
	for i := range pod.Spec.Containers {
		spec := &pod.Spec.Containers[i]
		c := containerIn(w.main, spec.Name)
		if c.running() || c.waitingUntil.After(time.Now()) {
			continue
		}
		if c.exited() && !restarts(pod.Spec.RestartPolicy, c.exitCode) {
			continue
		}
		w.start(ctx, pod, spec, c)
	}
}

// containerIn returns the container called name in m (containers by name), added when missing.
func containerIn(m map[string]*container, name string) *container {
	c := m[name]
	if c == nil {
		c = &container{name: name}
		m[name] = c
	}
	return c
}

func restarts(policy corev1.RestartPolicy, exitCode int) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	default:
		return true
	}
}

// start starts (or restarts) container c; errors that the kubelet would report as a waiting
// reason (no image, bad env reference) leave c waiting with a back-off.
func (w *podWorker) start(ctx context.Context, pod *corev1.Pod, spec *corev1.Container, c *container) {
	if c.exited() {
		// A restart: keep the last termination and back off like the kubelet (10 s doubling, max 5 min).
		finished := c.finishedAt
		c.restartCount++
		c.last = c.terminatedState()
		c.reset()
		backoff := min(10*time.Second<<min(c.restartCount-1, 5), 5*time.Minute)
		if time.Since(finished) < backoff {
			c.waitingReason, c.waitingMessage = "CrashLoopBackOff",
				fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", backoff, spec.Name, pod.Name)
			c.waitingUntil = finished.Add(backoff)
			time.AfterFunc(time.Until(c.waitingUntil), w.wake)
			return
		}
	}
	img, err := w.n.images.Resolve(spec.Image)
	if err != nil {
		c.waitingReason, c.waitingMessage = "ErrImagePull", err.Error()
		if !c.pullEvent {
			c.pullEvent = true
			w.n.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", spec.Image, err)
		}
		c.waitingUntil = time.Now().Add(10 * time.Second)
		time.AfterFunc(10*time.Second, w.wake)
		return
	}
	cspec, err := w.containerSpec(ctx, pod, spec, img)
	if err != nil {
		c.waitingReason, c.waitingMessage = "CreateContainerConfigError", err.Error()
		c.waitingUntil = time.Now().Add(5 * time.Second)
		time.AfterFunc(5*time.Second, w.wake)
		return
	}
	if err := c.start(w.n.cfg.InitBinary, filepath.Join(w.dir, "containers", spec.Name), cspec, w.wake); err != nil {
		c.waitingReason, c.waitingMessage = "RunContainerError", err.Error()
		c.waitingUntil = time.Now().Add(5 * time.Second)
		time.AfterFunc(5*time.Second, w.wake)
		return
	}
	c.imageID, c.env = img.ID, cspec.Env
	if spec.ReadinessProbe != nil {
		go c.probeReadiness(spec.ReadinessProbe.DeepCopy(), spec.Ports, w.ip, w.wake)
	}
	w.n.recorder.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s", spec.Name)
}

// containerSpec is the init's view of a container: root file system mounts, env and argv.
func (w *podWorker) containerSpec(ctx context.Context, pod *corev1.Pod, spec *corev1.Container, img *Image) (*ContainerSpec, error) {
	env, err := containerEnv(ctx, w.n.client, pod, spec, img, w.ip, w.n.proxyIP, w.n.proxyPort)
	if err != nil {
		return nil, err
	}
	argv := commandLine(spec, img, env)
	mounts := hostBaseMounts(img.HostPaths)
	mounts = append(mounts, img.Mounts...)
	mounts = append(mounts, Mount{Kind: "bind", Source: filepath.Join(w.dir, "hosts"), Target: "/etc/hosts", ReadOnly: true})
	volMounts, err := w.volumes.mounts(spec)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, volMounts...)
	dir := spec.WorkingDir
	if dir == "" {
		dir = img.WorkingDir
	}
	root := filepath.Join(w.dir, "root", spec.Name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &ContainerSpec{Root: root, Hostname: podHostname(pod), Mounts: mounts, Dir: dir, Env: env, Argv: argv, NetNS: w.netns}, nil
}

func podHostname(pod *corev1.Pod) string {
	h := pod.Name
	if pod.Spec.Hostname != "" {
		h = pod.Spec.Hostname
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// phase follows the kubelet's rules for the pod's containers as they are here.
func (w *podWorker) phase(pod *corev1.Pod) corev1.PodPhase {
	if w.initIndex < len(pod.Spec.InitContainers) {
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			if c := w.init[pod.Spec.InitContainers[w.initIndex].Name]; c != nil && c.exited() && c.exitCode != 0 {
				return corev1.PodFailed
			}
		}
		return corev1.PodPending
	}
	running, succeeded, failed, waiting := 0, 0, 0, 0
	for _, spec := range pod.Spec.Containers {
		c := w.main[spec.Name]
		switch {
		case c == nil || (!c.running() && !c.exited()):
			waiting++
		case c.running():
			running++
		case c.exitCode == 0:
			succeeded++
		default:
			failed++
		}
	}
	switch {
	case waiting > 0 && running == 0 && succeeded == 0 && failed == 0:
		return corev1.PodPending
	case running > 0 || waiting > 0:
		return corev1.PodRunning
	case pod.Spec.RestartPolicy == corev1.RestartPolicyAlways:
		return corev1.PodRunning // about to restart
	case failed > 0 && pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
		return corev1.PodFailed
	case failed > 0:
		return corev1.PodRunning // OnFailure: about to restart
	default:
		return corev1.PodSucceeded
	}
}

// status is the pod status as the kubelet would report it.
func (w *podWorker) status(pod *corev1.Pod) *corev1.PodStatus {
	st := &corev1.PodStatus{Phase: w.phase(pod), HostIP: "127.0.0.1", HostIPs: []corev1.HostIP{{IP: "127.0.0.1"}}}
	st.QOSClass = pod.Status.QOSClass
	if w.ip != "" {
		st.PodIP, st.PodIPs = w.ip, []corev1.PodIP{{IP: w.ip}}
		st.StartTime = &w.startTime
	}
	for _, spec := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, w.containerStatus(spec, w.init[spec.Name], "PodInitializing"))
	}
	allReady := true
	for _, spec := range pod.Spec.Containers {
		reason := "ContainerCreating"
		if w.initIndex < len(pod.Spec.InitContainers) {
			reason = "PodInitializing"
		}
		cs := w.containerStatus(spec, w.main[spec.Name], reason)
		if w.mountErr != "" && cs.State.Waiting != nil && cs.State.Waiting.Reason == "ContainerCreating" {
			cs.State.Waiting.Message = w.mountErr
		}
		allReady = allReady && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	// Conditions: keep the ones others own (PodScheduled, readiness gates), set ours.
	for _, c := range pod.Status.Conditions {
		switch c.Type {
		case corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodReadyToStartContainers:
		default:
			st.Conditions = append(st.Conditions, c)
		}
	}
	ready := allReady && st.Phase == corev1.PodRunning
	initialized := w.initIndex >= len(pod.Spec.InitContainers)
	for _, c := range []struct {
		t  corev1.PodConditionType
		ok bool
	}{{corev1.PodReadyToStartContainers, w.ip != "" && st.Phase != corev1.PodSucceeded && st.Phase != corev1.PodFailed},
		{corev1.PodInitialized, initialized}, {corev1.ContainersReady, ready}, {corev1.PodReady, ready}} {
		st.Conditions = append(st.Conditions, podCondition(pod, c.t, c.ok))
	}
	return st
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType, ok bool) corev1.PodCondition {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	cond := corev1.PodCondition{Type: t, Status: status, LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))}
	for _, old := range pod.Status.Conditions {
		if old.Type == t && old.Status == status {
			cond.LastTransitionTime = old.LastTransitionTime
		}
	}
	return cond
}

func (w *podWorker) containerStatus(spec corev1.Container, c *container, waitingReason string) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: spec.Name, Image: spec.Image, ImageID: "", Started: ptr.To(false)}
	if c == nil {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waitingReason}
		return cs
	}
	cs.RestartCount = int32(c.restartCount)
	cs.ImageID = c.imageID
	cs.LastTerminationState.Terminated = c.last
	switch {
	case c.running():
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.startedAt)}
		cs.Started, cs.Ready = ptr.To(true), spec.ReadinessProbe == nil || c.ready.Load()
		cs.ContainerID = c.id()
	case c.exited():
		cs.State.Terminated = c.terminatedState()
		cs.ContainerID = c.id()
	case c.waitingReason != "":
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitingReason, Message: c.waitingMessage}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waitingReason}
	}
	return cs
}

// updateStatus writes the pod's status when it changed, as a merge patch of the status
// subresource (lists are replaced whole; the conditions list keeps others' conditions).
func (w *podWorker) updateStatus(ctx context.Context, pod *corev1.Pod) {
	st := w.status(pod)
	if w.lastStatus != nil && apiequality.Semantic.DeepEqual(st, w.lastStatus) {
		return
	}
	if apiequality.Semantic.DeepEqual(st, &pod.Status) {
		w.lastStatus = st
		return
	}
	patch, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return
	}
	_, err = w.n.client.CoreV1().Pods(w.namespace).Patch(ctx, w.name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	switch {
	case err == nil:
		w.lastStatus = st
	case apierrors.IsNotFound(err), errors.Is(err, context.Canceled):
	default:
		w.n.log.Error(err, "updating pod status", "pod", w.key())
		time.AfterFunc(time.Second, w.wake)
	}
}
