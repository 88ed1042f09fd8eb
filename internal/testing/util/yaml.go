package util

import (
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
