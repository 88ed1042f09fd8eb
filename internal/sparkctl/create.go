package sparkctl

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
	"github.com/sparkop/spark-operator/internal/sparkctl/printing"
	"github.com/sparkop/spark-operator/internal/sparkctl/upload"
)

// CreateOptions are the flags and arguments of `sparkctl create`.
type CreateOptions struct {
	// Filename is the manifest (- for standard input).
	Filename string
	// UploadTo is the s3://bucket/path local files are uploaded under.
	UploadTo string
	// Endpoint is the URL of an S3-compatible store; empty means AWS S3.
	Endpoint string
	// Region is the bucket's region.
	Region string
	// PathStyle forces path-style bucket addressing (the default with --endpoint).
	PathStyle bool
	// UploadAttempts is how many times each upload request is tried.
	UploadAttempts int
	// PartSize is the multipart upload part size in bytes.
	PartSize int64
	// Delete deletes an existing application of the same name first.
	Delete bool
	// Logs follows the driver's log once the application is created.
	Logs bool
	// DryRun prints what would be created, with the upload URIs, without uploading or creating.
	DryRun bool

	output   *printing.OutputFlags
	f        *Factory
	streams  genericiooptions.IOStreams
	pathSet  bool
	app      *manifest.Application
	ns       string
	workDir  string
	target   upload.Target
	progress *upload.Progress
}

// NewCreateCommand returns `sparkctl create`.
func NewCreateCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &CreateOptions{f: f, streams: streams, output: newOutputFlags("created", false), UploadAttempts: 3, PartSize: upload.DefaultPartSize}
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a SparkApplication or ScheduledSparkApplication, uploading its local files",
		Long: `Create a SparkApplication (or ScheduledSparkApplication) from a manifest.

Files the manifest names on your disk (mainApplicationFile, deps.jars, deps.files, deps.pyFiles,
deps.archives without a scheme or with file:) cannot be read by the driver. With --upload-to
s3://BUCKET/PATH they are uploaded to PATH/NAMESPACE/NAME/HASH/FILE and rewritten to their s3a://
URIs before the application is created; without it, create refuses them. Upload credentials are
the usual AWS ones (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws); --endpoint
selects an S3-compatible store such as MinIO. Files larger than 8 MiB are uploaded in parts with
progress on standard error.

If an upload fails, nothing is created, and the files this command uploaded are deleted again.`,
		Example: `  # Create an application whose files are all in the image or in remote storage
  sparkctl create -f examples/spark-pi.yaml

  # Upload the local main file and dependencies to MinIO first
  sparkctl create -f app.yaml --upload-to s3://spark/apps --endpoint http://minio.minio:9000

  # From standard input, replacing an existing application of the same name, then follow its log
  cat app.yaml | sparkctl create -f - --delete --logs`,
		Args: cobra.MaximumNArgs(1),
		RunE: cmdutil.RunE(o),
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Filename, "filename", "f", "", "manifest of the application (- for standard input); a positional FILE works too")
	fl.StringVarP(&o.UploadTo, "upload-to", "u", "", "upload local files under this s3://BUCKET/PATH and use the uploaded URIs")
	fl.StringVarP(&o.Endpoint, "endpoint", "e", "", "URL of an S3-compatible store (e.g. http://minio:9000); default AWS S3, or $AWS_ENDPOINT_URL")
	fl.StringVarP(&o.Region, "region", "r", "", "region of the bucket (default from the AWS configuration, else us-east-1)")
	fl.BoolVar(&o.PathStyle, "s3-force-path-style", false, "address the bucket as ENDPOINT/BUCKET (default true with --endpoint)")
	fl.IntVar(&o.UploadAttempts, "upload-attempts", o.UploadAttempts, "how many times each upload request is tried before giving up")
	fl.Int64Var(&o.PartSize, "upload-part-size", o.PartSize, "part size in bytes of multipart uploads (at least 5 MiB)")
	_ = fl.MarkHidden("upload-part-size")
	fl.BoolVarP(&o.Delete, "delete", "d", false, "delete an existing application of the same name first")
	fl.BoolVarP(&o.Logs, "logs", "l", false, "follow the driver's log once the application is created")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print what would be created (with upload URIs) without uploading or creating")
	o.output.AddFlags(cmd)
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

