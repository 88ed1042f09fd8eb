package sparkctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
)

// StatusOptions are the flags and arguments of `sparkctl status`.
type StatusOptions struct {
	target
}

// NewStatusCommand returns `sparkctl status`.
func NewStatusCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &StatusOptions{target: newTarget(f, streams, newOutputFlags("", false))}
	cmd := oneAppCommand(f, o, &cobra.Command{
		Use:   "status NAME",
		Short: "Show an application's state, driver, UI, executors, last error and timeline",
		Long: `Show the state of a SparkApplication: its attempts, the driver pod, the Spark UI address, the
executors of the current attempt by state, what holds it (Kueue's queue and admission state, a
ResourceQuota without room, the driver PodDisruptionBudget), the last error, and the timeline of its
state changes (from the events the operator recorded). -o yaml or -o json prints the object instead.`,
		Example: `  sparkctl status spark-pi`,
	})
	o.output.AddFlags(cmd)
	return cmd
}

// Run prints the status.
func (o *StatusOptions) Run(ctx context.Context) error {
	c, app, err := o.app(ctx)
	if err != nil {
		return err
	}
	if !o.output.Human() {
		return o.output.PrintObject(app, o.streams.Out)
	}
	now := o.now()
	w := printers.GetNewTabWriter(o.streams.Out)
	row := func(k, v string) { fmt.Fprintf(w, "%s:\t%s\n", k, v) }
	st := app.Status
	row("Name", app.Name)
	row("Namespace", app.Namespace)
	stateLine := state(app)
	if cond := stateSince(app); !cond.IsZero() {
		stateLine += fmt.Sprintf(" (for %s)", age(cond, now))
	}
	row("State", stateLine)
	attempts := fmt.Sprintf("%d run(s), %d submission(s)", st.ExecutionAttempts, st.SubmissionAttempts)
	if st.InfrastructureRestarts > 0 {
		attempts += fmt.Sprintf(", %d restarted after infrastructure failures (not counted as retries)", st.InfrastructureRestarts)
	}
	row("Attempts", attempts)
	if !st.LastSubmissionAttemptTime.IsZero() {
		row("Submitted", fmt.Sprintf("%s (%s ago)", st.LastSubmissionAttemptTime.Local().Format(time.RFC3339), age(st.LastSubmissionAttemptTime, now)))
		row("Duration", runDuration(app, now))
	}
	if !st.TerminationTime.IsZero() && isFinished(app) {
		row("Finished", fmt.Sprintf("%s (%s ago)", st.TerminationTime.Local().Format(time.RFC3339), age(st.TerminationTime, now)))
	}
	if st.SubmissionID != "" {
		row("Submission ID", st.SubmissionID)
	}
	if st.SparkApplicationID != "" {
		row("Spark app ID", st.SparkApplicationID)
	}
	if since, why, ok := driverWaiting(app); ok {
		row("Waiting", fmt.Sprintf("for %s: %s", age(since, now), why))
	}
	row("Driver", o.describeDriver(ctx, c, app))
	row("Spark UI", o.describeUI(ctx, c, app))
	row("Executors", describeExecutors(executorCounts(app)))
	for _, h := range o.holds(ctx, c, app) {
		row(h.key, h.value)
	}
	lastError := st.AppState.ErrorMessage
	if lastError == "" {
		lastError = "-"
	}
	row("Last error", lastError)
	if err := w.Flush(); err != nil {
		return err
	}
	return o.timeline(ctx, c, app, now)
}

// stateSince is when the application entered its condition's current status, the best available
// "since" for the state.
func stateSince(app *v1beta2.SparkApplication) metav1.Time {
	var latest metav1.Time
	for _, c := range app.Status.Conditions {
		if c.Type == v1beta2.ConditionQuotaExceeded || c.Type == v1beta2.ConditionDriverPodDisruptionBudget || c.Type == v1beta2.ConditionDriverScheduled || c.Type == v1beta2.ConditionInfrastructureFailure {
			continue // not the state's
		}
		if c.LastTransitionTime.After(latest.Time) {
			latest = c.LastTransitionTime
		}
	}
	return latest
}

