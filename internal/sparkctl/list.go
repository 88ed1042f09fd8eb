package sparkctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/printing"
)

// ListOptions are the flags of `sparkctl list`.
type ListOptions struct {
	// AllNamespaces lists the applications of every namespace.
	AllNamespaces bool
	// Watch prints a line for every change after the list.
	Watch bool
	// Selector is a label selector.
	Selector string

	output   *printing.OutputFlags
	f        *Factory
	streams  genericiooptions.IOStreams
	ns       string
	selector labels.Selector
	now      func() time.Time
}

// NewListCommand returns `sparkctl list`.
func NewListCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ListOptions{f: f, streams: streams, output: newOutputFlags("", true), now: time.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls", "get"},
		Short:   "List SparkApplications with their state, attempts, start, duration and age",
		Long: `List the SparkApplications of the namespace (or of all namespaces with -A).

Columns: STATE is the application state (NEW before the operator saw it); ATTEMPTS counts the runs
that got a driver; START is how long ago the current attempt was submitted; DURATION is how long it
ran (until now while it runs); AGE is the age of the object. -o wide adds the submission attempts,
the driver pod, the executors and the last error.`,
		Example: `  sparkctl list
  sparkctl list -A -o wide
  sparkctl list --watch`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o),
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list the applications of every namespace")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "after listing, print each change until interrupted")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "label selector, e.g. team=data")
	o.output.AddFlags(cmd)
	return cmd
}

// Complete reads the namespace.
func (o *ListOptions) Complete(*cobra.Command, []string) error {
	ns, _, err := o.f.Namespace()
	o.ns = ns
	return err
}

// Validate checks the output format and the selector.
func (o *ListOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return fmt.Errorf("--selector %q: %w", o.Selector, err)
	}
	o.selector = sel
	return nil
}

// Run lists, then watches with --watch.
func (o *ListOptions) Run(ctx context.Context) error {
	c, err := o.f.Client()
	if err != nil {
		return err
	}
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: o.selector}}
	if !o.AllNamespaces {
		opts = append(opts, client.InNamespace(o.ns))
	}
	list := &v1beta2.SparkApplicationList{}
	if err := c.List(ctx, list, opts...); err != nil {
		return fmt.Errorf("listing SparkApplications: %w", err)
	}
	var table *tableWriter
	if o.output.Human() {
		table = &tableWriter{w: o.streams.Out, last: map[string]string{}}
		if o.Watch {
			// Rows come one at a time: make room for the longest state from the start.
			stateCol := 1
			if o.AllNamespaces {
				stateCol = 2
			}
			table.widths = make([]int, stateCol+1)
			table.widths[stateCol] = len(v1beta2.ApplicationStateFailedSubmission)
		}
		if len(list.Items) == 0 && !o.Watch {
			where := fmt.Sprintf("in namespace %s", o.ns)
			if o.AllNamespaces {
				where = "in any namespace"
			}
			fmt.Fprintf(o.streams.ErrOut, "No SparkApplications found %s.\n", where)
			return nil
		}
		rows := [][]string{o.header()}
		for i := range list.Items {
			rows = append(rows, o.row(&list.Items[i], ""))
		}
		table.print(rows, "")
	} else if err := o.output.PrintList(list, !o.Watch && o.output.Format() != "name", o.streams.Out); err != nil {
		return err
	}
	if !o.Watch {
		return nil
	}
	if table != nil && len(list.Items) == 0 {
		table.print([][]string{o.header()}, "")
	}
	return ignoreInterrupt(ctx, o.watch(ctx, c, list.ResourceVersion, opts, table))
}

// watch prints each change of the listed applications until ctx ends, re-establishing the watch
// when the server closes it. A change that leaves the printed row as it was prints nothing.
func (o *ListOptions) watch(ctx context.Context, c client.WithWatch, rv string, opts []client.ListOption, table *tableWriter) error {
	for ctx.Err() == nil {
		wopts := append([]client.ListOption{&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}}}, opts...)
		w, err := c.Watch(ctx, &v1beta2.SparkApplicationList{}, wopts...)
		if err != nil {
			return fmt.Errorf("watching SparkApplications: %w", err)
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Error:
				// The resource version is too old: watch again from now on.
				rv = ""
				continue
			case watch.Bookmark:
				if m, ok := ev.Object.(metav1.Object); ok {
					rv = m.GetResourceVersion()
				}
				continue
			}
			app, ok := ev.Object.(*v1beta2.SparkApplication)
			if !ok {
				continue
			}
			rv = app.ResourceVersion
			if table != nil {
				state := ""
				if ev.Type == watch.Deleted {
					state = "DELETED"
				}
				table.print([][]string{o.row(app, state)}, app.Namespace+"/"+app.Name)
			} else if err := o.output.PrintObject(app, o.streams.Out); err != nil {
				w.Stop()
				return err
			}
		}
		w.Stop()
	}
	return errInterrupted
}

// header is the table's header row.
func (o *ListOptions) header() []string {
	h := []string{"NAME", "STATE", "ATTEMPTS", "START", "DURATION", "AGE"}
	if o.output.IsWide() {
		h = append(h, "SUBMISSIONS", "DRIVER", "EXECUTORS", "MESSAGE")
	}
	if o.AllNamespaces {
		h = append([]string{"NAMESPACE"}, h...)
	}
	return h
}

// row is the table row of app; stateOverride replaces the state (DELETED in a watch).
func (o *ListOptions) row(app *v1beta2.SparkApplication, stateOverride string) []string {
	now := o.now()
	start := "-"
	if !app.Status.LastSubmissionAttemptTime.IsZero() {
		start = age(app.Status.LastSubmissionAttemptTime, now)
	}
	st := state(app)
	if stateOverride != "" {
		st = stateOverride
	}
	r := []string{app.Name, st, fmt.Sprint(app.Status.ExecutionAttempts), start, runDuration(app, now), age(app.CreationTimestamp, now)}
	if o.output.IsWide() {
		driver := app.Status.DriverInfo.PodName
		if driver == "" {
			driver = "-"
		}
		counts := executorCounts(app)
		executors := "-"
		if total := sum(counts); total > 0 {
			executors = fmt.Sprintf("%d/%d", counts[v1beta2.ExecutorStateRunning], total)
		}
		msg := app.Status.AppState.ErrorMessage
		if msg == "" {
			msg = "-"
		}
		r = append(r, fmt.Sprint(app.Status.SubmissionAttempts), driver, executors, printing.Truncate(msg, 80))
	}
	if o.AllNamespaces {
		r = append([]string{app.Namespace}, r...)
	}
	return r
}

// tableWriter prints rows in columns that stay aligned across calls (a watch prints one row at a
// time): a column is as wide as its widest cell so far, plus three spaces.
type tableWriter struct {
	w      io.Writer
	widths []int
	// last is the last row printed for each key, to skip rows that did not change.
	last map[string]string
}

// print prints rows; with a key, a row equal to the last one printed for that key is skipped.
func (t *tableWriter) print(rows [][]string, key string) {
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(t.widths) {
				t.widths = append(t.widths, 0)
			}
			t.widths[i] = max(t.widths[i], len(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			if i == len(r)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", t.widths[i]-len(cell)+3))
		}
		line := b.String()
		if key != "" {
			if t.last[key] == line {
				continue
			}
			t.last[key] = line
		}
		fmt.Fprintln(t.w, line)
	}
}

func sum(counts map[v1beta2.ExecutorState]int32) int32 {
	var n int32
	for _, c := range counts {
		n += c
	}
	return n
}
