package sparkctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
)

// DeleteOptions are the flags and arguments of `sparkctl delete`.
type DeleteOptions struct {
	target
	// Wait waits until each application is gone.
	Wait bool
	// Timeout bounds the wait.
	Timeout time.Duration
}

// NewDeleteCommand returns `sparkctl delete`.
func NewDeleteCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &DeleteOptions{target: newTarget(f, streams, newOutputFlags("deleted", false)), Wait: true, Timeout: 2 * time.Minute}
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete SparkApplications (their driver, executors and UI go with them)",
		Long: `Delete SparkApplications. The operator stops the driver, which gets its termination grace period to
shut down, and the garbage collector removes the executors, ConfigMaps and Services of the
application. By default the command waits until each application is gone.`,
		Example:           `  sparkctl delete spark-pi`,
		ValidArgsFunction: completeAppNames(f),
		RunE:              cmdutil.RunE(o),
	}
	addWaitFlags(cmd, &o.Wait, &o.Timeout, "wait until each application is gone")
	o.output.AddFlags(cmd)
	return cmd
}

// Validate checks the arguments.
func (o *DeleteOptions) Validate() error {
	if len(o.Names) == 0 {
		return errors.New("the name of the SparkApplication to delete is required")
	}
	return o.validateTimeout(o.Timeout)
}

// Run deletes each application; it goes on after a failure and reports every one.
func (o *DeleteOptions) Run(ctx context.Context) error { return o.each(ctx, o.deleteOne) }

func (o *DeleteOptions) deleteOne(ctx context.Context, c client.Client, name string) error {
	app, err := getApp(ctx, c, o.ns, name)
	if err != nil {
		return err
	}
	if err := c.Delete(ctx, app, client.PropagationPolicy("Background")); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("SparkApplication %q not found in namespace %q", name, o.ns)
		}
		return fmt.Errorf("deleting %s: %w", name, err)
	}
	if o.Wait {
		err := pollUntil(ctx, o.Timeout, func(ctx context.Context) (bool, error) {
			cur := &v1beta2.SparkApplication{}
			err := c.Get(ctx, client.ObjectKey{Namespace: o.ns, Name: name}, cur)
			if apierrors.IsNotFound(err) || (err == nil && cur.UID != app.UID) {
				return true, nil
			}
			return false, client.IgnoreNotFound(err)
		})
		if err != nil {
			return fmt.Errorf("SparkApplication %s was deleted but is still there after %s (finalizers %v): %w", name, o.Timeout, app.Finalizers, err)
		}
	}
	return o.output.PrintDone(app, appResource, name, "deleted", o.streams.Out)
}
