// Package upload is `sparkctl create --upload-to`: local files of a spec uploaded to S3 (or an
// S3-compatible store) under content-addressed keys, the spec rewritten to the s3a:// URIs, and the
// uploads deleted again when the create fails.
package upload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
)

// uploadedScheme is the scheme of the URIs uploaded files are rewritten to: Hadoop's S3A file system,
// which Spark images use for S3 and S3-compatible stores (hadoop-aws).
const uploadedScheme = "s3a"

// DefaultPartSize is the size of the parts of a multipart upload; files larger than it are uploaded
// in parts, with progress reported after each.
const DefaultPartSize = 8 << 20

// Target is where --upload-to points: a bucket and a key prefix (without slashes at the ends).
type Target struct {
	bucket, prefix string
}

// String returns the target as an s3:// URL.
func (t Target) String() string {
	if t.prefix == "" {
		return "s3://" + t.bucket
	}
	return "s3://" + t.bucket + "/" + t.prefix
}

// ParseTarget parses --upload-to: s3://bucket[/prefix] (s3a:// is accepted too).
func ParseTarget(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Target{}, fmt.Errorf("--upload-to %q is not an s3://BUCKET/PATH URL", s)
	}
	switch u.Scheme {
	case "s3", "s3a":
	case "gs":
		return Target{}, fmt.Errorf("--upload-to %q: Google Cloud Storage is not supported; use s3:// (GCS has an S3-compatible endpoint: --endpoint https://storage.googleapis.com with HMAC keys)", s)
	default:
		return Target{}, fmt.Errorf("--upload-to %q: only s3://BUCKET/PATH is supported (S3, or an S3-compatible store with --endpoint)", s)
	}
	return Target{bucket: u.Host, prefix: strings.Trim(u.Path, "/")}, nil
}

// Upload is one local file to upload and the URI it becomes.
type Upload struct {
	// local is the absolute path of the file; display how the manifest names it.
	local, display string
	size           int64
	sha256         string
	// key is the object key; uri the s3a:// URI written into the spec (without fragment).
	key, uri string
	// refs are the spec fields naming this file, and their fragments.
	refs []manifest.FileRef
}

// Plan checks every local file of refs, hashes it, and decides its key:
// <prefix>/<namespace>/<name>/<first 16 hex of sha256>/<file name>. The content hash keeps a new
// version of a file from replacing one a running application reads, and lets an unchanged file be
// found already uploaded. A file named twice is uploaded once.
func Plan(refs []manifest.FileRef, target Target, workDir, namespace, name string) ([]*Upload, error) {
	var plans []*Upload
	byPath := map[string]*Upload{}
	for _, r := range refs {
		p, _ := manifest.LocalPath(*r.Value)
		abs := manifest.ResolvePath(workDir, p)
		if u, ok := byPath[abs]; ok {
			u.refs = append(u.refs, r)
			continue
		}
		st, err := os.Stat(abs)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%s: local file %q does not exist (relative paths are read from the current directory, %s)", r.Field, p, workDir)
		case err != nil:
			return nil, fmt.Errorf("%s: %w", r.Field, err)
		case st.IsDir():
			return nil, fmt.Errorf("%s: %q is a directory; upload files (for a directory, make an archive and list it in deps.archives)", r.Field, p)
		}
		sum, err := hashFile(abs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Field, err)
		}
		key := path.Join(target.prefix, namespace, name, sum[:16], filepath.Base(abs))
		u := &Upload{local: abs, display: p, size: st.Size(), sha256: sum, key: key,
			uri: fmt.Sprintf("%s://%s/%s", uploadedScheme, target.bucket, key), refs: []manifest.FileRef{r}}
		byPath[abs] = u
		plans = append(plans, u)
	}
	return plans, nil
}

// Rewrite points the spec fields of the planned uploads at the uploaded URIs, keeping fragments.
func Rewrite(plans []*Upload) {
	for _, u := range plans {
		for _, r := range u.refs {
			_, frag := manifest.LocalPath(*r.Value)
			*r.Value = u.uri + frag
		}
	}
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Settings configure the S3 client.
type Settings struct {
	// Endpoint is the URL of an S3-compatible store (MinIO, Ceph, ...); empty means AWS.
	Endpoint string
	// Region is the bucket's region; empty means the AWS configuration's, else us-east-1.
	Region string
	// PathStyle addresses buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint>.
	PathStyle bool
	// MaxAttempts is how many times a request is tried before giving up.
	MaxAttempts int
	// PartSize is the multipart part size.
	PartSize int64
}

// Uploader uploads files to S3 and remembers what it created, so a failed create can delete it.
type Uploader struct {
	s3       *s3.Client
	target   Target
	partSize int64
	progress *Progress

	mu      sync.Mutex
	created []string
}

// NewUploader returns an uploader for target. Credentials come from the usual AWS places: the
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables, AWS_PROFILE and ~/.aws, or the
// instance's role.
func NewUploader(ctx context.Context, target Target, s Settings, progress *Progress) (*Uploader, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(s.MaxAttempts)}
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
		o.UsePathStyle = s.PathStyle
		// S3-compatible stores often lack the newer checksum headers; TLS and SigV4 protect the data.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	partSize := s.PartSize
	if partSize <= 0 {
		partSize = DefaultPartSize
	}
	return &Uploader{s3: client, target: target, partSize: partSize, progress: progress}, nil
}

