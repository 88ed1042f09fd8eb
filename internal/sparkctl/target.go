package sparkctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/printing"
)

// target is what the commands acting on named applications share (status, event, log, forward, rerun,
// trigger, delete, suspend, resume): the names from the arguments, the namespace, the cluster, the
// streams, the output flags (nil for commands that print no object) and the clock.
type target struct {
	// Name is the application, for the commands that take exactly one.
	Name string
	// Names are the applications, for the commands that take several (delete, suspend, resume).
	Names []string

	output  *printing.OutputFlags
	f       *Factory
	streams genericiooptions.IOStreams
	ns      string
	now     func() time.Time
}

// newOutputFlags returns the -o/--output flags of a command (see printing.NewOutputFlags).
func newOutputFlags(operation string, wide bool) *printing.OutputFlags {
	return printing.NewOutputFlags(operation, wide, NewScheme())
}

// newTarget returns the shared options of a command; output may be nil.
func newTarget(f *Factory, streams genericiooptions.IOStreams, output *printing.OutputFlags) target {
	return target{f: f, streams: streams, output: output, now: time.Now}
}

// Complete reads the names and the namespace.
func (o *target) Complete(_ *cobra.Command, args []string) error {
	o.Names = args
	if len(args) > 0 {
		o.Name = args[0]
	}
	ns, _, err := o.f.Namespace()
	o.ns = ns
	return err
}

// Validate checks the output format.
func (o *target) Validate() error {
	if o.output == nil {
		return nil
	}
	return o.output.Validate()
}

// validateTimeout refuses a --timeout that is not positive, then checks the output format.
func (o *target) validateTimeout(timeout time.Duration) error {
	if timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	return o.Validate()
}

// app connects to the cluster and reads the SparkApplication o.Name.
func (o *target) app(ctx context.Context) (client.WithWatch, *v1beta2.SparkApplication, error) {
	return connectAndGet(ctx, o, getApp)
}

// scheduledApp connects to the cluster and reads the ScheduledSparkApplication o.Name.
func (o *target) scheduledApp(ctx context.Context) (client.WithWatch, *v1beta2.ScheduledSparkApplication, error) {
	return connectAndGet(ctx, o, getScheduledApp)
}

// connectAndGet connects to the cluster and reads o.Name with get.
func connectAndGet[T client.Object](ctx context.Context, o *target, get func(context.Context, client.Client, string, string) (T, error)) (client.WithWatch, T, error) {
	c, err := o.f.Client()
	if err != nil {
		var none T
		return nil, none, err
	}
	obj, err := get(ctx, c, o.ns, o.Name)
	return c, obj, err
}

// each runs one for every name in o.Names; it goes on after a failure and returns every error.
func (o *target) each(ctx context.Context, one func(ctx context.Context, c client.Client, name string) error) error {
	c, err := o.f.Client()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range o.Names {
		if err := one(ctx, c, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// oneAppCommand finishes cmd (Use, Short, Long, Example set by the caller) as a command on exactly
// one SparkApplication run by o: the argument check, name completion and RunE.
func oneAppCommand(f *Factory, o cmdutil.Runner, cmd *cobra.Command) *cobra.Command {
	cmd.Args = exactlyOneName("SparkApplication")
	cmd.ValidArgsFunction = completeAppNames(f)
	cmd.RunE = cmdutil.RunE(o)
	return cmd
}

// pollEvery is how often the --wait of rerun, trigger and delete looks again.
const pollEvery = 200 * time.Millisecond

// pollUntil calls done every pollEvery until it returns true or an error, or timeout passes.
func pollUntil(ctx context.Context, timeout time.Duration, done func(ctx context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, pollEvery, timeout, true, done)
}

// addWaitFlags adds --wait (what it waits for: waitUsage) and --timeout, defaulting to their
// current values.
func addWaitFlags(cmd *cobra.Command, wait *bool, timeout *time.Duration, waitUsage string) {
	cmd.Flags().BoolVar(wait, "wait", *wait, waitUsage)
	cmd.Flags().DurationVar(timeout, "timeout", *timeout, "how long --wait waits")
}

// setToken sets the annotation key of obj (named name in errors) to a new token from now, asking the
// operator for something (a rerun, a triggered run), and returns the token.
func setToken(ctx context.Context, c client.Client, obj client.Object, key, name string, now time.Time) (string, error) {
	token := newToken(now)
	if err := annotate(ctx, c, obj, key, token); err != nil {
		return "", fmt.Errorf("setting %s on %s: %w", key, name, err)
	}
	return token, nil
}

// waitForObject reads obj again every pollEvery until done says the operator did what was asked,
// or timeout passes.
func waitForObject(ctx context.Context, c client.Client, obj client.Object, timeout time.Duration, done func() bool) error {
	return pollUntil(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err
		}
		return done(), nil
	})
}
