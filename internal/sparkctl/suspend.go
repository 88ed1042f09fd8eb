package sparkctl

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
)

// SuspendOptions are the flags and arguments of `sparkctl suspend` and `sparkctl resume`.
type SuspendOptions struct {
	target
	// Suspend is true for suspend and false for resume.
	Suspend bool
}

// NewSuspendCommand returns `sparkctl suspend`.
func NewSuspendCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newSuspendCommand(f, streams, true)
}

// NewResumeCommand returns `sparkctl resume`.
func NewResumeCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newSuspendCommand(f, streams, false)
}

func newSuspendCommand(f *Factory, streams genericiooptions.IOStreams, suspend bool) *cobra.Command {
	verb := "resumed"
	if suspend {
		verb = "suspended"
	}
	o := &SuspendOptions{target: newTarget(f, streams, newOutputFlags(verb, false)), Suspend: suspend}
	cmd := &cobra.Command{
		Use:   "resume NAME...",
		Short: "Resume suspended SparkApplications (spec.suspend: false)",
		Long: `Resume suspended SparkApplications: spec.suspend is set to false, and the operator submits each
again (RESUMING, then SUBMITTED). With Kueue, Kueue resumes applications when it admits them.`,
		Example:           `  sparkctl resume spark-pi`,
		ValidArgsFunction: completeAppNames(f),
		RunE:              cmdutil.RunE(o),
	}
	if suspend {
		cmd.Use = "suspend NAME..."
		cmd.Short = "Suspend SparkApplications (spec.suspend: true): stop the run, keep the object"
		cmd.Long = `Suspend SparkApplications: spec.suspend is set to true, and the operator stops the current attempt
(the driver gets its termination grace period) and keeps the application SUSPENDED until it is
resumed. A finished application is not affected.`
		cmd.Example = `  sparkctl suspend spark-pi`
	}
	o.output.AddFlags(cmd)
	return cmd
}

// Validate checks the arguments.
func (o *SuspendOptions) Validate() error {
	if len(o.Names) == 0 {
		return errors.New("the name of the SparkApplication is required")
	}
	return o.output.Validate()
}

// Run sets spec.suspend on each application.
func (o *SuspendOptions) Run(ctx context.Context) error { return o.each(ctx, o.one) }

func (o *SuspendOptions) one(ctx context.Context, c client.Client, name string) error {
	app, err := getApp(ctx, c, o.ns, name)
	if err != nil {
		return err
	}
	suspended := app.Spec.Suspend != nil && *app.Spec.Suspend
	verb := "resumed"
	if o.Suspend {
		verb = "suspended"
	}
	if suspended == o.Suspend {
		fmt.Fprintf(o.streams.ErrOut, "%s is already %s (state %s)\n", name, map[bool]string{true: "suspended", false: "not suspended"}[suspended], state(app))
		return o.output.PrintDone(app, appResource, name, "unchanged", o.streams.Out)
	}
	if o.Suspend && isFinished(app) {
		fmt.Fprintf(o.streams.ErrOut, "note: %s is %s; suspend only stops running applications, and keeps it from being run again until resumed\n", name, state(app))
	}
	patch := fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, o.Suspend)
	if err := c.Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("setting spec.suspend of %s: %w", name, err)
	}
	return o.output.PrintDone(app, appResource, name, verb, o.streams.Out)
}

// annotate sets an annotation of obj with a merge patch.
func annotate(ctx context.Context, c client.Client, obj client.Object, key, value string) error {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, key, value)
	return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
}

// rerunnable are the states rerun accepts without --force: the application has ended, or its
// submission failed.
var rerunnable = []v1beta2.ApplicationStateType{
	v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed, v1beta2.ApplicationStateFailedSubmission,
}
