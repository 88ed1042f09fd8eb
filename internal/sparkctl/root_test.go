package sparkctl

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestDescribeError(t *testing.T) {
	gr := schema.GroupResource{Group: "sparkoperator.k8s.io", Resource: "sparkapplications"}
	for err, want := range map[error]string{
		fmt.Errorf("listing: %w", &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "sparkoperator.k8s.io", Kind: "SparkApplication"}}): "are the Spark operator's CRDs installed?",
		fmt.Errorf("listing: %w", apierrors.NewForbidden(gr, "", fmt.Errorf("no"))):                                                             "lacks the permission",
		apierrors.NewUnauthorized("who are you"): "check your kubeconfig credentials",
	} {
		if got := describeError(err); !strings.Contains(got, want) {
			t.Errorf("describeError(%v) = %q, want it to contain %q", err, got, want)
		}
	}
}

func TestExecuteExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if code := Execute(context.Background(), NewRootCommand("sparkctl", streams), []string{"version"}); code != 0 || out.Len() == 0 {
		t.Errorf("version: exit %d, output %q", code, out.String())
	}
	if code := Execute(context.Background(), NewRootCommand("sparkctl", streams), []string{"status"}); code != 1 ||
		!strings.Contains(errOut.String(), "error: the name of the SparkApplication is required") {
		t.Errorf("status without a name: exit %d, stderr %q", code, errOut.String())
	}
	out.Reset()
	_ = Execute(context.Background(), NewRootCommand("/usr/local/bin/kubectl-sparkapp", streams), []string{"--help"})
	if !strings.Contains(out.String(), "kubectl sparkapp [command]") {
		t.Errorf("as a kubectl plugin, the help does not say kubectl sparkapp:\n%s", out.String())
	}
}
