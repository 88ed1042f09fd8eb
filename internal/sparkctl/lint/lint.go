// Package lint is `sparkctl lint`: offline checks of SparkApplication and ScheduledSparkApplication
// manifests (what the API server, the operator or Spark would refuse or silently change), each with
// the field, a severity and an explanation.
package lint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
	"github.com/sparkop/spark-operator/internal/sparkctl/printing"
)

// Options are the flags of `sparkctl lint`.
type Options struct {
	// Filenames are the manifests (- for standard input).
	Filenames []string
	// Strict fails on warnings too.
	Strict bool
	// Quiet hides the notes (info findings).
	Quiet bool
	// Output is "" (text) or json.
	Output string
	// KubeSchedulerNames are the operator's --kube-scheduler-names.
	KubeSchedulerNames []string

	streams genericiooptions.IOStreams
	workDir string
	docs    []manifest.Document
}

// lintReport is the result of lint for one document.
type lintReport struct {
	// Source is the file and document.
	Source string `json:"source"`
	// Kind, Namespace and Name identify the object.
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Findings are what lint found, errors first.
	Findings []finding `json:"findings"`
}

// NewCommand returns `sparkctl lint`.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{streams: streams}
	cmd := &cobra.Command{
		Use:   "lint -f FILE...",
		Short: "Check application manifests offline and explain what the operator will do with them",
		Long: `Check SparkApplication and ScheduledSparkApplication manifests without a cluster, and explain each
finding:

  - unknown or duplicate fields (with the field probably meant),
  - sparkConf keys the CRD or the operator refuses, keys the operator overrides, Hadoop keys put in
    sparkConf, and sparkConf values a spec field overrides,
  - spark.jars.packages without a writable spark.jars.ivy (the stock image's home is read-only),
  - files on your disk that were not uploaded (see sparkctl create --upload-to),
  - the memory arithmetic of the driver and executor pods (heap + overhead = request), and heaps
    below Spark's minimum,
  - whatever the operator's submitter would refuse (it is run on the manifest).

Errors mean the application will not run as written, warnings that it probably does not do what was
meant, notes (info) how the operator reads it. The exit code is 1 when there are errors (or
warnings, with --strict).`,
		Example: `  sparkctl lint -f app.yaml
  sparkctl lint -f examples/ --quiet
  sparkctl lint -f app.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o),
	}
	cmd.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "manifests or directories of manifests to check (- for standard input); repeatable")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "exit non-zero on warnings too")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "hide the notes (info findings)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: text (default) or json")
	cmd.Flags().StringSliceVar(&o.KubeSchedulerNames, "kube-scheduler-names", nil, "the operator's --kube-scheduler-names: coscheduling kube-schedulers accepted as spec.batchScheduler besides volcano, yunikorn and kubernetes")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete reads every manifest.
func (o *Options) Complete(*cobra.Command, []string) error {
	if len(o.Filenames) == 0 {
		return errors.New("a manifest is required: sparkctl lint -f FILE (or -f - for standard input)")
	}
	var err error
	if o.workDir, err = os.Getwd(); err != nil {
		return err
	}
	for _, name := range o.Filenames {
		files := []string{name}
		if st, err := os.Stat(name); err == nil && st.IsDir() {
			files, err = manifestsIn(name)
			if err != nil {
				return err
			}
		}
		for _, f := range files {
			docs, err := manifest.ReadDocuments(f, o.streams.In)
			if err != nil {
				return err
			}
			o.docs = append(o.docs, docs...)
		}
	}
	return nil
}

// manifestsIn lists the .yaml, .yml and .json files of a directory.
func manifestsIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".json")) {
			out = append(out, strings.TrimSuffix(dir, "/")+"/"+n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no .yaml, .yml or .json file", dir)
	}
	return out, nil
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if o.Output != "" && o.Output != "text" && o.Output != "json" {
		return fmt.Errorf("--output %q is not supported; use text or json", o.Output)
	}
	return nil
}

// Run lints every document and prints the findings.
func (o *Options) Run(context.Context) error {
	reports := o.lint()
	var errs, warns, infos int
	for _, r := range reports {
		for _, f := range r.Findings {
			switch f.Severity {
			case severityError:
				errs++
			case severityWarning:
				warns++
			default:
				infos++
			}
		}
	}
	if o.Output == "json" {
		out, err := json.MarshalIndent(reports, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(o.streams.Out, string(out))
	} else {
		for _, r := range reports {
			o.printReport(o.streams.Out, r)
		}
		fmt.Fprintf(o.streams.Out, "%s, %s, %s\n", plural(errs, "error"), plural(warns, "warning"), plural(infos, "note"))
	}
	switch {
	case errs > 0:
		return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("lint found %s", plural(errs, "error"))}
	case warns > 0 && o.Strict:
		return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("lint found %s (--strict)", plural(warns, "warning"))}
	}
	return nil
}

// lint checks each document.
func (o *Options) lint() []lintReport {
	var reports []lintReport
	for _, d := range o.docs {
		r := lintReport{Source: d.Where(), Kind: d.Kind}
		if !d.IsOurs() {
			r.Findings = []finding{{Severity: severityInfo, Message: "skipped: " + d.KindError().Error()}}
			if strings.HasPrefix(d.APIVersion, "sparkoperator.k8s.io/") {
				r.Findings[0].Severity = severityError
				r.Findings[0].Message = d.KindError().Error()
			}
			reports = append(reports, r)
			continue
		}
		a, err := manifest.DecodeApplication(d)
		if err != nil {
			r.Findings = []finding{{Severity: severityError, Message: strings.TrimPrefix(err.Error(), d.Where()+": "),
				Explanation: "The document cannot be read as a " + d.Kind + "; the API server would refuse it."}}
			reports = append(reports, r)
			continue
		}
		obj := a.Object()
		r.Namespace, r.Name = obj.GetNamespace(), obj.GetName()
		for _, f := range lintApplication(a, o.workDir, o.KubeSchedulerNames...) {
			if o.Quiet && f.Severity == severityInfo {
				continue
			}
			r.Findings = append(r.Findings, f)
		}
		if r.Findings == nil {
			r.Findings = []finding{}
		}
		reports = append(reports, r)
	}
	return reports
}

// printReport prints the findings of one document, each with its explanation below it.
func (o *Options) printReport(w io.Writer, r lintReport) {
	title := r.Source
	if r.Kind != "" {
		title += ": " + r.Kind
		if r.Name != "" {
			ns := r.Namespace
			if ns == "" {
				ns = "(default namespace)"
			}
			title += " " + ns + "/" + r.Name
		}
	}
	fmt.Fprintln(w, title)
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "  ok")
	}
	for _, f := range r.Findings {
		label := map[string]string{severityError: "error", severityWarning: "warning", severityInfo: "note"}[f.Severity]
		line := f.Message
		if f.Field != "" {
			line = f.Field + ": " + f.Message
		}
		fmt.Fprintf(w, "  %-8s%s\n", label, line)
		if f.Explanation != "" {
			fmt.Fprintln(w, printing.WrapText(f.Explanation, 92, "          "))
		}
	}
	fmt.Fprintln(w)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
