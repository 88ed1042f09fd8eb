package sparkctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
)

// LogOptions are the flags and arguments of `sparkctl log`.
type LogOptions struct {
	target
	// Executor is the executor id whose log to show; negative means the driver.
	Executor int
	// Follow streams the log until the container ends (waiting for it to start first).
	Follow bool
	// Container overrides the container (default: the Spark container).
	Container string
	// Previous shows the pod of an earlier attempt, when it still exists.
	Previous bool
	// Timestamps prefixes each line with its time.
	Timestamps bool
	// Tail is the number of last lines to show; negative shows all.
	Tail int64
	// PodRunningTimeout bounds how long --follow waits for the container to start.
	PodRunningTimeout time.Duration
}

// NewLogCommand returns `sparkctl log`.
func NewLogCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &LogOptions{target: newTarget(f, streams, nil), Executor: -1, Tail: -1, PodRunningTimeout: 2 * time.Minute}
	cmd := oneAppCommand(f, o, &cobra.Command{
		Use:     "log NAME",
		Aliases: []string{"logs"},
		Short:   "Print the log of the driver or an executor of an application",
		Long: `Print the log of the Spark container of the application's driver pod, or with --executor N of
executor N of the current attempt. --follow streams it until the container ends, waiting for a
pod that has not started yet.

--previous shows the pod of an earlier attempt, when one is still there (the operator deletes an
attempt's driver, and with it its executors, before it starts the next one, so usually none is).`,
		Example: `  sparkctl log spark-pi
  sparkctl log spark-pi --follow
  sparkctl log spark-pi --executor 2 --tail 100`,
	})
	fl := cmd.Flags()
	fl.IntVarP(&o.Executor, "executor", "e", -1, "show executor N (its spark-exec-id) instead of the driver")
	fl.BoolVarP(&o.Follow, "follow", "f", false, "stream the log until the container ends")
	fl.StringVarP(&o.Container, "container", "c", "", "container to show (default: the Spark container)")
	fl.BoolVar(&o.Previous, "previous", false, "show the pod of an earlier attempt, if it still exists")
	fl.BoolVar(&o.Timestamps, "timestamps", false, "prefix each line with its time")
	fl.Int64Var(&o.Tail, "tail", -1, "show only the last N lines (-1: all)")
	fl.DurationVar(&o.PodRunningTimeout, "pod-running-timeout", o.PodRunningTimeout, "how long --follow waits for the pod to start")
	return cmd
}

// Validate checks the flags.
func (o *LogOptions) Validate() error {
	if o.PodRunningTimeout <= 0 {
		return errors.New("--pod-running-timeout must be positive")
	}
	return nil
}

// Run prints the log.
func (o *LogOptions) Run(ctx context.Context) error {
	c, err := o.f.Client()
	if err != nil {
		return err
	}
	cs, err := o.f.Clientset()
	if err != nil {
		return err
	}
	app, err := getApp(ctx, c, o.ns, o.Name)
	if err != nil {
		return err
	}
	pod, err := o.selectPod(ctx, c, app)
	if err != nil {
		return err
	}
	driver := o.Executor < 0
	container := o.Container
	if container == "" {
		container = cmdutil.SparkContainer(pod, driver)
	}
	if !slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == container }) &&
		!slices.ContainsFunc(pod.Spec.InitContainers, func(c corev1.Container) bool { return c.Name == container }) {
		var names []string
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
		}
		return fmt.Errorf("pod %s has no container %q; its containers: %s", pod.Name, container, strings.Join(names, ", "))
	}
	if o.Follow {
		if err := o.waitForStart(ctx, c, pod.Name, container); err != nil {
			return ignoreInterrupt(ctx, err)
		}
	}
	opts := &corev1.PodLogOptions{Container: container, Follow: o.Follow, Timestamps: o.Timestamps}
	if o.Tail >= 0 {
		opts.TailLines = &o.Tail
	}
	stream, err := cs.CoreV1().Pods(o.ns).GetLogs(pod.Name, opts).Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("reading the log of %s/%s: %w", pod.Name, container, err)
	}
	defer stream.Close()
	_, err = io.Copy(o.streams.Out, stream)
	return ignoreInterrupt(ctx, err)
}

