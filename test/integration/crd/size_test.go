package crd_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

const (
	// lastAppliedAnnotation is where client-side `kubectl apply` keeps the applied manifest.
	lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
	// maxCRDJSONBytes leaves room under the API server's 256 KiB limit on all annotations of an
	// object together, for the other annotations and for growth.
	maxCRDJSONBytes = 200 * 1024
)

var crdFiles = []string{
	"config/crd/bases/sparkoperator.k8s.io_sparkapplications.yaml",
	"config/crd/bases/sparkoperator.k8s.io_scheduledsparkapplications.yaml",
}

var crdGVK = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// crdJSON returns a CRD file as the compact JSON kubectl stores in the last-applied annotation,
// and the CRD's name.
func crdJSON(t *testing.T, rel string) ([]byte, string) {
	t.Helper()
	obj := map[string]any{}
	if err := yaml.Unmarshal([]byte(mustRead(t, rel)), &obj); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	return data, name
}

// TestCRDSizeFitsLastApplied checks that each CRD, as JSON, is below 200 KiB, so that client-side
// `kubectl apply` (which copies the whole object into an annotation, limited to 256 KiB) works, and
// that the API server indeed accepts the CRD carrying that annotation.
func TestCRDSizeFitsLastApplied(t *testing.T) {
	ctx := context.Background()
	for _, rel := range crdFiles {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			data, name := crdJSON(t, rel)
			t.Logf("%s: %d bytes of JSON (%.0f%% of the %d-byte budget)", name, len(data), 100*float64(len(data))/maxCRDJSONBytes, maxCRDJSONBytes)
			if len(data) >= maxCRDJSONBytes {
				t.Errorf("%s is %d bytes as JSON, want < %d: kubectl apply would fail with 'metadata.annotations: Too long'", rel, len(data), maxCRDJSONBytes)
			}

			// What kubectl apply does, without kubectl: store the whole CRD in the annotation.
			err := updateCRDAnnotations(ctx, name, func(ann map[string]string) {
				ann[lastAppliedAnnotation] = string(data) + "\n"
			})
			if err != nil {
				t.Fatalf("updating CRD %s with a %d-byte last-applied annotation: %v", name, len(data), err)
			}
		})
	}
}

// TestKubectlApply runs the real bin/kubectl against the test API server: client-side apply of
// the CRDs themselves (the Kubeflow CRD fails here), then client-side and server-side dry-run apply
// of every example.
func TestKubectlApply(t *testing.T) {
	kubectl := filepath.Join(env.RepoRoot, "bin", "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Skipf("%s missing (run `make tools`); TestCRDSizeFitsLastApplied covers the annotation size", kubectl)
	}
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args = append([]string{"--kubeconfig", env.Kubeconfig}, args...)
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Dir = env.RepoRoot
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args[2:], " "), err, out)
		}
		return string(out)
	}

	for _, rel := range crdFiles {
		t.Run("crd/"+filepath.Base(rel), func(t *testing.T) {
			ctx := context.Background()
			data, name := crdJSON(t, rel)
			// Start from a CRD without the annotation (as envtest installed it), so that kubectl
			// really has to write it.
			err := updateCRDAnnotations(ctx, name, func(ann map[string]string) { delete(ann, lastAppliedAnnotation) })
			if err != nil {
				t.Fatal(err)
			}

			out := run(t, "apply", "--server-side=false", "-f", rel)
			t.Logf("kubectl apply: %s", strings.TrimSpace(out))
			if !strings.Contains(out, "configured") {
				t.Errorf("kubectl apply of %s: %q, want configured", rel, out)
			}
			crd := &unstructured.Unstructured{}
			crd.SetGroupVersionKind(crdGVK)
			if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
				t.Fatal(err)
			}
			got := crd.GetAnnotations()[lastAppliedAnnotation]
			if len(got) < len(data)/2 {
				t.Errorf("last-applied annotation of %s has %d bytes, want about %d", name, len(got), len(data))
			}
			// A second apply is a no-op.
			if out := run(t, "apply", "--server-side=false", "-f", rel); !strings.Contains(out, "unchanged") {
				t.Errorf("second kubectl apply of %s: %q, want unchanged", rel, out)
			}
		})
	}

	// Negative control: the API server of the test enforces the annotation limit that a too large
	// CRD would hit.
	t.Run("too-large-object-fails", func(t *testing.T) {
		ns := env.NewNamespace(t)
		cm := map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "too-large", "namespace": ns},
			"data":     map[string]any{"blob": strings.Repeat("x", 260*1024)},
		}
		data, err := json.Marshal(cm)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "too-large.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", env.Kubeconfig, "apply", "--server-side=false", "-f", path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Too long") {
			t.Errorf("kubectl apply of a 260 KiB object: err=%v, output %q; want a 'Too long' failure", err, out)
		}
	})

	t.Run("examples/client-side", func(t *testing.T) {
		out := run(t, "apply", "--dry-run=server", "-f", "examples/")
		if n := strings.Count(out, "(server dry run)"); n < 13 {
			t.Errorf("kubectl apply --dry-run=server reported %d objects, want at least 13:\n%s", n, out)
		}
	})
	t.Run("examples/server-side", func(t *testing.T) {
		out := run(t, "apply", "--server-side", "--field-manager", fieldOwner, "--dry-run=server", "-f", "examples/")
		if n := strings.Count(out, "serverside-applied (server dry run)"); n < 13 {
			t.Errorf("kubectl apply --server-side --dry-run=server reported %d objects, want at least 13:\n%s", n, out)
		}
	})
}

// updateCRDAnnotations changes the annotations of the installed CRD name, retrying on conflicts
// (the API server updates CRD status concurrently).
func updateCRDAnnotations(ctx context.Context, name string, change func(map[string]string)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(crdGVK)
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			return err
		}
		ann := crd.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		change(ann)
		crd.SetAnnotations(ann)
		return env.Client.Update(ctx, crd)
	})
}
