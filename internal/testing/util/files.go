package util

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// WriteFile writes the file dir/name (creating its directories) and returns its path: size random
// bytes when size > 0, else text. It fails the test on any error.
func WriteFile(t *testing.T, dir, name string, size int, text string) string {
	t.Helper()
	data := []byte(text)
	if size > 0 {
		data = make([]byte, size)
		_, _ = rand.Read(data)
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// WriteYAML writes obj as YAML (sigs.k8s.io/yaml: through its JSON form) to the file name in a new
// temporary directory of the test and returns its path; it fails the test on any error.
func WriteYAML(t *testing.T, name string, obj any) string {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return WriteFile(t, t.TempDir(), name, 0, string(data))
}
