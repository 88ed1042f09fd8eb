package util

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// SparkPiYAML returns the manifest (YAML) of wrappers' SparkPi application "pi" in namespace "team",
// changed by mod first when mod is not nil; for tests of what reads manifests (sparkctl lint, render).
func SparkPiYAML(t *testing.T, mod func(*wrappers.SparkApplicationWrapper)) string {
	t.Helper()
	w := wrappers.MakeSparkApplication("pi", "team")
	if mod != nil {
		mod(w)
	}
	out, err := yaml.Marshal(w.Obj())
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// ReadYAML decodes the YAML file at path into obj (a pointer) strictly, as kubectl would refuse
// unknown fields, and returns obj; it fails the test, naming path, on any error.
func ReadYAML[T any](t testing.TB, path string, obj T) T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}
