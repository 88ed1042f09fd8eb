package sparkctl

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
)

// EventOptions are the flags and arguments of `sparkctl event`.
type EventOptions struct {
	target
	// Follow prints new events as they are recorded, until interrupted.
	Follow bool
}

// NewEventCommand returns `sparkctl event`.
func NewEventCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &EventOptions{target: newTarget(f, streams, newOutputFlags("", false))}
	cmd := oneAppCommand(f, o, &cobra.Command{
		Use:     "event NAME",
		Aliases: []string{"events"},
		Short:   "Print the events of an application, oldest first",
		Long: `Print the events the operator recorded for a SparkApplication (submitted, driver running, completed,
failed, retries, ...), oldest first. --follow keeps printing new ones until interrupted. Events
expire (after an hour by default), so old applications may have none.`,
		Example: `  sparkctl event spark-pi
  sparkctl event spark-pi --follow`,
	})
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "print new events as they are recorded, until interrupted")
	o.output.AddFlags(cmd)
	return cmd
}

// Run prints the events, then follows them with --follow.
func (o *EventOptions) Run(ctx context.Context) error {
	c, app, err := o.app(ctx)
	if err != nil {
		return err
	}
	list, err := listAppEvents(ctx, c, app)
	if err != nil {
		return err
	}
	w := printers.GetNewTabWriter(o.streams.Out)
	if o.output.Human() {
		if len(list.Items) == 0 {
			fmt.Fprintf(o.streams.ErrOut, "No events for %s (events expire, after an hour by default).\n", app.Name)
		} else {
			fmt.Fprintln(w, "LAST SEEN\tTYPE\tREASON\tMESSAGE")
			for i := range list.Items {
				printEventRow(w, &list.Items[i], o.now())
			}
		}
		w.Flush()
	} else if err := o.output.PrintList(list, !o.Follow, o.streams.Out); err != nil {
		return err
	}
	if !o.Follow {
		return nil
	}
	return ignoreInterrupt(ctx, o.follow(ctx, c, app, list.ResourceVersion, w))
}

// follow prints events as they come until ctx ends.
func (o *EventOptions) follow(ctx context.Context, c client.WithWatch, app *v1beta2.SparkApplication, rv string, w io.Writer) error {
	tw, _ := w.(interface{ Flush() error })
	for ctx.Err() == nil {
		opts := &client.ListOptions{Namespace: app.Namespace, FieldSelector: appEventSelector(app),
			Raw: &metav1.ListOptions{ResourceVersion: rv}}
		watcher, err := c.Watch(ctx, &eventsv1.EventList{}, opts)
		if err != nil {
			return fmt.Errorf("watching events: %w", err)
		}
		for ev := range watcher.ResultChan() {
			if ev.Type == watch.Error {
				rv = ""
				break
			}
			e, ok := ev.Object.(*eventsv1.Event)
			if !ok || ev.Type == watch.Deleted || !eventOf(e, app) {
				continue
			}
			rv = e.ResourceVersion
			if o.output.Human() {
				printEventRow(w, e, o.now())
				if tw != nil {
					_ = tw.Flush()
				}
			} else if err := o.output.PrintObject(e, o.streams.Out); err != nil {
				watcher.Stop()
				return err
			}
		}
		watcher.Stop()
	}
	return errInterrupted
}

// appEventSelector selects the events regarding a SparkApplication.
func appEventSelector(app *v1beta2.SparkApplication) fields.Selector {
	return fields.SelectorFromSet(fields.Set{"regarding.kind": manifest.KindApp, "regarding.name": app.Name})
}

// eventOf reports whether e regards app itself, not an earlier application of the same name.
func eventOf(e *eventsv1.Event, app *v1beta2.SparkApplication) bool {
	return e.Regarding.UID == "" || e.Regarding.UID == app.UID
}

// listAppEvents lists the events.k8s.io/v1 events of app, oldest first.
func listAppEvents(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) (*eventsv1.EventList, error) {
	list := &eventsv1.EventList{}
	if err := c.List(ctx, list, &client.ListOptions{Namespace: app.Namespace, FieldSelector: appEventSelector(app)}); err != nil {
		return nil, fmt.Errorf("listing the events of %s: %w", app.Name, err)
	}
	list.Items = slices.DeleteFunc(list.Items, func(e eventsv1.Event) bool { return !eventOf(&e, app) })
	slices.SortStableFunc(list.Items, func(a, b eventsv1.Event) int {
		return eventTime(&a).Compare(eventTime(&b))
	})
	return list, nil
}

// eventTime is when an event first happened.
func eventTime(e *eventsv1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.DeprecatedFirstTimestamp.IsZero():
		return e.DeprecatedFirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// eventLastSeen is when an event last happened (series repeat an event).
func eventLastSeen(e *eventsv1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.DeprecatedLastTimestamp.IsZero():
		return e.DeprecatedLastTimestamp.Time
	}
	return eventTime(e)
}

// eventCount is how many times an event happened.
func eventCount(e *eventsv1.Event) int32 {
	switch {
	case e.Series != nil && e.Series.Count > 0:
		return e.Series.Count
	case e.DeprecatedCount > 0:
		return e.DeprecatedCount
	}
	return 1
}

// printEventRow prints one event as "LAST SEEN  TYPE  REASON  MESSAGE".
func printEventRow(w io.Writer, e *eventsv1.Event, now time.Time) {
	msg := strings.TrimSpace(e.Note)
	if n := eventCount(e); n > 1 {
		msg += fmt.Sprintf(" (x%d)", n)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", age(metav1.NewTime(eventLastSeen(e)), now), e.Type, e.Reason, msg)
}
