package chart_test

import (
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestHelmLint runs Helm's own linter (`helm lint`: Chart.yaml, values, templates, YAML validity,
// deprecated APIs) on the chart, with the default values and with the variants applied in
// TestDryRunApply. Warnings fail the test; informational messages are logged.
func TestHelmLint(t *testing.T) {
	dir := filepath.Join(env.RepoRoot, chartDir)
	for _, v := range applyVariants {
		t.Run(v.name, func(t *testing.T) {
			vals, err := chartutil.ReadValues([]byte(v.values))
			if err != nil {
				t.Fatal(err)
			}
			linter := lint.All(dir, vals, defaultNamespace, false)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %v", m)
				} else {
					t.Logf("helm lint: %v", m)
				}
			}
		})
	}
}
