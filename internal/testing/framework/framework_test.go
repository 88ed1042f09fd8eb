package framework

import (
	"strings"
	"testing"
)

// TestMissingBinaries checks that a missing binary fails loudly and says to run `make tools`.
func TestMissingBinaries(t *testing.T) {
	t.Setenv(EnvAssets, t.TempDir())
	e, err := New()
	if err == nil {
		_ = e.Stop()
		t.Fatal("New succeeded without binaries")
	}
	if !strings.Contains(err.Error(), "make tools") || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Errorf("error %q does not name the missing binary and `make tools`", err)
	}
}
