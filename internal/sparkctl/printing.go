package sparkctl

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
)

// outputFlags is the -o/--output flag of a command: kubectl's printers for json, yaml, name,
// jsonpath and go-template (cli-runtime's PrintFlags), plus the command's own human-readable output
// for "" and, where the command has one, "wide".
type outputFlags struct {
	print *genericclioptions.PrintFlags
	wide  bool
}

// newOutputFlags returns the output flags of a command; operation is the verb -o name prints after
// the object ("created"); wide says whether the command has a wide table.
func newOutputFlags(operation string, wide bool) *outputFlags {
	return &outputFlags{print: genericclioptions.NewPrintFlags(operation).WithTypeSetter(NewScheme()), wide: wide}
}

// addFlags adds -o/--output (and --template) to cmd, with completion of the formats.
func (o *outputFlags) addFlags(cmd *cobra.Command) {
	o.print.AddFlags(cmd)
	// Replace the help text so it names the formats this command has.
	if f := cmd.Flags().Lookup("output"); f != nil {
		f.Usage = "Output format. One of: (" + strings.Join(o.formats(), ", ") + ")."
	}
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return o.formats(), cobra.ShellCompDirectiveNoFileComp
	})
}

// formats lists the values -o accepts.
func (o *outputFlags) formats() []string {
	var out []string
	if o.wide {
		out = append(out, "wide")
	}
	return append(out, o.print.AllowedFormats()...)
}

// format is the -o value.
func (o *outputFlags) format() string { return *o.print.OutputFormat }

// human reports whether the command's own human-readable output was asked for.
func (o *outputFlags) human() bool {
	f := o.format()
	return f == "" || (o.wide && f == "wide")
}

// isWide reports whether -o wide was asked for.
func (o *outputFlags) isWide() bool { return o.wide && o.format() == "wide" }

// validate refuses an unknown -o value with the list of the accepted ones.
func (o *outputFlags) validate() error {
	if o.human() {
		return nil
	}
	if _, err := o.print.ToPrinter(); err != nil {
		return fmt.Errorf("--output %q is not supported; use one of: %s", o.format(), strings.Join(o.formats(), ", "))
	}
	return nil
}

// printer returns the kubectl printer for a non-human -o value.
func (o *outputFlags) printer() (printers.ResourcePrinter, error) {
	return o.print.ToPrinter()
}

// printObject prints obj with the -o printer; the caller handles the human formats.
func (o *outputFlags) printObject(obj runtime.Object, out io.Writer) error {
	p, err := o.printer()
	if err != nil {
		return err
	}
	return p.PrintObj(obj, out)
}

// printDone prints the result of a change to one object: with -o, the object in that format; else
// kubectl's "<resource>/<name> <operation>" line.
func (o *outputFlags) printDone(obj runtime.Object, resource, name, operation string, out io.Writer) error {
	if o.human() {
		_, err := fmt.Fprintf(out, "%s/%s %s\n", resource, name, operation)
		return err
	}
	return o.printObject(obj, out)
}

// wrapText breaks s into lines of at most width characters (words are never split), each prefixed
// by indent.
func wrapText(s string, width int, indent string) string {
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

// truncate shortens s to n characters, ending it with "..." when cut, and flattens newlines.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n || n < 4 {
		return s
	}
	return s[:n-3] + "..."
}

// sortedStrings returns the keys of m in order.
func sortedStrings[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