// Complete reads the arguments, the manifest and the namespace.
func (o *CreateOptions) Complete(cmd *cobra.Command, args []string) error {
	if err := manifestArgument(&o.Filename, args, "create"); err != nil {
		return err
	}
	o.pathSet = cmd.Flags().Changed("s3-force-path-style")
	docs, err := manifest.ReadDocuments(o.Filename, o.streams.In)
	if err != nil {
		return err
	}
	if len(docs) > 1 {
		return fmt.Errorf("%s holds %d objects; create takes one application (use kubectl apply -f for several)", docs[0].Source, len(docs))
	}
	o.app, err = manifest.DecodeApplication(docs[0])
	if err != nil {
		return err
	}
	if o.workDir, err = os.Getwd(); err != nil {
		return err
	}
	ns, explicit, err := o.f.Namespace()
	if err != nil {
		return err
	}
	obj := o.app.Object()
	switch {
	case obj.GetNamespace() == "":
		obj.SetNamespace(ns)
	case explicit && obj.GetNamespace() != ns:
		return fmt.Errorf("the manifest's namespace %q does not match --namespace %q; drop one of them", obj.GetNamespace(), ns)
	}
	o.ns = obj.GetNamespace()
	o.progress = upload.NewProgress(o.streams.ErrOut, isTerminal(o.streams.ErrOut))
	return nil
}

// Validate refuses unknown fields, local files without --upload-to, and bad upload settings.
func (o *CreateOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	if slices.ContainsFunc(o.app.Problems, manifest.FieldProblem.Refused) {
		var lines []string
		for _, p := range o.app.Problems {
			lines = append(lines, fmt.Sprintf("  %s: %s", p.Path, p.Message()))
		}
		return fmt.Errorf("%s has fields the API does not know, or gives some twice:\n%s\n(sparkctl lint -f %s explains more)", o.app.Doc.Where(), strings.Join(lines, "\n"), o.Filename)
	}
	if o.app.Object().GetName() == "" {
		return fmt.Errorf("%s: metadata.name is required", o.app.Doc.Where())
	}
	local := manifest.LocalFileRefs(o.app.Spec(), o.app.SpecPath())
	if o.UploadTo == "" {
		if len(local) > 0 {
			var lines []string
			for _, r := range local {
				lines = append(lines, fmt.Sprintf("  %s: %s", r.Field, *r.Value))
			}
			return fmt.Errorf("these files are on your disk, where the driver cannot read them:\n%s\nupload them with --upload-to s3://BUCKET/PATH, or use local:// for files in the image", strings.Join(lines, "\n"))
		}
		for _, name := range []string{"endpoint", "region"} {
			if (name == "endpoint" && o.Endpoint != "") || (name == "region" && o.Region != "") {
				return fmt.Errorf("--%s only matters with --upload-to", name)
			}
		}
		return nil
	}
	t, err := upload.ParseTarget(o.UploadTo)
	if err != nil {
		return err
	}
	o.target = t
	if o.UploadAttempts < 1 {
		return fmt.Errorf("--upload-attempts must be at least 1, got %d", o.UploadAttempts)
	}
	if o.PartSize < 5<<20 {
		return fmt.Errorf("--upload-part-size must be at least 5 MiB (S3's minimum), got %d", o.PartSize)
	}
	return nil
}

