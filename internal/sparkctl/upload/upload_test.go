package upload

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
	"github.com/sparkop/spark-operator/internal/sparkctl/sparkctltest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

func TestParseUploadTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"s3://bucket":            {bucket: "bucket"},
		"s3://bucket/":           {bucket: "bucket"},
		"s3://bucket/apps/team/": {bucket: "bucket", prefix: "apps/team"},
		"s3a://bucket/apps":      {bucket: "bucket", prefix: "apps"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("parseUploadTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"gs://bucket/x":   "Google Cloud Storage is not supported",
		"https://b/x":     "only s3://BUCKET/PATH",
		"bucket/x":        "not an s3://BUCKET/PATH URL",
		"s3:///no-bucket": "not an s3://BUCKET/PATH URL",
	} {
		if _, err := ParseTarget(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseUploadTarget(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string][2]string{
		"main.py":                {"main.py", ""},
		"/abs/app.jar":           {"/abs/app.jar", ""},
		"file:///tmp/a.jar":      {"/tmp/a.jar", ""},
		"file:rel/a.jar":         {"rel/a.jar", ""},
		"env.tar.gz#environment": {"env.tar.gz", "#environment"},
		"file:///x/y.zip#alias":  {"/x/y.zip", "#alias"},
	} {
		p, frag := manifest.LocalPath(in)
		if p != want[0] || frag != want[1] {
			t.Errorf("localPath(%q) = %q, %q; want %q, %q", in, p, frag, want[0], want[1])
		}
	}
}

func TestPlanUploads(t *testing.T) {
	dir := t.TempDir()
	util.WriteFile(t, dir, "main.py", 0, "print(1)\n")
	util.WriteFile(t, dir, "lib/helpers.zip", 0, "zip")
	spec := &v1beta2.SparkApplicationSpec{
		MainApplicationFile: aws.String("main.py"),
		Deps: v1beta2.Dependencies{
			PyFiles:  []string{"file:lib/helpers.zip", "s3a://other/remote.zip", "lib/helpers.zip"},
			Archives: []string{"lib/helpers.zip#env"},
			Jars:     []string{"local:///opt/spark/jars/x.jar"},
		},
	}
	refs := manifest.LocalFileRefs(spec, "spec")
	if len(refs) != 4 {
		t.Fatalf("local refs = %d, want 4 (main, 2 pyFiles, 1 archive): %+v", len(refs), refs)
	}
	plans, err := Plan(refs, Target{bucket: "b", prefix: "apps"}, dir, "ns", "app")
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 {
		t.Fatalf("planned %d uploads, want 2 (the zip named thrice is uploaded once)", len(plans))
	}
	main := plans[0]
	if !strings.HasPrefix(main.key, "apps/ns/app/") || !strings.HasSuffix(main.key, "/main.py") || len(strings.Split(main.key, "/")) != 5 {
		t.Errorf("key = %q, want apps/ns/app/<hash>/main.py", main.key)
	}
	Rewrite(plans)
	if !strings.HasPrefix(*spec.MainApplicationFile, "s3a://b/apps/ns/app/") {
		t.Errorf("mainApplicationFile = %q", *spec.MainApplicationFile)
	}
	zip := plans[1].uri
	want := []string{zip, "s3a://other/remote.zip", zip}
	for i := range want {
		if spec.Deps.PyFiles[i] != want[i] {
			t.Errorf("pyFiles[%d] = %q, want %q", i, spec.Deps.PyFiles[i], want[i])
		}
	}
	if spec.Deps.Archives[0] != zip+"#env" {
		t.Errorf("archives[0] = %q, want the fragment kept: %q", spec.Deps.Archives[0], zip+"#env")
	}

	// A missing file and a directory are refused with the field.
	spec = &v1beta2.SparkApplicationSpec{MainApplicationFile: aws.String("nope.py"), Deps: v1beta2.Dependencies{Files: []string{"lib"}}}
	_, err = Plan(manifest.LocalFileRefs(spec, "spec"), Target{bucket: "b"}, dir, "ns", "app")
	if err == nil || !strings.Contains(err.Error(), "spec.mainApplicationFile") || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: error = %v", err)
	}
	spec.MainApplicationFile = aws.String("main.py")
	_, err = Plan(manifest.LocalFileRefs(spec, "spec"), Target{bucket: "b"}, dir, "ns", "app")
	if err == nil || !strings.Contains(err.Error(), "spec.deps.files[0]") || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: error = %v", err)
	}
}

// testUploader returns an uploader for the S3 server (or the proxy) at endpoint.
func testUploader(t *testing.T, endpoint, bucket string, attempts int, out *bytes.Buffer) *Uploader {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", sparkctltest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sparkctltest.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	u, err := NewUploader(context.Background(), Target{bucket: bucket, prefix: "up"},
		Settings{Endpoint: endpoint, PathStyle: true, MaxAttempts: attempts, PartSize: 5 << 20}, NewProgress(out, false))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUploader uploads a small and a large (multipart) file to the in-process S3 server, finds them
