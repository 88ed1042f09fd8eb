package sparkctl

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
)

// TriggerOptions are the flags and arguments of `sparkctl trigger`.
type TriggerOptions struct {
	target
	// Wait waits until the operator started the run, and prints its name.
	Wait bool
	// Timeout bounds the wait.
	Timeout time.Duration
}

// NewTriggerCommand returns `sparkctl trigger`.
func NewTriggerCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TriggerOptions{target: newTarget(f, streams, newOutputFlags("triggered", false)), Timeout: 30 * time.Second}
	cmd := &cobra.Command{
		Use:   "trigger NAME",
		Short: "Start one run of a ScheduledSparkApplication now",
		Long: `Start one run of a ScheduledSparkApplication now, outside its schedule: the annotation
` + v1beta2.AnnotationTriggerRun + ` is set to a new token, and the operator starts exactly one run for
it (named <name>-manual-<hash>), even while the schedule is suspended. The schedule itself is not
changed. --wait waits until the run was created and prints its name.`,
		Example: `  sparkctl trigger nightly-report
  sparkctl trigger nightly-report --wait && sparkctl list`,
		Args:              exactlyOneName("ScheduledSparkApplication"),
		ValidArgsFunction: completeScheduledNames(f),
		RunE:              cmdutil.RunE(o),
	}
	addWaitFlags(cmd, &o.Wait, &o.Timeout, "wait until the operator started the run, and print its name")
	o.output.AddFlags(cmd)
	return cmd
}

// Validate checks the flags.
func (o *TriggerOptions) Validate() error { return o.validateTimeout(o.Timeout) }

// Run sets the trigger annotation.
func (o *TriggerOptions) Run(ctx context.Context) error {
	c, app, err := o.scheduledApp(ctx)
	if err != nil {
		return err
	}
	if app.Spec.Suspend != nil && *app.Spec.Suspend {
		fmt.Fprintf(o.streams.ErrOut, "note: %s is suspended; the triggered run starts anyway, and the schedule stays suspended\n", o.Name)
	}
	token, err := setToken(ctx, c, app, v1beta2.AnnotationTriggerRun, o.Name, o.now())
	if err != nil {
		return err
	}
	if !o.Wait {
		return o.output.PrintDone(app, scheduledResource, o.Name, "triggered", o.streams.Out)
	}
	err = waitForObject(ctx, c, app, o.Timeout, func() bool { return app.Status.LastTriggerToken == token })
	if err != nil {
		return fmt.Errorf("%s was triggered, but the operator did not start the run within %s (is it running, and watching namespace %s?): %w", o.Name, o.Timeout, o.ns, err)
	}
	return o.output.PrintDone(app, scheduledResource, o.Name, "triggered: run "+app.Status.LastRunName+" started", o.streams.Out)
}
