package sparkctl_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/sparkctltest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// s3Env points the AWS SDK of sparkctl at the test's credentials and nothing else of the machine.
func s3Env(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", sparkctltest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sparkctltest.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// localApp writes a PySpark application whose main file and dependencies are on the local disk, in
// a directory that becomes the working directory, and returns its manifest (relative paths).
func localApp(t *testing.T, name string, bigSize int) (dir, manifest string) {
	t.Helper()
	dir = t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("job/main.py", []byte("from pyspark.sql import SparkSession\nprint('hello')\n"))
	write("job/helpers.zip", []byte("PK-not-really-a-zip"))
	big := make([]byte, bigSize)
	_, _ = rand.Read(big)
	write("jars/big-udfs.jar", big)
	app := wrappers.MakeSparkApplication(name, "").Python().MainApplicationFile("job/main.py").
		Spec(func(s *v1beta2.SparkApplicationSpec) {
			s.Deps.PyFiles = []string{"job/helpers.zip"}
			s.Deps.Jars = []string{"file:jars/big-udfs.jar", "s3a://shared/already-remote.jar"}
		}).
		HadoopConf("fs.s3a.endpoint", "http://minio:9000").Obj()
	manifest = filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(manifest, []byte(manifestYAML(t, app)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir, manifest
}

// TestCreateUpload creates an application whose files are local: they are uploaded to the
// in-process S3 server (the large one in parts, with progress), the spec points at them, and the
// operator submits it. A dry run shows the same URIs and uploads nothing; a second create finds
// the files already uploaded.
func TestCreateUpload(t *testing.T) {
	ns := env.NewNamespace(t)
	startOperator(t, ns)
	s3Env(t)
	srv := sparkctltest.StartS3(t, "spark")
	dir, manifest := localApp(t, "py-upload", 12<<20)

	dry := sparkctlOK(t, ns, "create", "-f", manifest, "--upload-to", "s3://spark/apps", "--endpoint", srv.URL, "--dry-run", "-o", "yaml")
	mustContain(t, "dry run", dry, "mainApplicationFile: s3a://spark/apps/"+ns+"/py-upload/", "/main.py", "/helpers.zip", "/big-udfs.jar", "s3a://shared/already-remote.jar")
	if keys := srv.Keys(t, "spark"); len(keys) != 0 {
		t.Fatalf("a dry run uploaded %v", keys)
	}

	r := sparkctlRun(t, ns, "", "create", "-f", manifest, "--upload-to", "s3://spark/apps", "--endpoint", srv.URL)
	logSession(t, []string{"create", "-f", "app.yaml", "--upload-to", "s3://spark/apps", "--endpoint", srv.URL}, r)
	if r.err != nil {
		t.Fatalf("create: %v\n%s", r.err, r.errOut)
	}
	mustContain(t, "create output", r.out, "sparkapplication.sparkoperator.k8s.io/py-upload created")
	mustContain(t, "create progress", r.errOut,
		"uploaded job/main.py (52 B) to s3a://spark/apps/"+ns+"/py-upload/",
		"uploading jars/big-udfs.jar: 8.0 MiB of 12.0 MiB (66%)",
		"uploaded jars/big-udfs.jar (12.0 MiB)",
		"uploaded job/helpers.zip")

	app := util.GetApp(t, env.Client, ns, "py-upload")
	files := map[string]string{*app.Spec.MainApplicationFile: "job/main.py", app.Spec.Deps.PyFiles[0]: "job/helpers.zip", app.Spec.Deps.Jars[0]: "jars/big-udfs.jar"}
	for uri, local := range files {
		key, ok := strings.CutPrefix(uri, "s3a://spark/")
		if !ok {
			t.Fatalf("%s was rewritten to %q", local, uri)
		}
		want, _ := os.ReadFile(filepath.Join(dir, local))
		if got := srv.Object(t, "spark", key); !bytes.Equal(got, want) {
			t.Errorf("%s: the bucket holds %d bytes, want %d", uri, len(got), len(want))
		}
	}
	if app.Spec.Deps.Jars[1] != "s3a://shared/already-remote.jar" {
		t.Errorf("a remote jar was changed: %q", app.Spec.Deps.Jars[1])
	}
	// The operator accepts the rewritten application and submits it.
	util.WaitForState(t, env.Client, ns, "py-upload", v1beta2.ApplicationStateSubmitted)
	cms := &corev1.ConfigMapList{}
	if err := env.Client.List(context.Background(), cms, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelAppName: "py-upload"}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cm := range cms.Items {
		found = found || strings.Contains(cm.Data["spark.properties"], "spark.submit.pyFiles="+strings.ReplaceAll(app.Spec.Deps.PyFiles[0], ":", `\:`))
	}
	if !found {
		t.Errorf("no spark.properties names the uploaded pyFile %s", app.Spec.Deps.PyFiles[0])
	}

	// Again, replacing the application: the files are there already.
	r = sparkctlRun(t, ns, "", "create", "-f", manifest, "--upload-to", "s3://spark/apps", "--endpoint", srv.URL, "--delete")
	if r.err != nil {
		t.Fatalf("create --delete: %v\n%s", r.err, r.errOut)
	}
	if strings.Count(r.errOut, "is already at s3a://spark/apps/") != 3 {
		t.Errorf("second create uploaded again:\n%s", r.errOut)
	}
	mustContain(t, "create --delete", r.errOut, "deleted the existing SparkApplication py-upload")
}

// TestCreateUploadInterrupted interrupts the upload of the large file in the middle of a part: cut
// once, the part is retried and the application created; cut every time, create fails with a
// message naming the file, creates nothing, and deletes the files it had uploaded already.
func TestCreateUploadInterrupted(t *testing.T) {
	ns := env.NewNamespace(t)
	s3Env(t)
	srv := sparkctltest.StartS3(t, "spark")
	proxy := sparkctltest.StartCuttingProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	_, manifest := localApp(t, "py-cut", 11<<20)

	proxy.CutAfter(1<<20, 1)
	r := sparkctlRun(t, ns, "", "create", "-f", manifest, "--upload-to", "s3://spark/apps", "--endpoint", proxy.URL)
	if r.err != nil {
		t.Fatalf("create with one interrupted part: %v\n%s", r.err, r.errOut)
	}
	if proxy.Cuts() != 1 {
		t.Errorf("connections cut: %d, want 1", proxy.Cuts())
	}
	util.GetApp(t, env.Client, ns, "py-cut")
	if got := len(srv.Keys(t, "spark")); got != 3 {
		t.Errorf("bucket holds %d objects, want 3", got)
	}

	// Cut every connection: the new name gets new keys, so every file is uploaded again.
	_, manifest = localApp(t, "py-cut-always", 11<<20)
	before := srv.Keys(t, "spark")
	proxy.CutAfter(1<<20, -1)
	r = sparkctlRun(t, ns, "", "create", "-f", manifest, "--upload-to", "s3://spark/apps", "--endpoint", proxy.URL, "--upload-attempts", "2")
	logSession(t, []string{"create", "-f", "app.yaml", "--upload-to", "s3://spark/apps", "--endpoint", proxy.URL, "--upload-attempts", "2"}, r)
	proxy.CutAfter(0, 0)
	if r.err == nil {
		t.Fatal("create succeeded although every upload of the large file was cut")
	}
	mustContain(t, "error", r.err.Error(),
		"uploading jars/big-udfs.jar (11.0 MiB) to s3://spark/apps/"+ns+"/py-cut-always/",
		"part 1", "nothing was created, and the 1 file(s) uploaded so far were deleted again")
	app := &v1beta2.SparkApplication{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "py-cut-always"}, app); err == nil {
		t.Error("the SparkApplication was created although its upload failed")
	}
	if after := srv.Keys(t, "spark"); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("the failed create left objects behind: before %v, after %v", before, after)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL); o.UsePathStyle = true })
	uploads, err := s3c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("spark")})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("the failed create left %d multipart uploads open", len(uploads.Uploads))
	}
}