// CheckBucket fails early, with a clear message, when the bucket is missing or not accessible.
func (u *Uploader) CheckBucket(ctx context.Context) error {
	_, err := u.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(u.target.bucket)})
	if err == nil {
		return nil
	}
	switch httpStatus(err) {
	case 404:
		return fmt.Errorf("bucket %q does not exist at %s", u.target.bucket, u.endpointName())
	case 403, 401:
		return fmt.Errorf("access to bucket %q at %s is denied; check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE): %w", u.target.bucket, u.endpointName(), describeS3Error(err))
	}
	return fmt.Errorf("reaching bucket %q at %s: %w", u.target.bucket, u.endpointName(), describeS3Error(err))
}

func (u *Uploader) endpointName() string {
	if e := u.s3.Options().BaseEndpoint; e != nil {
		return *e
	}
	return "AWS S3 (" + u.s3.Options().Region + ")"
}

// httpStatus returns the HTTP status code of an AWS error, or 0.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// exists reports whether the object of up is already there with the same size (its key holds the
// content hash, so same key and size means same content).
func (u *Uploader) exists(ctx context.Context, up *Upload) (bool, error) {
	out, err := u.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.target.bucket), Key: aws.String(up.key)})
	if err != nil {
		if httpStatus(err) == 404 {
			return false, nil
		}
		var nf *s3types.NotFound
		if errors.As(err, &nf) {
			return false, nil
		}
		return false, err
	}
	return out.ContentLength != nil && *out.ContentLength == up.size, nil
}

// upload uploads one file, in parts when it is larger than the part size. It returns whether the
// file was already there.
func (u *Uploader) upload(ctx context.Context, up *Upload) (skipped bool, err error) {
	found, err := u.exists(ctx, up)
	if err != nil {
		return false, fmt.Errorf("checking s3://%s/%s: %w", u.target.bucket, up.key, err)
	}
	if found {
		return true, nil
	}
	f, err := os.Open(up.local)
	if err != nil {
		return false, err
	}
	defer f.Close()
	meta := map[string]string{"sha256": up.sha256}
	if up.size <= u.partSize {
		_, err = u.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(u.target.bucket), Key: aws.String(up.key),
			Body: io.NewSectionReader(f, 0, up.size), ContentLength: aws.Int64(up.size), Metadata: meta,
		})
	} else {
		err = u.multipart(ctx, f, up, meta)
	}
	if err != nil {
		return false, err
	}
	u.mu.Lock()
	u.created = append(u.created, up.key)
	u.mu.Unlock()
	return false, nil
}

// multipart uploads a large file in parts, reporting progress after each; on failure it aborts the
// upload so that no partial object or orphaned parts stay behind.
func (u *Uploader) multipart(ctx context.Context, f *os.File, up *Upload, meta map[string]string) (err error) {
	partSize := u.partSize
	const maxParts = 10000 // S3's limit
	if up.size/partSize >= maxParts {
		partSize = (up.size/maxParts + 1 + (1<<20 - 1)) &^ (1<<20 - 1)
	}
	created, err := u.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(u.target.bucket), Key: aws.String(up.key), Metadata: meta,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			return
		}
		// Abort even when ctx was cancelled (Ctrl-C), within a bounded time.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, aerr := u.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(u.target.bucket), Key: aws.String(up.key), UploadId: created.UploadId,
		}); aerr != nil {
			err = fmt.Errorf("%w (aborting the multipart upload %s also failed: %v)", err, aws.ToString(created.UploadId), aerr)
		}
	}()
	var parts []s3types.CompletedPart
	var done int64
	for n := int32(1); done < up.size; n++ {
		size := min(partSize, up.size-done)
		out, err := u.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(u.target.bucket), Key: aws.String(up.key), UploadId: created.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(f, done, size), ContentLength: aws.Int64(size),
		})
		if err != nil {
			return &partError{n: n, first: done, end: done + size - 1, err: err}
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		done += size
		u.progress.update(up, done)
	}
	_, err = u.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(u.target.bucket), Key: aws.String(up.key), UploadId: created.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// Created is how many objects this uploader created (and Rollback would delete).
