package operatorcmd

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// kubeflowVersion is the Kubeflow Spark operator whose flags ours must accept.
const kubeflowVersion = "v2.5.0"

// notYetAccepted are Kubeflow flags that other work adds (removed from this list when it lands).
var notYetAccepted = map[string]string{}

// subcommand returns `spark-operator <group> start`.
func subcommand(t *testing.T, group string) *cobra.Command {
	t.Helper()
	cmd, _, err := NewRootCommand().Find([]string{group, "start"})
	if err != nil || cmd.Name() != "start" {
		t.Fatalf("no %s start command: %v", group, err)
	}
	return cmd
}

// kubeflowFlag is one flag definition read from Kubeflow's source.
type kubeflowFlag struct {
	name, pflagType string
}

// kubeflowFlags reads the flag names `<group> start` defines in Kubeflow's module: every
// command.Flags().<Type>Var(&x, "name", ...) call, the Go flags of ctrl.RegisterFlags (--kubeconfig)
// and zap's BindFlags, and the feature gate's AddFlag (--feature-gates).
func kubeflowFlags(t *testing.T, group string) []kubeflowFlag {
	t.Helper()
	dir, err := util.ModuleDir("github.com/kubeflow/spark-operator/v2@" + kubeflowVersion)
	if err != nil {
		t.Skipf("Kubeflow's module %s is not in the module cache and the module proxy cannot be reached (%v): cannot compare flags", kubeflowVersion, err)
	}
	file := filepath.Join(dir, "cmd", "operator", group, "start.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{"BoolVar": "bool", "StringVar": "string", "IntVar": "int", "DurationVar": "duration",
		"StringSliceVar": "stringSlice", "Float64SliceVar": "float64Slice", "Int64Var": "int64", "Float32Var": "float32"}
	var flags []kubeflowFlag
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		switch name := sel.Sel.Name; {
		case name == "RegisterFlags":
			flags = append(flags, kubeflowFlag{"kubeconfig", "string"})
		case name == "BindFlags":
			for _, z := range []string{"zap-devel", "zap-encoder", "zap-log-level", "zap-stacktrace-level", "zap-time-encoding"} {
				flags = append(flags, kubeflowFlag{z, ""})
			}
		case name == "AddFlag":
			flags = append(flags, kubeflowFlag{"feature-gates", "mapStringBool"})
		case strings.HasSuffix(name, "Var") && len(call.Args) >= 2:
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, _ := strconv.Unquote(lit.Value)
			typ, known := types[name]
			if !known {
				t.Errorf("%s: flag --%s defined with %s, unknown to this test", file, v, name)
			}
			flags = append(flags, kubeflowFlag{v, typ})
		}
		return true
	})
	if len(flags) < 20 {
		t.Fatalf("read only %d flags from %s: has Kubeflow's source changed shape?", len(flags), file)
	}
	return flags
}

// TestKubeflowFlagsAccepted: every flag of Kubeflow's `controller start` and `webhook start` exists in
// ours with the same type, and parses with our default as its value.
func TestKubeflowFlagsAccepted(t *testing.T) {
	for _, group := range []string{"controller", "webhook"} {
		t.Run(group, func(t *testing.T) {
			cmd := subcommand(t, group)
			for _, kf := range kubeflowFlags(t, group) {
				if reason, ok := notYetAccepted[kf.name]; ok {
					t.Logf("--%s: not checked, %s", kf.name, reason)
					continue
				}
				ours := cmd.Flags().Lookup(kf.name)
				if ours == nil {
					t.Errorf("%s start: Kubeflow's --%s is not accepted", group, kf.name)
					continue
				}
				if kf.pflagType != "" && ours.Value.Type() != kf.pflagType {
					t.Errorf("%s start --%s: type %s, Kubeflow's is %s", group, kf.name, ours.Value.Type(), kf.pflagType)
				}
			}
		})
	}
}

// TestKubeflowChartArgsParse: the arguments Kubeflow's chart passes (values as it renders them) parse.
func TestKubeflowChartArgsParse(t *testing.T) {
	controller := []string{"--zap-log-level=info", "--zap-encoder=console", "--namespaces=default",
		"--controller-threads=10", "--enable-ui-service=true", "--enable-metrics=true", "--metrics-bind-address=:8080",
		"--metrics-endpoint=/metrics", "--metrics-prefix=", "--metrics-labels=app_type", "--metrics-job-start-latency-buckets=30,60,90,120,150,180,210,240,270,300",
		"--leader-election=true", "--leader-election-lock-name=spark-operator-controller-lock", "--leader-election-lock-namespace=spark-operator",
		"--leader-election-lease-duration=15s", "--leader-election-renew-deadline=10s", "--leader-election-retry-period=2s",
		"--driver-pod-creation-grace-period=10s", "--max-tracked-executor-per-app=1000",
		"--workqueue-ratelimiter-bucket-qps=50", "--workqueue-ratelimiter-bucket-size=500", "--workqueue-ratelimiter-max-delay=6h",
		"--pprof-bind-address=:6060", "--secure-metrics=false", "--enable-http2=false", "--cache-sync-timeout=30s",
		"--scheduled-spark-application-timestamp-precision=nanos", "--feature-gates=PartialRestart=false,LoadSparkDefaults=false,DefaultTimeToLive=true,RestSubmitter=false"}
	webhook := []string{"--zap-log-level=info", "--zap-encoder=console", `--namespaces=""`,
		"--webhook-secret-name=spark-operator-webhook-certs", "--webhook-secret-namespace=spark-operator",
		"--webhook-svc-name=spark-operator-webhook-svc", "--webhook-svc-namespace=spark-operator", "--webhook-port=9443",
		"--kube-api-qps=20", "--kube-api-burst=30", // Kubeflow's chart since v2.5.1
		"--mutating-webhook-name=spark-operator-webhook", "--validating-webhook-name=spark-operator-webhook", "--enable-cert-manager=true",
		"--enable-metrics=true", "--metrics-bind-address=:8080", "--metrics-endpoint=/metrics", "--metrics-prefix=", "--metrics-labels=app_type",
		"--leader-election=true", "--leader-election-lock-name=spark-operator-webhook-lock", "--leader-election-lock-namespace=spark-operator"}
	for group, args := range map[string][]string{"controller": controller, "webhook": webhook} {
		if err := subcommand(t, group).ParseFlags(args); err != nil {
			t.Errorf("%s start: %v", group, err)
		}
	}
}