// describeDriver reads "spark-pi-driver (Running on node-1, IP 10.0.0.1)" or why there is none.
func (o *StatusOptions) describeDriver(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) string {
	name := driverPodName(app)
	if app.Status.SubmissionID == "" {
		return "none yet"
	}
	pod := &corev1.Pod{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: name}, pod); err != nil {
		if isFinished(app) {
			return name + " (gone)"
		}
		return name + " (not found)"
	}
	parts := []string{string(pod.Status.Phase)}
	if pod.Spec.NodeName != "" {
		parts[0] += " on " + pod.Spec.NodeName
	}
	if pod.Status.PodIP != "" {
		parts = append(parts, "IP "+pod.Status.PodIP)
	}
	if pod.DeletionTimestamp != nil {
		parts = append(parts, "terminating")
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != cmdutil.SparkContainer(pod, true) {
			continue
		}
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			parts = append(parts, "waiting: "+cs.State.Waiting.Reason)
		case cs.State.Terminated != nil:
			parts = append(parts, fmt.Sprintf("exit code %d", cs.State.Terminated.ExitCode))
		}
		if cs.RestartCount > 0 {
			parts = append(parts, fmt.Sprintf("%d restart(s)", cs.RestartCount))
		}
	}
	return fmt.Sprintf("%s (%s)", name, strings.Join(parts, ", "))
}

// describeUI reads where the Spark UI is: the Ingress URL, the Service and its address, and how to
// forward it.
func (o *StatusOptions) describeUI(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) string {
	di := app.Status.DriverInfo
	if isFinished(app) {
		return "gone with the driver (use a Spark history server for finished applications)"
	}
	var parts []string
	if di.WebUIIngressAddress != "" {
		parts = append(parts, di.WebUIIngressAddress)
	}
	if di.WebUIServiceName != "" {
		svc := fmt.Sprintf("service %s port %d", di.WebUIServiceName, di.WebUIPort)
		addr := di.WebUIAddress
		if addr == "" {
			s := &corev1.Service{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: di.WebUIServiceName}, s); err == nil && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
				addr = fmt.Sprintf("%s:%d", s.Spec.ClusterIP, di.WebUIPort)
			}
		}
		if addr != "" {
			svc += " (" + addr + ")"
		}
		parts = append(parts, svc)
	}
	switch state(app) {
	case string(v1beta2.ApplicationStateRunning):
		parts = append(parts, fmt.Sprintf("`sparkctl forward %s` opens it on http://localhost:4040", app.Name))
	default:
		if len(parts) == 0 {
			return "not available (served by the driver while it runs)"
		}
	}
	return strings.Join(parts, "; ")
}

// timeline prints the state changes of the application from its events.
func (o *StatusOptions) timeline(ctx context.Context, c client.Client, app *v1beta2.SparkApplication, now time.Time) error {
	list, err := listAppEvents(ctx, c, app)
	if err != nil {
		fmt.Fprintf(o.streams.Out, "Timeline: unavailable (%v)\n", err)
		return nil
	}
	if len(list.Items) == 0 {
		fmt.Fprintln(o.streams.Out, "Timeline: no events (they expire, after an hour by default)")
		return nil
	}
	fmt.Fprintln(o.streams.Out, "Timeline:")
	w := printers.GetNewTabWriter(o.streams.Out)
	first := eventTime(&list.Items[0])
	for i := range list.Items {
		e := &list.Items[i]
		printTimelineRow(w, e, first, now)
	}
	return w.Flush()
}

// printTimelineRow prints "  +5s  (2m ago)  Normal  SparkDriverRunning  Driver ... is running".
func printTimelineRow(w io.Writer, e *eventsv1.Event, first, now time.Time) {
	t := eventTime(e)
	msg := strings.TrimSpace(e.Note)
	if n := eventCount(e); n > 1 {
		msg += fmt.Sprintf(" (x%d, last %s ago)", n, age(metav1.NewTime(eventLastSeen(e)), now))
	}
	fmt.Fprintf(w, "  +%s\t%s ago\t%s\t%s\t%s\n", t.Sub(first).Round(time.Second), age(metav1.NewTime(t), now), e.Type, e.Reason, msg)
}

// driverWaiting reports whether the driver of a SUBMITTED application waits for its scheduler or
// queue (condition DriverScheduled False), since when, and the scheduler's last word.
func driverWaiting(app *v1beta2.SparkApplication) (metav1.Time, string, bool) {
	if app.Status.AppState.State != v1beta2.ApplicationStateSubmitted {
		return metav1.Time{}, "", false
	}
	for _, c := range app.Status.Conditions {
		if c.Type == v1beta2.ConditionDriverScheduled && c.Status == metav1.ConditionFalse {
			return c.LastTransitionTime, c.Message, true
		}
	}
	return metav1.Time{}, "", false
}
