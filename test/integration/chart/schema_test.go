package chart_test

import (
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// TestInstallRefusesUnknownKeys runs `helm install` (Helm's Go SDK, action.Install, client-only dry
// run) with misspelt or unknown keys and values of the wrong type: values.schema.json makes each
// fail before anything is sent, with the key named; the same values without the mistake install.
func TestInstallRefusesUnknownKeys(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{"misspelt key", map[string]any{"controller": map[string]any{"replcas": 2}}, []string{"at '/controller'", "'replcas' not allowed"}},
		{"unknown top-level key", map[string]any{"submitter": map[string]any{"enable": true}}, []string{"'submitter' not allowed"}},
		{"key at the wrong level", map[string]any{"webhook": map[string]any{"enable": true, "certManager": map[string]any{"enable": true}}}, []string{"at '/webhook'", "'certManager' not allowed"}},
		{"two mistakes, both named", map[string]any{"spark": map[string]any{"jobNamespace": []any{"a"}}, "prometheus": map[string]any{"metrics": map[string]any{"enabled": true}}},
			[]string{"'jobNamespace' not allowed", "at '/prometheus/metrics'", "'enabled' not allowed"}},
		{"wrong type", map[string]any{"controller": map[string]any{"uiService": map[string]any{"enable": "yes"}}}, []string{"at '/controller/uiService/enable'", "want boolean"}},
		{"unknown enum value", map[string]any{"webhook": map[string]any{"failurePolicy": "fail"}}, []string{"at '/webhook/failurePolicy'"}},
		{"negative kube API QPS", map[string]any{"controller": map[string]any{"kubeAPIQPS": -1}}, []string{"at '/controller/kubeAPIQPS'"}},
		{"duration that does not parse", map[string]any{"controller": map[string]any{"leaderElection": map[string]any{"leaseDuration": "15 seconds"}}}, []string{"at '/controller/leaderElection/leaseDuration'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := clientOnlyInstall(t).Run(loadChart(t), tc.values)
			if err == nil {
				t.Fatalf("helm install accepted %v", tc.values)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("helm install error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
	t.Run("correct keys install", func(t *testing.T) {
		values := map[string]any{"controller": map[string]any{"replicas": 2}, "spark": map[string]any{"jobNamespaces": []any{"a"}}}
		if _, err := clientOnlyInstall(t).Run(loadChart(t), values); err != nil {
			t.Fatalf("helm install: %v", err)
		}
	})
}

// clientOnlyInstall is `helm install --dry-run` without a cluster: in-memory release storage and
// a Kubernetes client that prints nothing.
func clientOnlyInstall(t *testing.T) *action.Install {
	t.Helper()
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: capabilities(),
		Log:          t.Logf,
	}
	install := action.NewInstall(cfg)
	install.ReleaseName = defaultRelease
	install.Namespace = defaultNamespace
	install.DryRun = true
	install.ClientOnly = true
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.36.3", Major: "1", Minor: "36"}
	return install
}
