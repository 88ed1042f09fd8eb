// Package crd_test checks the SparkApplication and ScheduledSparkApplication CRDs against a real
// kube-apiserver (etcd + kube-apiserver from the repository's bin/, through
// internal/testing/framework): the examples and the users' manifests are accepted and defaulted as
// documented, bad input is rejected at admission with a message naming the field, and the CRDs stay
// small enough for `kubectl apply`.
//
// Run with: go test ./test/integration/crd/...   (needs `make tools` once, for bin/).
package crd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// env is the control plane shared by every test of the package.
var env *framework.Env

// fieldOwner is the field manager of every write of these tests.
const fieldOwner = "crd-integration-test"

func TestMain(m *testing.M) {
	// Only errors of envtest and the client are worth printing.
	logger := funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) },
		funcr.Options{Verbosity: 0})
	util.Main(m, &env, framework.WithScheme(v1beta2.AddToScheme, v1alpha1.AddToScheme), framework.WithLogger(logger))
}

// manifest is one YAML document of a file.
type manifest struct {
	file  string // path relative to the repository root
	index int    // position of the document in the file
	obj   *unstructured.Unstructured
	// wantInvalid holds the substrings the rejection message must contain, from the file's
	// "# want-invalid: ..." comment lines; empty when the manifest must be accepted.
	wantInvalid []string
}

func (m manifest) String() string {
	return fmt.Sprintf("%s#%d (%s %s/%s)", m.file, m.index, m.obj.GetKind(), m.obj.GetNamespace(), m.obj.GetName())
}

// readManifests decodes every YAML document of the files matching pattern (relative to the
// repository root).
func readManifests(t *testing.T, pattern string) []manifest {
	t.Helper()
	return readManifestsUnder(t, env.RepoRoot, pattern, nil)
}

// readManifestsUnder decodes every YAML document of the files matching pattern under root, with the
// placeholders of fill (if not nil) filled in; the manifests name their files relative to root.
func readManifestsUnder(t *testing.T, root, pattern string, fill *strings.Replacer) []manifest {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, pattern))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	var out []manifest
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if fill != nil {
			data = []byte(fill.Replace(string(data)))
		}
		rel, _ := filepath.Rel(root, path)
		var want []string
		for _, line := range strings.Split(string(data), "\n") {
			if s, ok := strings.CutPrefix(line, "# want-invalid:"); ok {
				want = append(want, strings.TrimSpace(s))
			}
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for i := 0; ; i++ {
			obj := map[string]any{}
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("%s: document %d: %v", rel, i, err)
			}
			if len(obj) == 0 {
				continue
			}
			out = append(out, manifest{file: rel, index: i, obj: &unstructured.Unstructured{Object: obj}, wantInvalid: want})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no manifests match %s", pattern)
	}
	return out
}

// createStrict creates obj with strict server-side field validation, so that a misspelt or unknown
// field is an error instead of being pruned silently.
func createStrict(ctx context.Context, obj client.Object) error {
	return env.Client.Create(ctx, obj, client.FieldOwner(fieldOwner), client.FieldValidation(metav1.FieldValidationStrict))
}

// deleteIgnoringNotFound deletes obj when the test ends.
func deleteOnCleanup(t *testing.T, obj client.Object) {
	t.Cleanup(func() {
		if err := env.Client.Delete(context.Background(), obj); client.IgnoreNotFound(err) != nil {
			t.Errorf("deleting %s %s: %v", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	})
}

// jsonNormalize returns v after a JSON round trip, so that numbers are float64 whatever their
// origin (YAML decoding, unstructured int64).
func jsonNormalize(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeStrict converts a stored object into its Go type, failing on any field the Go type lacks:
// the CRD and api/v1beta2 must agree.
func decodeStrict(u *unstructured.Unstructured) (runtime.Object, error) {
	var obj runtime.Object
	switch u.GetKind() {
	case "SparkApplication":
		obj = &v1beta2.SparkApplication{}
	case "ScheduledSparkApplication":
		obj = &v1beta2.ScheduledSparkApplication{}
	default:
		return nil, fmt.Errorf("unexpected kind %q", u.GetKind())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true); err != nil {
		return nil, err
	}
	return obj, nil
}

// mustRead returns the content of a file relative to the repository root.
func mustRead(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.RepoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// toUnstructured converts a typed object for raw changes, without its status (written only
// through the status subresource).
func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "status")
	return &unstructured.Unstructured{Object: m}
}
