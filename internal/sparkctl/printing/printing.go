// Package printing is sparkctl's output: the -o/--output flag (kubectl's printers plus each
// command's human-readable format) and the small text helpers of its tables and reports.
package printing

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
)

// OutputFlags is the -o/--output flag of a command: kubectl's printers for json, yaml, name,
// jsonpath and go-template (cli-runtime's PrintFlags), plus the command's own human-readable output
// for "" and, where the command has one, "wide".
type OutputFlags struct {
	print *genericclioptions.PrintFlags
	wide  bool
}

// NewOutputFlags returns the output flags of a command whose objects scheme knows; operation is the verb -o name prints after
// the object ("created"); wide says whether the command has a wide table.
func NewOutputFlags(operation string, wide bool, scheme *runtime.Scheme) *OutputFlags {
	return &OutputFlags{print: genericclioptions.NewPrintFlags(operation).WithTypeSetter(scheme), wide: wide}
}

// AddFlags adds -o/--output (and --template) to cmd, with completion of the formats.
func (o *OutputFlags) AddFlags(cmd *cobra.Command) {
	o.print.AddFlags(cmd)
	// Replace the help text so it names the Formats this command has.
	if f := cmd.Flags().Lookup("output"); f != nil {
		f.Usage = "Output format. One of: (" + strings.Join(o.Formats(), ", ") + ")."
	}
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return o.Formats(), cobra.ShellCompDirectiveNoFileComp
	})
}

// Formats lists the values -o accepts.
func (o *OutputFlags) Formats() []string {
	var out []string
	if o.wide {
		out = append(out, "wide")
	}
	return append(out, o.print.AllowedFormats()...)
}

// Format is the -o value.
func (o *OutputFlags) Format() string { return *o.print.OutputFormat }

// Human reports whether the command's own human-readable output was asked for.
func (o *OutputFlags) Human() bool {
	f := o.Format()
	return f == "" || (o.wide && f == "wide")
}

// IsWide reports whether -o wide was asked for.
func (o *OutputFlags) IsWide() bool { return o.wide && o.Format() == "wide" }

// Validate refuses an unknown -o value with the list of the accepted ones.
func (o *OutputFlags) Validate() error {
	if o.Human() {
		return nil
	}
	if _, err := o.print.ToPrinter(); err != nil {
		return fmt.Errorf("--output %q is not supported; use one of: %s", o.Format(), strings.Join(o.Formats(), ", "))
	}
	return nil
}

// Printer returns the kubectl Printer for a non-Human -o value.
func (o *OutputFlags) Printer() (printers.ResourcePrinter, error) {
	return o.print.ToPrinter()
}

// PrintObject prints obj with the -o printer; the caller handles the Human formats.
func (o *OutputFlags) PrintObject(obj runtime.Object, out io.Writer) error {
	p, err := o.Printer()
	if err != nil {
		return err
	}
	return p.PrintObj(obj, out)
}

// PrintList prints list (a typed list such as *v1beta2.SparkApplicationList) with the -o printer:
// as one object when whole is true, else item by item, each a document of its own, as the objects
// of a --watch or --follow stream that continues after it are printed. Errors are the printer's, or
// meta.ExtractList's when list is not a list.
func (o *OutputFlags) PrintList(list runtime.Object, whole bool, out io.Writer) error {
	if whole {
		return o.PrintObject(list, out)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, item := range items {
		if err := o.PrintObject(item, out); err != nil {
			return err
		}
	}
	return nil
}

// PrintDone prints the result of a change to one object: with -o, the object in that format; else
// kubectl's "<resource>/<name> <operation>" line.
func (o *OutputFlags) PrintDone(obj runtime.Object, resource, name, operation string, out io.Writer) error {
	if o.Human() {
		_, err := fmt.Fprintf(out, "%s/%s %s\n", resource, name, operation)
		return err
	}
	return o.PrintObject(obj, out)
}

// WrapText breaks s into lines of at most width characters (words are never split), each prefixed
// by indent.
func WrapText(s string, width int, indent string) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, indent+line)
			line = word
			continue
		}
		if line == "" {
			line = word
		} else {
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, indent+line)
	}
	return strings.Join(lines, "\n")
}

// Truncate shortens s to n characters, ending it with "..." when cut, and flattens newlines.
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n || n < 4 {
		return s
	}
	return s[:n-3] + "..."
}

// SortedStrings returns the keys of m in order.
func SortedStrings[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