// Run uploads the local files and creates the application.
func (o *CreateOptions) Run(ctx context.Context) error {
	obj := o.app.Object()
	kind, resource := o.app.Doc.Kind, appResource
	if o.app.Scheduled != nil {
		resource = scheduledResource
	}
	var plans []*upload.Upload
	if o.UploadTo != "" {
		var err error
		plans, err = upload.Plan(manifest.LocalFileRefs(o.app.Spec(), o.app.SpecPath()), o.target, o.workDir, o.ns, obj.GetName())
		if err != nil {
			return err
		}
		if len(plans) == 0 {
			fmt.Fprintf(o.streams.ErrOut, "no local files to upload: every file of %s is remote or in the image\n", obj.GetName())
		}
	}
	if o.DryRun {
		upload.Rewrite(plans)
		return o.output.PrintDone(obj, resource, obj.GetName(), "created (dry run)", o.streams.Out)
	}

	c, err := o.f.Client()
	if err != nil {
		return err
	}
	if err := o.replaceExisting(ctx, c, kind); err != nil {
		return err
	}
	// Let the API server check the object before anything is uploaded.
	if err := c.Create(ctx, obj.DeepCopyObject().(client.Object), client.DryRunAll, client.FieldValidation("Strict")); err != nil {
		return fmt.Errorf("the API server refuses %s %s/%s: %w", kind, o.ns, obj.GetName(), err)
	}

	var up *upload.Uploader
	if len(plans) > 0 {
		up, err = upload.NewUploader(ctx, o.target, upload.Settings{
			Endpoint: o.Endpoint, Region: o.Region, PathStyle: o.PathStyle || (!o.pathSet && o.Endpoint != ""),
			MaxAttempts: o.UploadAttempts, PartSize: o.PartSize,
		}, o.progress)
		if err != nil {
			return err
		}
		if err := up.CheckBucket(ctx); err != nil {
			return fmt.Errorf("%w; nothing was uploaded or created", err)
		}
		if err := up.UploadAll(ctx, plans); err != nil {
			return o.failed(ctx, up, err)
		}
		upload.Rewrite(plans)
		o.hintS3AConfig()
	}
	if err := c.Create(ctx, obj, client.FieldValidation("Strict")); err != nil {
		return o.failed(ctx, up, fmt.Errorf("creating %s %s/%s: %w", kind, o.ns, obj.GetName(), err))
	}
	if err := o.output.PrintDone(obj, resource, obj.GetName(), "created", o.streams.Out); err != nil {
		return err
	}
	if o.Logs && o.app.App != nil {
		l := &LogOptions{target: newTarget(o.f, o.streams, nil), Follow: true, Executor: -1, Tail: -1, PodRunningTimeout: 5 * time.Minute}
		l.Name, l.ns = obj.GetName(), o.ns
		return l.Run(ctx)
	}
	return nil
}

// failed rolls back the uploads of a create that did not complete and says so.
func (o *CreateOptions) failed(ctx context.Context, up *upload.Uploader, err error) error {
	msg := "nothing was created"
	if up != nil {
		n := up.Created()
		if rerr := up.Rollback(ctx); rerr != nil {
			return fmt.Errorf("%w\n%s; deleting the files uploaded so far failed too: %v", err, msg, rerr)
		}
		if n > 0 {
			msg += fmt.Sprintf(", and the %d file(s) uploaded so far were deleted again", n)
		}
	}
	return fmt.Errorf("%w\n%s", err, msg)
}

// replaceExisting refuses to go on when the application exists, or deletes it first with --delete.
func (o *CreateOptions) replaceExisting(ctx context.Context, c client.Client, kind string) error {
	obj := o.app.Object()
	existing := obj.DeepCopyObject().(client.Object)
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking for an existing %s %s/%s: %w", kind, o.ns, obj.GetName(), err)
	}
	if !o.Delete {
		return fmt.Errorf("%s %q already exists in namespace %q; delete it first, or use --delete to replace it", kind, obj.GetName(), o.ns)
	}
	if err := c.Delete(ctx, existing, client.PropagationPolicy("Background")); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the existing %s %s/%s: %w", kind, o.ns, obj.GetName(), err)
	}
	fmt.Fprintf(o.streams.ErrOut, "deleted the existing %s %s; waiting for it to be gone\n", kind, obj.GetName())
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// hintS3AConfig reminds the user that the driver needs S3A settings to read the uploaded files when
// the application sets none.
func (o *CreateOptions) hintS3AConfig() {
	spec := o.app.Spec()
	for k := range spec.HadoopConf {
		if strings.HasPrefix(k, "fs.s3a.") {
			return
		}
	}
	for k := range spec.SparkConf {
		if strings.HasPrefix(k, "spark.hadoop.fs.s3a.") {
			return
		}
	}
	hint := "note: the driver reads the uploaded files through Hadoop S3A; the application sets no fs.s3a.* options, so the image's defaults (AWS credentials chain) apply"
	if o.Endpoint != "" {
		hint += fmt.Sprintf("; for %s set hadoopConf fs.s3a.endpoint, fs.s3a.path.style.access and credentials", o.Endpoint)
	}
	fmt.Fprintln(o.streams.ErrOut, hint)
}

// isTerminal reports whether w is a terminal (progress is then rewritten in place).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