// TestCreateRefusals: what create refuses before creating (or uploading) anything.
func TestCreateRefusals(t *testing.T) {
	ns := env.NewNamespace(t)
	base := wrappers.MakeSparkApplication("refused", "")
	local := writeManifest(t, base.Clone().MainApplicationFile("app.jar").Obj())
	unknown := strings.Replace(manifestYAML(t, base.Obj()), "mainClass:", "mainclass:", 1)
	denied := writeManifest(t, base.Clone().SparkConf("spark.master", "local[*]").Obj())
	otherNS := writeManifest(t, base.Clone().Namespace("elsewhere").Obj())
	s3Env(t)
	srv := sparkctltest.StartS3(t, "spark")

	cases := map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"local file without --upload-to": {"", []string{"create", "-f", local}, "spec.mainApplicationFile: app.jar\nupload them with --upload-to s3://BUCKET/PATH"},
		"unknown field":                  {unknown, []string{"create", "-f", "-"}, `spec.mainclass: unknown field; did you mean "mainClass"?`},
		"refused by the API server":      {"", []string{"create", "-f", denied}, "the API server refuses SparkApplication " + ns + "/refused"},
		"namespace mismatch":             {"", []string{"create", "-f", otherNS}, `the manifest's namespace "elsewhere" does not match --namespace "` + ns + `"`},
		"missing bucket":                 {"", []string{"create", "-f", local, "--upload-to", "s3://nope/x", "--endpoint", srv.URL}, ""},
		"gs":                             {"", []string{"create", "-f", local, "--upload-to", "gs://b/x"}, "Google Cloud Storage is not supported"},
		"no manifest":                    {"", []string{"create"}, "a manifest is required"},
		"two manifests":                  {"", []string{"create", "-f", local, local}, "give the manifest once"},
	}
	for name, tc := range cases {
		r := sparkctlRun(t, ns, tc.stdin, tc.args...)
		if r.err == nil {
			t.Errorf("%s: create succeeded", name)
			continue
		}
		want := tc.want
		if name == "missing bucket" {
			// The local file does not exist: reported before the bucket is even looked at.
			want = `local file "app.jar" does not exist`
		}
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("%s: error %q lacks %q", name, r.err, want)
		}
	}
	list := &v1beta2.SparkApplicationList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("refused creates created %d applications", len(list.Items))
	}

	// From standard input; then the same name again is refused.
	good := manifestYAML(t, base.Obj())
	if r := sparkctlRun(t, ns, good, "create", "-f", "-"); r.err != nil {
		t.Fatalf("create from stdin: %v", r.err)
	}
	r := sparkctlRun(t, ns, good, "create", "-f", "-")
	if r.err == nil || !strings.Contains(r.err.Error(), `SparkApplication "refused" already exists in namespace "`+ns+`"; delete it first, or use --delete to replace it`) {
		t.Errorf("second create: %v", r.err)
	}
	if keys := srv.Keys(t, "spark"); len(keys) != 0 {
		t.Errorf("refused creates uploaded %v", keys)
	}
}

// TestCreateMissingBucket: a bucket that does not exist is reported before anything is uploaded or
// created.
func TestCreateMissingBucket(t *testing.T) {
	ns := env.NewNamespace(t)
	s3Env(t)
	srv := sparkctltest.StartS3(t, "spark")
	_, manifest := localApp(t, "no-bucket", 1024)
	r := sparkctlRun(t, ns, "", "create", "-f", manifest, "--upload-to", "s3://missing/apps", "--endpoint", srv.URL)
	if r.err == nil || !strings.Contains(r.err.Error(), `bucket "missing" does not exist at `+srv.URL+"; nothing was uploaded or created") {
		t.Errorf("create to a missing bucket: %v", r.err)
	}
	app := &v1beta2.SparkApplication{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "no-bucket"}, app); err == nil {
		t.Error("the SparkApplication was created")
	}
}
