package sparkctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Resource names as kubectl prints them ("sparkapplication.sparkoperator.k8s.io/NAME").
const (
	appResource       = "sparkapplication.sparkoperator.k8s.io"
	scheduledResource = "scheduledsparkapplication.sparkoperator.k8s.io"
)

// getApp reads a SparkApplication, with an error that says where it looked when it is missing.
func getApp(ctx context.Context, c client.Client, ns, name string) (*v1beta2.SparkApplication, error) {
	return getNamed(ctx, c, ns, name, "SparkApplication", &v1beta2.SparkApplication{})
}

// getScheduledApp reads a ScheduledSparkApplication, with an error that says where it looked when it
// is missing.
func getScheduledApp(ctx context.Context, c client.Client, ns, name string) (*v1beta2.ScheduledSparkApplication, error) {
	return getNamed(ctx, c, ns, name, "ScheduledSparkApplication", &v1beta2.ScheduledSparkApplication{})
}

// getNamed reads ns/name of kind into obj: "<kind> <name> not found in namespace <ns>" when missing.
func getNamed[T client.Object](ctx context.Context, c client.Client, ns, name, kind string, obj T) (T, error) {
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		var none T
		if apierrors.IsNotFound(err) {
			return none, fmt.Errorf("%s %q not found in namespace %q", kind, name, ns)
		}
		return none, fmt.Errorf("reading %s %s/%s: %w", kind, ns, name, err)
	}
	return obj, nil
}

// exactlyOneName is the argument check of commands that take one application name.
func exactlyOneName(kind string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return fmt.Errorf("the name of the %s is required", kind)
		default:
			return fmt.Errorf("exactly one %s name is expected, got %d: %s", kind, len(args), strings.Join(args, " "))
		}
	}
}

// state is the application state as printed: the empty state of a new application reads "NEW".
func state(app *v1beta2.SparkApplication) string {
	if s := app.Status.AppState.State; s != "" {
		return string(s)
	}
	return "NEW"
}

// isFinished reports whether an application has ended for good: COMPLETED or FAILED.
func isFinished(app *v1beta2.SparkApplication) bool {
	s := app.Status.AppState.State
	return s == v1beta2.ApplicationStateCompleted || s == v1beta2.ApplicationStateFailed
}

// driverPodName is the driver pod of the current attempt: the one in the status, else the name the
// operator gives it.
func driverPodName(app *v1beta2.SparkApplication) string {
	if n := app.Status.DriverInfo.PodName; n != "" {
		return n
	}
	return submission.DriverPodName(app)
}

// age formats how long ago t was, as kubectl's AGE column does ("5m", "3h10m"); "<unknown>" for a
// zero time.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// runDuration is how long the current attempt ran: until terminationTime when the application ended,
// else until now; "-" before it started.
func runDuration(app *v1beta2.SparkApplication, now time.Time) string {
	start := app.Status.LastSubmissionAttemptTime
	if start.IsZero() {
		return "-"
	}
	end := now
	if isFinished(app) && !app.Status.TerminationTime.IsZero() {
		end = app.Status.TerminationTime.Time
	}
	if end.Before(start.Time) {
		return "0s"
	}
	return duration.HumanDuration(end.Sub(start.Time))
}

// executorCounts returns the executors of the current attempt by state: status.executorCounts, else
// counted from status.executorState.
func executorCounts(app *v1beta2.SparkApplication) map[v1beta2.ExecutorState]int32 {
	if len(app.Status.ExecutorCounts) > 0 {
		return app.Status.ExecutorCounts
	}
	counts := map[v1beta2.ExecutorState]int32{}
	for _, s := range app.Status.ExecutorState {
		counts[s]++
	}
	return counts
}

// executorStates is the order executor states are shown in.
var executorStates = []v1beta2.ExecutorState{
	v1beta2.ExecutorStateRunning, v1beta2.ExecutorStatePending, v1beta2.ExecutorStateCompleted,
	v1beta2.ExecutorStateFailed, v1beta2.ExecutorStateUnknown,
}

// describeExecutors reads "2 running, 1 pending (3 total)", or "none".
func describeExecutors(counts map[v1beta2.ExecutorState]int32) string {
	var parts []string
	var total int32
	for _, s := range executorStates {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(string(s))))
			total += n
		}
	}
	if total == 0 {
		return "none"
	}
	return fmt.Sprintf("%s (%d total)", strings.Join(parts, ", "), total)
}

// newToken returns a unique token for the rerun and trigger annotations: the current time with
// nanoseconds, which also tells when it was asked for.
func newToken(now time.Time) string {
	return now.UTC().Format(time.RFC3339Nano)
}

// errInterrupted is returned when a follow or watch ends because the context was cancelled (Ctrl-C),
// which is a normal way to stop following and not a failure.
var errInterrupted = errors.New("interrupted")

// ignoreInterrupt turns the end of a followed stream by cancellation into success.
func ignoreInterrupt(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, errInterrupted) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return nil
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// manifestArgument takes the manifest of `sparkctl <verb>` from -f (*filename) or from the one
// argument, and refuses both or neither.
func manifestArgument(filename *string, args []string, verb string) error {
	if len(args) == 1 {
		if *filename != "" {
			return fmt.Errorf("give the manifest once: either -f %s or %s", *filename, args[0])
		}
		*filename = args[0]
	}
	if *filename == "" {
		return fmt.Errorf("a manifest is required: sparkctl %s -f FILE (or -f - for standard input)", verb)
	}
	return nil
}