// there when uploading again, and rolls them back.
func TestUploader(t *testing.T) {
	srv := sparkctltest.StartS3(t, "bucket")
	dir := t.TempDir()
	small := util.WriteFile(t, dir, "main.py", 0, "print('hello')\n")
	large := util.WriteFile(t, dir, "big.jar", 12<<20, "")
	spec := &v1beta2.SparkApplicationSpec{MainApplicationFile: aws.String(small), Deps: v1beta2.Dependencies{Jars: []string{large}}}
	plans, err := Plan(manifest.LocalFileRefs(spec, "spec"), Target{bucket: "bucket", prefix: "up"}, dir, "ns", "app")
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	u := testUploader(t, srv.URL, "bucket", 3, &progress)
	ctx := context.Background()
	if err := u.CheckBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if err := u.UploadAll(ctx, plans); err != nil {
		t.Fatalf("upload: %v", err)
	}
	for _, p := range plans {
		want, _ := os.ReadFile(p.local)
		if got := srv.Object(t, "bucket", p.key); !bytes.Equal(got, want) {
			t.Errorf("s3://bucket/%s holds %d bytes, want the %d of %s", p.key, len(got), len(want), p.local)
		}
	}
	out := progress.String()
	for _, want := range []string{"uploading " + large + ": 5.0 MiB of 12.0 MiB (41%)", "uploading " + large + ": 10.0 MiB of 12.0 MiB (83%)", "uploaded " + large + " (12.0 MiB) to s3a://bucket/up/ns/app/", "uploaded " + small} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}

	// Uploading again finds both; nothing new is created.
	progress.Reset()
	u2 := testUploader(t, srv.URL, "bucket", 3, &progress)
	if err := u2.UploadAll(ctx, plans); err != nil {
		t.Fatal(err)
	}
	if len(u2.created) != 0 || strings.Count(progress.String(), "is already at") != 2 {
		t.Errorf("second upload created %v; progress:\n%s", u2.created, progress.String())
	}

	// Rollback deletes what the first uploader created.
	if err := u.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := srv.Keys(t, "bucket"); len(keys) != 0 {
		t.Errorf("after rollback the bucket holds %v", keys)
	}

	// A missing bucket is reported as such.
	u3 := testUploader(t, srv.URL, "missing", 1, &progress)
	if err := u3.CheckBucket(ctx); err == nil || !strings.Contains(err.Error(), `bucket "missing" does not exist`) {
		t.Errorf("checkBucket(missing) = %v", err)
	}
}

// TestUploaderInterrupted cuts the connection in the middle of a part: once (the retry succeeds),
// then always (the upload fails and the multipart upload is aborted, leaving nothing behind).
func TestUploaderInterrupted(t *testing.T) {
	srv := sparkctltest.StartS3(t, "bucket")
	proxy := sparkctltest.StartCuttingProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	dir := t.TempDir()
	large := util.WriteFile(t, dir, "big.jar", 11<<20, "")
	spec := &v1beta2.SparkApplicationSpec{MainApplicationFile: aws.String(large)}
	plans, err := Plan(manifest.LocalFileRefs(spec, "spec"), Target{bucket: "bucket", prefix: "up"}, dir, "ns", "app")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var progress bytes.Buffer

	proxy.CutAfter(1<<20, 1)
	u := testUploader(t, proxy.URL, "bucket", 3, &progress)
	if err := u.UploadAll(ctx, plans); err != nil {
		t.Fatalf("an upload interrupted once should be retried and succeed: %v", err)
	}
	if proxy.Cuts() != 1 {
		t.Errorf("cuts = %d, want 1", proxy.Cuts())
	}
	want, _ := os.ReadFile(large)
	if got := srv.Object(t, "bucket", plans[0].key); !bytes.Equal(got, want) {
		t.Fatalf("after a retried part the object holds %d bytes, want %d", len(got), len(want))
	}
	if err := u.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	proxy.CutAfter(1<<20, -1)
	u = testUploader(t, proxy.URL, "bucket", 2, &progress)
	start := time.Now()
	err = u.UploadAll(ctx, plans)
	if err == nil {
		t.Fatal("an upload cut on every attempt succeeded")
	}
	if !strings.Contains(err.Error(), "uploading "+large+" (11.0 MiB) to s3://bucket/up/ns/app/") || !strings.Contains(err.Error(), "part 1") {
		t.Errorf("error does not say what failed: %v", err)
	}
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	proxy.CutAfter(0, 0)
	if keys := srv.Keys(t, "bucket"); len(keys) != 0 {
		t.Errorf("a failed upload left objects: %v", keys)
	}
	// The aborted multipart upload is gone too.
	uploads, err := u.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("bucket")})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("a failed upload left %d multipart uploads open", len(uploads.Uploads))
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 12 << 20: "12.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
