package sparkctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/render"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
	"github.com/sparkop/spark-operator/internal/submission"
)

// RenderOptions are the flags of `sparkctl render`.
type RenderOptions struct {
	// Filename is the manifest (- for standard input).
	Filename string
	// Attempt is the submission attempt whose names and ids are rendered.
	Attempt int32
	// MasterURL is spark.master.
	MasterURL string
	// SparkUser is SPARK_USER of the driver when spec.proxyUser is unset.
	SparkUser string
	// DriverService renders the driver's headless Service for every application, as the operator
	// does with --enable-driver-service.
	DriverService bool
	// Output is yaml (a YAML stream) or json (a v1 List).
	Output string

	streams genericiooptions.IOStreams
	docs    []manifest.Document
}

// NewRenderCommand returns `sparkctl render`.
func NewRenderCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &RenderOptions{streams: streams, Attempt: 1, MasterURL: submission.DefaultMasterURL, SparkUser: submission.DefaultSparkUser, Output: "yaml"}
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print the objects the operator would create for an application (offline)",
		Long: `Print the objects the operator creates to submit each SparkApplication of a manifest: the driver
Pod, the ConfigMap holding spark.properties and the executor pod template, the driver's headless
Service with --enable-driver-service or when the application sets the Service's keys (and the
metrics ConfigMap with spec.monitoring). It runs the operator's own submission
code (internal/submission), needs no cluster, and reports what the operator would refuse, with the
field to fix. For a ScheduledSparkApplication, its template is rendered.`,
		Example: `  sparkctl render -f examples/spark-pi.yaml
  sparkctl render -f app.yaml -o json | jq '.items[0].spec.containers[0].resources'`,
		Args: cobra.MaximumNArgs(1),
		RunE: cmdutil.RunE(o),
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Filename, "filename", "f", "", "manifest to render (- for standard input)")
	fl.Int32Var(&o.Attempt, "attempt", o.Attempt, "submission attempt number (names and ids derive from it)")
	fl.StringVar(&o.MasterURL, "master-url", o.MasterURL, "spark.master written into spark.properties")
	fl.StringVar(&o.SparkUser, "spark-user", o.SparkUser, "SPARK_USER of the driver when spec.proxyUser is unset")
	fl.BoolVar(&o.DriverService, "enable-driver-service", false, "render the driver's headless Service for every application, as the operator's --enable-driver-service")
	fl.StringVarP(&o.Output, "output", "o", o.Output, "output format: yaml or json")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete reads the manifest.
func (o *RenderOptions) Complete(_ *cobra.Command, args []string) error {
	if err := manifestArgument(&o.Filename, args, "render"); err != nil {
		return err
	}
	docs, err := manifest.ReadDocuments(o.Filename, o.streams.In)
	o.docs = docs
	return err
}

// Validate checks the flags.
func (o *RenderOptions) Validate() error {
	if o.Attempt < 1 {
		return fmt.Errorf("--attempt must be 1 or more, got %d", o.Attempt)
	}
	if o.Output != "yaml" && o.Output != "json" {
		return fmt.Errorf("--output %q is not supported; use yaml or json", o.Output)
	}
	return nil
}

// Run renders every application of the manifest.
func (o *RenderOptions) Run(context.Context) error {
	var items []json.RawMessage
	rendered := 0
	for _, d := range o.docs {
		if !d.IsOurs() {
			fmt.Fprintf(o.streams.ErrOut, "render: skipping %v\n", d.KindError())
			continue
		}
		a, err := manifest.DecodeApplication(d)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(a.Problems, manifest.FieldProblem.Refused); i >= 0 {
			p := a.Problems[i]
			return fmt.Errorf("%s: %s: %s (sparkctl lint -f %s lists every problem)", d.Where(), p.Path, p.Message(), o.Filename)
		}
		app := &v1beta2.SparkApplication{}
		if a.Scheduled != nil {
			app.ObjectMeta = *a.Scheduled.ObjectMeta.DeepCopy()
			app.Spec = *a.Scheduled.Spec.Template.DeepCopy()
		} else {
			app = a.App
		}
		text, err := render.Application(app, render.Options{
			Attempt:    o.Attempt,
			Submission: submission.Options{MasterURL: o.MasterURL, SparkUser: o.SparkUser, DriverService: o.DriverService},
		}, time.Now())
		if err != nil {
			return fmt.Errorf("%s: %s/%s cannot be submitted: %w", d.Where(), app.Namespace, app.Name, err)
		}
		rendered++
		if o.Output == "yaml" {
			if _, err := o.streams.Out.Write(text); err != nil {
				return err
			}
			continue
		}
		docs, err := manifest.SplitDocuments("rendered", bytes.NewReader(text))
		if err != nil {
			return err
		}
		for _, rd := range docs {
			js, err := yaml.YAMLToJSON(rd.Data)
			if err != nil {
				return err
			}
			items = append(items, js)
		}
	}
	if rendered == 0 {
		return fmt.Errorf("no %s SparkApplication or ScheduledSparkApplication found in %s", v1beta2.GroupVersion, o.Filename)
	}
	if o.Output == "json" {
		out, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.streams.Out, string(out))
		return err
	}
	return nil
}
