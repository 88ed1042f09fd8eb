package processnode

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// minimumGracePeriod is what a container gets between SIGTERM and SIGKILL when its preStop hook
// used up the pod's grace period: the kubelet's minimumGracePeriodInSeconds.
const minimumGracePeriod = 2 * time.Second

// stopAll stops every running container of the pod as the kubelet does when a pod is deleted or
// evicted, all containers at once: each container's preStop hook runs first (exec, httpGet or
// sleep; given at most grace), then SIGTERM, then SIGKILL once the rest of grace has passed (at
// least minimumGracePeriod when a hook ran). grace <= 0 kills at once without hooks. The wait is
// cut short (SIGKILL) when the pod disappears from the API server meanwhile (a force deletion).
func (w *podWorker) stopAll(ctx context.Context, pod *corev1.Pod, grace time.Duration) {
	specs := map[string]*corev1.Container{}
	if pod != nil {
		for i := range pod.Spec.Containers {
			specs[pod.Spec.Containers[i].Name] = &pod.Spec.Containers[i]
		}
	}
	var running []*container
	var hooks []*corev1.LifecycleHandler
	for _, c := range w.init {
		if c.running() {
			running, hooks = append(running, c), append(hooks, nil)
		}
	}
	for _, c := range w.main {
		if !c.running() {
			continue
		}
		var hook *corev1.LifecycleHandler
		if s := specs[c.name]; s != nil && s.Lifecycle != nil {
			hook = s.Lifecycle.PreStop
		}
		running, hooks = append(running, c), append(hooks, hook)
	}
	if len(running) == 0 {
		return
	}
	if grace <= 0 {
		for _, c := range running {
			c.signal(syscall.SIGKILL)
		}
		for _, c := range running {
			<-c.done
		}
		return
	}
	killNow := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stopContainer(ctx, pod, c, hooks[i], grace, killNow)
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for {
		select {
		case <-finished:
			return
		case <-ctx.Done():
			close(killNow)
			<-finished
			return
		case <-w.notify:
			if p, err := w.n.pods.Pods(w.namespace).Get(w.name); err != nil || p.UID != w.uid {
				w.n.log.Info("pod is gone while its containers stop; killing them", "pod", w.key())
				close(killNow)
				<-finished
				return
			}
		}
	}
}

// stopContainer runs c's preStop hook (when it has one) within grace, then SIGTERM, then SIGKILL
// after what is left of grace, or at once when killNow closes.
func (w *podWorker) stopContainer(ctx context.Context, pod *corev1.Pod, c *container, hook *corev1.LifecycleHandler, grace time.Duration, killNow <-chan struct{}) {
	start := time.Now()
	remaining := grace
	if hook != nil {
		hookCtx, cancel := context.WithTimeout(ctx, grace)
		go func() {
			select {
			case <-killNow:
				cancel()
			case <-hookCtx.Done():
			}
		}()
		out, err := c.runHook(hookCtx, hook, w.ip)
		cancel()
		log := w.n.log.WithValues("pod", w.key(), "container", c.name, "took", time.Since(start).Round(time.Millisecond).String())
		if err != nil && c.running() {
			// A hook that ends because its container exited (Spark's decom.sh waits for the JVM) is no failure.
			msg := fmt.Sprintf("PreStopHook failed: %v", err)
			if out != "" {
				msg += ": " + lastLines(out, 5)
			}
			log.Info("preStop hook failed", "error", err.Error(), "output", out)
			w.n.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPreStopHook", "%s", msg)
		} else {
			log.Info("preStop hook done", "output", out)
		}
		remaining = max(grace-time.Since(start), minimumGracePeriod)
	}
	c.signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(remaining):
	case <-killNow:
	}
	c.signal(syscall.SIGKILL)
	<-c.done
}

// runHook runs one lifecycle handler of the container and returns its output: exec runs the
// command inside the container (its mount, UTS, network and PID namespaces, root and working directory,
// with the container's env) through nsenter(1); httpGet is sent to the pod IP like a probe; sleep
// sleeps. It ends when ctx does.
func (c *container) runHook(ctx context.Context, h *corev1.LifecycleHandler, podIP string) (string, error) {
	switch {
	case h.Exec != nil:
		if len(h.Exec.Command) == 0 {
			return "", errors.New("exec hook without a command")
		}
		args := append([]string{"-t", strconv.Itoa(c.pid), "-m", "-u", "-n", "-p", "-r", "-w", "--"}, h.Exec.Command...)
		cmd := exec.CommandContext(ctx, "nsenter", args...)
		cmd.Env = c.env
		cmd.WaitDelay = time.Second
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			err = fmt.Errorf("not finished within the grace period: %w", ctx.Err())
		}
		return string(out), err
	case h.HTTPGet != nil:
		deadline, _ := ctx.Deadline()
		return "", runProbe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: h.HTTPGet}}, nil, podIP, time.Until(deadline))
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		}
		return "", nil
	default:
		return "", errors.New("unsupported lifecycle handler (tcpSocket)")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}
