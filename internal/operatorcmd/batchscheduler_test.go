package operatorcmd

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// startCommand returns `controller start` with args parsed.
func startCommand(t *testing.T, args ...string) *cobra.Command {
	t.Helper()
	start, _, err := newControllerCommand().Find([]string{"start"})
	if err != nil {
		t.Fatal(err)
	}
	if err := start.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return start
}

// TestBatchSchedulerFlags: Kubeflow's flags build the registry of handled schedulers, and what
// would be silently ignored is refused.
func TestBatchSchedulerFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		names   []string // nil: batch scheduling off
		def     string
		wantErr string
	}{
		{args: nil},
		{args: []string{"--enable-batch-scheduler"}, names: []string{"kubernetes", "volcano", "yunikorn"}},
		{args: []string{"--enable-batch-scheduler", "--default-batch-scheduler=kubernetes"}, names: []string{"kubernetes", "volcano", "yunikorn"}, def: "kubernetes"},
		{args: []string{"--enable-batch-scheduler", "--kube-scheduler-names=sp-a,sp-b", "--default-batch-scheduler=sp-b"},
			names: []string{"kubernetes", "sp-a", "sp-b", "volcano", "yunikorn"}, def: "sp-b"},
		{args: []string{"--enable-batch-scheduler", "--default-batch-scheduler=kueue"}, wantErr: `--default-batch-scheduler "kueue" is not one of`},
		{args: []string{"--default-batch-scheduler=volcano"}, wantErr: "need --enable-batch-scheduler"},
		{args: []string{"--kube-scheduler-names=sp"}, wantErr: "need --enable-batch-scheduler"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o := &controllerOptions{}
			cmd := &cobra.Command{}
			o.batch = addBatchSchedulerFlags(cmd.Flags())
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			opts, err := o.reconcilerOptions()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := opts.BatchSchedulers.Names(); !slices.Equal(got, tc.names) || opts.BatchSchedulers.Default() != tc.def {
				t.Errorf("schedulers %v (default %q), want %v (%q)", got, opts.BatchSchedulers.Default(), tc.names, tc.def)
			}
		})
	}
}

// TestControllerFlagDefaults: the batch scheduler flags exist on `controller start`, and no driver
// start timeout applies by default (waiting is not failing).
func TestControllerFlagDefaults(t *testing.T) {
	start := startCommand(t)
	for _, name := range []string{"enable-batch-scheduler", "default-batch-scheduler", "kube-scheduler-names"} {
		if start.Flags().Lookup(name) == nil {
			t.Errorf("controller start has no --%s", name)
		}
	}
	f := start.Flags().Lookup("driver-start-timeout")
	if f == nil || f.DefValue != time.Duration(0).String() {
		t.Errorf("--driver-start-timeout default = %v, want 0s", f)
	}
}

// TestRenderBatchScheduler: render takes the operator's flags and prints the scheduler's objects
// before the driver pod; without --enable-batch-scheduler there are none.
func TestRenderBatchScheduler(t *testing.T) {
	render := func(args ...string) string {
		t.Helper()
		cmd := newRenderCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(append([]string{"-f", "../../examples/spark-pi-volcano.yaml"}, args...))
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	out := render("--enable-batch-scheduler")
	docs := strings.Split(out, "---\n")
	if len(docs) < 3 || !strings.Contains(docs[1], "kind: PodGroup") || !strings.Contains(docs[1], "name: spark-spark-pi-volcano-pg") ||
		!strings.Contains(docs[1], "memory: 2688Mi") || !strings.Contains(docs[2], "kind: Pod\n") || !strings.Contains(docs[2], "scheduling.k8s.io/group-name: spark-spark-pi-volcano-pg") {
		t.Errorf("render --enable-batch-scheduler:\n%s", out)
	}
	if out := render(); strings.Contains(out, "PodGroup") || strings.Contains(out, "group-name") {
		t.Errorf("render without batch scheduling made a PodGroup:\n%s", out)
	}
}