func (u *Uploader) Created() int { return len(u.created) }

// Rollback deletes the objects this uploader created, so that a failed create leaves nothing
// behind. Objects that were already there are kept: other applications may use them.
func (u *Uploader) Rollback(ctx context.Context) error {
	u.mu.Lock()
	keys := u.created
	u.created = nil
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	for _, k := range keys {
		if _, err := u.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(u.target.bucket), Key: aws.String(k)}); err != nil {
			errs = append(errs, fmt.Errorf("deleting s3://%s/%s: %w", u.target.bucket, k, err))
		}
	}
	return errors.Join(errs...)
}

// UploadAll uploads every planned file in order, reporting each on the progress writer.
func (u *Uploader) UploadAll(ctx context.Context, plans []*Upload) error {
	for _, up := range plans {
		u.progress.start(up)
		skipped, err := u.upload(ctx, up)
		if err != nil {
			u.progress.failed(up)
			return fmt.Errorf("uploading %s (%s) to s3://%s/%s: %w", up.display, HumanBytes(up.size), u.target.bucket, up.key, describeS3Error(err))
		}
		u.progress.finish(up, skipped)
	}
	return nil
}

// describeS3Error shortens an AWS SDK error to what went wrong: the service's error code and
// message, or the network error at the bottom of the chain, and how many attempts were made.
func describeS3Error(err error) error {
	var prefix error
	var part *partError
	if errors.As(err, &part) {
		prefix, err = part, part.err
	}
	attempts := ""
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		attempts = fmt.Sprintf(" (gave up after %d attempts)", maxAttempts.Attempt)
	}
	var api smithy.APIError
	var msg string
	switch {
	case errors.As(err, &api):
		msg = api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		if code := httpStatus(err); code != 0 {
			msg = fmt.Sprintf("HTTP %d %s", code, msg)
		}
	default:
		root := err
		for {
			next := errors.Unwrap(root)
			if next == nil {
				break
			}
			root = next
		}
		msg = root.Error()
	}
	out := errors.New(msg + attempts)
	if prefix != nil {
		out = fmt.Errorf("%s: %w", prefix.Error(), out)
	}
	return &wrappedError{msg: out.Error(), err: err}
}

// wrappedError shows a short message but keeps the original error for errors.Is and errors.As.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }
func (e *wrappedError) Unwrap() error { return e.err }

// partError names the part of a multipart upload that failed.
type partError struct {
	n          int32
	first, end int64
	err        error
}

func (e *partError) Error() string {
	return fmt.Sprintf("part %d (bytes %d-%d)", e.n, e.first, e.end)
}
func (e *partError) Unwrap() error { return e.err }

// NewProgress returns the progress report of uploads written to w; tty says w is a terminal, where
// the share done is rewritten in place.
func NewProgress(w io.Writer, tty bool) *Progress { return &Progress{w: w, tty: tty} }

// Progress reports uploads on the error stream: one line per file, and for files uploaded in parts
// the share done after each part (rewritten in place on a terminal, at every tenth otherwise).
type Progress struct {
	w   io.Writer
	tty bool

	mu      sync.Mutex
	shown   int // last tenth printed (non-terminal)
	started time.Time
}

func (p *Progress) start(up *Upload) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown, p.started = 0, time.Now()
	if p.tty {
		fmt.Fprintf(p.w, "uploading %s (%s) ...", up.display, HumanBytes(up.size))
	}
}

func (p *Progress) update(up *Upload, done int64) {
	if p == nil || done >= up.size {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := int(done * 100 / up.size)
	if p.tty {
		fmt.Fprintf(p.w, "\ruploading %s: %s of %s (%d%%) ", up.display, HumanBytes(done), HumanBytes(up.size), pct)
		return
	}
	if tenth := pct / 10; tenth > p.shown {
		p.shown = tenth
		fmt.Fprintf(p.w, "uploading %s: %s of %s (%d%%)\n", up.display, HumanBytes(done), HumanBytes(up.size), pct)
	}
}

func (p *Progress) finish(up *Upload, skipped bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	if skipped {
		fmt.Fprintf(p.w, "%s (%s) is already at %s\n", up.display, HumanBytes(up.size), up.uri)
		return
	}
	fmt.Fprintf(p.w, "uploaded %s (%s) to %s in %s\n", up.display, HumanBytes(up.size), up.uri, time.Since(p.started).Round(time.Millisecond))
}

func (p *Progress) failed(*Upload) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// HumanBytes formats a size as "12 B", "1.5 KiB", "96.0 MiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