// selectPod finds the pod whose log is asked for.
func (o *LogOptions) selectPod(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) (*corev1.Pod, error) {
	current := app.Status.SubmissionID
	if o.Previous || o.Executor >= 0 {
		role := v1beta2.SparkRoleDriver
		if o.Executor >= 0 {
			role = v1beta2.SparkRoleExecutor
		}
		labels := client.MatchingLabels{v1beta2.LabelAppName: app.Name, v1beta2.LabelSparkRole: role}
		list := &corev1.PodList{}
		if err := c.List(ctx, list, client.InNamespace(o.ns), labels); err != nil {
			return nil, fmt.Errorf("listing the pods of %s: %w", app.Name, err)
		}
		var pick *corev1.Pod
		var ids []int
		for i := range list.Items {
			p := &list.Items[i]
			if (p.Labels[v1beta2.LabelSubmissionID] == current) == o.Previous {
				continue
			}
			if o.Executor >= 0 {
				id, err := strconv.Atoi(p.Labels[v1beta2.LabelSparkExecID])
				if err == nil && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
				if err != nil || id != o.Executor {
					continue
				}
			}
			if pick == nil || p.CreationTimestamp.After(pick.CreationTimestamp.Time) {
				pick = p
			}
		}
		if pick != nil {
			return pick, nil
		}
		which := "the current attempt"
		if o.Previous {
			which = "an earlier attempt"
		}
		if o.Executor < 0 {
			return nil, fmt.Errorf("no driver pod of an earlier attempt of %s is left: the operator deletes an attempt's driver (and with it its executors) before it starts the next one", app.Name)
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%s has no executor pods in %s (state %s; executors: %s)", app.Name, which, state(app), describeExecutors(executorCounts(app)))
		}
		slices.Sort(ids)
		return nil, fmt.Errorf("%s has no executor %d in %s; its executors there: %s", app.Name, o.Executor, which, joinInts(ids))
	}

	name := driverPodName(app)
	pod := &corev1.Pod{}
	err := c.Get(ctx, client.ObjectKey{Namespace: o.ns, Name: name}, pod)
	if err == nil {
		return pod, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading the driver pod %s: %w", name, err)
	}
	if o.Follow && !isFinished(app) {
		// Just created, or between attempts: wait for the driver pod.
		return o.waitForPod(ctx, c, name)
	}
	msg := fmt.Sprintf("the driver pod %s of %s does not exist (state %s", name, app.Name, state(app))
	if e := app.Status.AppState.ErrorMessage; e != "" {
		msg += ": " + e
	}
	return nil, errors.New(msg + ")")
}

// waitForPod waits until the pod exists.
func (o *LogOptions) waitForPod(ctx context.Context, c client.Client, name string) (*corev1.Pod, error) {
	fmt.Fprintf(o.streams.ErrOut, "waiting for the driver pod %s to be created\n", name)
	ctx, cancel := context.WithTimeout(ctx, o.PodRunningTimeout)
	defer cancel()
	for {
		pod := &corev1.Pod{}
		err := c.Get(ctx, client.ObjectKey{Namespace: o.ns, Name: name}, pod)
		if err == nil {
			return pod, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("the driver pod %s was not created within %s", name, o.PodRunningTimeout)
			}
			return nil, errInterrupted
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitForStart waits until the container runs or has run, so that following its log works.
func (o *LogOptions) waitForStart(ctx context.Context, c client.Client, podName, container string) error {
	ctx, cancel := context.WithTimeout(ctx, o.PodRunningTimeout)
	defer cancel()
	said := false
	for {
		pod := &corev1.Pod{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.ns, Name: podName}, pod); err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("reading pod %s: %w", podName, err)
		}
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			return nil
		}
		why := string(pod.Status.Phase)
		for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
			if cs.Name != container {
				continue
			}
			if cs.State.Running != nil || cs.State.Terminated != nil {
				return nil
			}
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				why = w.Reason
			}
		}
		if !said {
			fmt.Fprintf(o.streams.ErrOut, "waiting for container %s of pod %s to start (%s)\n", container, podName, why)
			said = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
			continue
		}
		break
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("container %s of pod %s did not start within %s", container, podName, o.PodRunningTimeout)
	}
	return errInterrupted
}

func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ", ")
}
