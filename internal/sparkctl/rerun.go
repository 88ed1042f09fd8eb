package sparkctl

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// RerunOptions are the flags and arguments of `sparkctl rerun`.
type RerunOptions struct {
	target
	// Force reruns an application that has not finished, stopping its current attempt.
	Force bool
	// Wait waits until the operator submitted the new attempt.
	Wait bool
	// Timeout bounds the wait.
	Timeout time.Duration
}

// NewRerunCommand returns `sparkctl rerun`.
func NewRerunCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &RerunOptions{target: newTarget(f, streams, newOutputFlags("rerun requested", false)), Timeout: time.Minute}
	cmd := oneAppCommand(f, o, &cobra.Command{
		Use:   "rerun NAME",
		Short: "Run a finished SparkApplication again, as a new attempt with fresh counters",
		Long: `Run a finished (COMPLETED, FAILED or SUBMISSION_FAILED) SparkApplication again, without deleting
and recreating it: the annotation ` + v1beta2.AnnotationRerun + ` is set to a new token, and the
operator submits the application again with fresh attempt counters, as after a spec change. With
--force, an application that is still running is stopped first and started over. --wait waits
until the new attempt is submitted.`,
		Example: `  sparkctl rerun spark-pi`,
	})
	cmd.Flags().BoolVar(&o.Force, "force", false, "rerun even if the application has not finished, stopping its current attempt")
	addWaitFlags(cmd, &o.Wait, &o.Timeout, "wait until the operator submitted the new attempt")
	o.output.AddFlags(cmd)
	return cmd
}

// Validate checks the flags.
func (o *RerunOptions) Validate() error { return o.validateTimeout(o.Timeout) }

// Run sets the rerun annotation.
func (o *RerunOptions) Run(ctx context.Context) error {
	c, app, err := o.app(ctx)
	if err != nil {
		return err
	}
	if !o.Force && !slices.Contains(rerunnable, app.Status.AppState.State) {
		return fmt.Errorf("%s is %s: rerun starts a finished application again; use --force to stop the current attempt and start over", o.Name, state(app))
	}
	before := app.Status.SubmissionID
	if _, err := setToken(ctx, c, app, v1beta2.AnnotationRerun, o.Name, o.now()); err != nil {
		return err
	}
	if !o.Wait {
		return o.output.PrintDone(app, appResource, o.Name, "rerun requested", o.streams.Out)
	}
	// The new attempt has a new submission id and is at least submitted.
	err = waitForObject(ctx, c, app, o.Timeout, func() bool {
		st := app.Status
		return st.SubmissionID != "" && st.SubmissionID != before && st.ObservedGeneration == app.Generation &&
			st.AppState.State != v1beta2.ApplicationStatePendingRerun && st.AppState.State != v1beta2.ApplicationStateInvalidating
	})
	if err != nil {
		return fmt.Errorf("the rerun of %s was requested, but the operator did not submit it within %s (state %s): %w", o.Name, o.Timeout, state(app), err)
	}
	return o.output.PrintDone(app, appResource, o.Name, fmt.Sprintf("rerun: attempt submitted (%s, submission %s)", state(app), app.Status.SubmissionID), o.streams.Out)
}