// TestBadFlagValues: a value that does not parse, an unknown feature gate or a value that cannot work
// fails the command, naming the flag, before anything connects to the API server.
func TestBadFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"controller", "start", "--cache-sync-timeout=soon"}, "--cache-sync-timeout"},
		{[]string{"controller", "start", "--workqueue-ratelimiter-max-delay=6"}, "--workqueue-ratelimiter-max-delay"},
		{[]string{"controller", "start", "--workqueue-ratelimiter-bucket-qps=0"}, "--workqueue-ratelimiter-bucket-qps"},
		{[]string{"controller", "start", "--feature-gates=PartialRestart=true,Warp=true"}, "--feature-gates"},
		{[]string{"controller", "start", "--feature-gates=PartialRestart=maybe"}, "--feature-gates"},
		{[]string{"controller", "start", "--scheduled-spark-application-timestamp-precision=hours"}, "--scheduled-spark-application-timestamp-precision"},
		{[]string{"controller", "start", "--metrics-endpoint=metrics"}, "--metrics-endpoint"},
		{[]string{"controller", "start", "--enable-metrics=perhaps"}, "--enable-metrics"},
		{[]string{"controller", "start", "--default-time-to-live-seconds=60", "--feature-gates=DefaultTimeToLive=false"}, "--default-time-to-live-seconds"},
		{[]string{"controller", "start", "--driver-pod-creation-grace-period=10"}, "--driver-pod-creation-grace-period"},
		{[]string{"webhook", "start", "--leader-election-lease-duration=long"}, "--leader-election-lease-duration"},
		{[]string{"webhook", "start", "--label-selector-filter=a in (b"}, "--label-selector-filter"},
		{[]string{"webhook", "start", "--webhook-port=http"}, "--webhook-port"},
		{[]string{"webhook", "start", "--webhook-port=0"}, "--webhook-port"},
		{[]string{"webhook", "start", "--no-such-flag"}, "--no-such-flag"},
	} {
		t.Run(strings.Join(tc.args[2:], " "), func(t *testing.T) {
			root := NewRootCommand()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append(tc.args, "--kubeconfig=/nonexistent"))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %v, want one naming %s", err, tc.flag)
			}
		})
	}
}

// TestFeatureGatesDefaults: Kubeflow's gates are known, off by default but DefaultTimeToLive.
func TestFeatureGatesDefaults(t *testing.T) {
	k := &kubeflowControllerOptions{}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	k.addFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := k.validate(3600); err != nil {
		t.Errorf("--default-time-to-live-seconds alone: %v", err)
	}
	if err := fs.Parse([]string{"--feature-gates=PartialRestart=true,LoadSparkDefaults=true,DefaultTimeToLive=true,RestSubmitter=true"}); err != nil {
		t.Fatal(err)
	}
	if err := k.validate(3600); err != nil {
		t.Errorf("all gates on: %v", err)
	}
}

// TestApplyGates: LoadSparkDefaults reads the operator's $SPARK_CONF_DIR/spark-defaults.conf into the
// submission options (an unreadable one fails the start, naming the gate); PartialRestart reaches the
// controller's options; without the gate nothing is read.
func TestApplyGates(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SPARK_CONF_DIR", dir)
	if err := os.WriteFile(filepath.Join(dir, "spark-defaults.conf"), []byte("spark.eventLog.enabled true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) *kubeflowControllerOptions {
		k := &kubeflowControllerOptions{}
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		k.addFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return k
	}
	var opts sparkapplication.Options
	if err := parse().applyGates(&opts, logr.Discard()); err != nil || opts.Submission.SparkDefaults != nil || opts.PartialRestart {
		t.Errorf("no gates: %v %v %v", err, opts.Submission.SparkDefaults, opts.PartialRestart)
	}
	on := parse("--feature-gates=LoadSparkDefaults=true,PartialRestart=true")
	if err := on.applyGates(&opts, logr.Discard()); err != nil || opts.Submission.SparkDefaults["spark.eventLog.enabled"] != "true" || !opts.PartialRestart {
		t.Errorf("gates on: %v %v %v", err, opts.Submission.SparkDefaults, opts.PartialRestart)
	}
	if err := os.WriteFile(filepath.Join(dir, "spark-defaults.conf"), []byte("spark.x \\u12"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := on.applyGates(&opts, logr.Discard()); err == nil || !strings.Contains(err.Error(), "LoadSparkDefaults") {
		t.Errorf("an unreadable spark-defaults.conf: %v", err)
	}
}

func TestAllNamespaces(t *testing.T) {
	if got := allNamespaces([]string{""}); got != nil {
		t.Errorf(`--namespaces="": %q`, got)
	}
	if got := allNamespaces([]string{"a", "b"}); len(got) != 2 {
		t.Errorf("--namespaces=a,b: %q", got)
	}
}
