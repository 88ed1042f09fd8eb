package operatorcmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/render"
	"github.com/sparkop/spark-operator/internal/submission"
)

// renderOptions are the flags of `spark-operator render`.
type renderOptions struct {
	file      string
	attempt   int32
	masterURL string
	sparkUser string
	// driverService is --enable-driver-service, as for `controller start`.
	driverService bool
	batch         *batchSchedulerFlags
}

func newRenderCommand() *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print the objects the operator would create for a SparkApplication",
		Long: `Render reads SparkApplication manifests and prints, as a YAML stream, the objects the
operator would create to submit each one: the driver Pod and the ConfigMap holding spark.properties
and the executor pod template (plus the driver's headless Service with --enable-driver-service or
when the application sets the Service's keys, and the metrics ConfigMap when spec.monitoring asks
for it). With --enable-batch-scheduler it hands the application to its batch
scheduler as the operator would, and prints first the objects the scheduler needs (a PodGroup). It is
the same code the operator runs, and needs no cluster.

Unknown fields and applications that cannot be submitted are reported with the field to fix, and
the command exits non-zero.`,
		Example: `  spark-operator render -f examples/spark-pi.yaml
  cat app.yaml | spark-operator render -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := openInput(o.file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			return o.run(in, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&o.file, "filename", "f", "", "SparkApplication manifest to render (- for standard input)")
	cmd.Flags().Int32Var(&o.attempt, "attempt", 1, "submission attempt number (names and ids derive from it)")
	cmd.Flags().StringVar(&o.masterURL, "master-url", submission.DefaultMasterURL, "spark.master written into spark.properties")
	cmd.Flags().StringVar(&o.sparkUser, "spark-user", submission.DefaultSparkUser, "SPARK_USER of the driver when spec.proxyUser is unset")
	cmd.Flags().BoolVar(&o.driverService, "enable-driver-service", false, "render the driver's headless Service for every application, as `controller start --enable-driver-service` submits")
	o.batch = addBatchSchedulerFlags(cmd.Flags())
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func openInput(file string, stdin io.Reader) (io.ReadCloser, error) {
	if file == "-" {
		return io.NopCloser(stdin), nil
	}
	return os.Open(file)
}

// run renders every SparkApplication document of in to out. Other kinds are skipped with a note on
// standard error; the first error stops it.
func (o *renderOptions) run(in io.Reader, out io.Writer) error {
	schedulers, err := o.batch.registry()
	if err != nil {
		return err
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	rendered := 0
	for doc := 1; ; doc++ {
		data, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if isSparkConnect(meta.APIVersion, meta.Kind) {
			text, err := o.renderConnect(data)
			if err != nil {
				return fmt.Errorf("document %d: %w", doc, err)
			}
			if _, err := out.Write(text); err != nil {
				return err
			}
			rendered++
			continue
		}
		if meta.Kind != "SparkApplication" || meta.APIVersion != v1beta2.GroupVersion.String() {
			fmt.Fprintf(os.Stderr, "render: skipping document %d (%s %s): only %s SparkApplication is rendered\n", doc, meta.APIVersion, meta.Kind, v1beta2.GroupVersion)
			continue
		}
		app, err := decodeForRender(data)
		if err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
		text, err := render.Application(app, render.Options{
			Attempt:    o.attempt,
			Submission: submission.Options{MasterURL: o.masterURL, SparkUser: o.sparkUser, DriverService: o.driverService},
			Schedulers: schedulers,
			Notices:    os.Stderr,
		}, time.Now())
		if err != nil {
			return fmt.Errorf("%s/%s: %w", app.Namespace, app.Name, err)
		}
		if _, err := out.Write(text); err != nil {
			return err
		}
		rendered++
	}
	if rendered == 0 {
		return errors.New("no sparkoperator.k8s.io/v1beta2 SparkApplication found in the input")
	}
	return nil
}

// decodeForRender decodes a SparkApplication document strictly, except inside the driver and executor
// pod templates: there, as in the API server and the operator, fields a v1 PodTemplateSpec does not
// have are dropped, with a warning on stderr naming them, and a value of the wrong type is recorded by
// v1beta2.PodTemplate (which decodes its own JSON, leniently) for Render to refuse, naming the field.
func decodeForRender(data []byte) (*v1beta2.SparkApplication, error) {
	app := &v1beta2.SparkApplication{}
	if err := yaml.UnmarshalStrict(data, app); err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	for _, f := range submission.TemplateUnknownFields(obj) {
		if strings.Contains(f, " ") {
			continue // "path (decoding error)": a wrong-typed value, refused by Render
		}
		fmt.Fprintf(os.Stderr, "render: warning: %s/%s: %s: unknown field of a pod template, dropped\n", app.Namespace, app.Name, f)
	}
	return app, nil
}
