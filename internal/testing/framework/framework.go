// Package framework starts a real Kubernetes control plane (etcd + kube-apiserver, optionally
// kube-controller-manager) for integration tests, on top of controller-runtime's envtest.
//
// The binaries come from the repository's bin/ directory, which `make tools` fills
// (hack/build-tools.sh), or from $KUBEBUILDER_ASSETS when that is set. Nothing is downloaded: when
// a binary is missing, Start/New fail with a message that says to run `make tools`.
//
// One API server per test binary is the intended use, started from TestMain:
//
//	var env *framework.Env
//
//	func TestMain(m *testing.M) {
//		os.Exit(framework.RunMain(m, &env, framework.WithScheme(v1beta2.AddToScheme)))
//	}
//
//	func TestSomething(t *testing.T) {
//		ns := env.NewNamespace(t)
//		// ... use env.Client, env.Config ...
//	}
//
// A single test can also own an environment with Start(t), which stops it in t.Cleanup.
//
// kube-apiserver runs with the RBAC authorizer (envtest's default). Env.Config and Env.Client are
// admin (system:masters); Env.ServiceAccountConfig returns a config that authenticates as a service
// account with a TokenRequest token, for code that must run with only the permissions RBAC grants.
package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// EnvAssets is the environment variable that, when set, names the directory holding etcd,
// kube-apiserver and kube-controller-manager instead of the repository's bin/ directory. It is the
// variable envtest itself reads, so `make test` sets it to $(PWD)/bin.
const EnvAssets = "KUBEBUILDER_ASSETS"

// Env is a running control plane and the clients to talk to it.
type Env struct {
	// Config is the admin (system:masters) REST config of the API server.
	Config *rest.Config
	// Client is a controller-runtime client built from Config and Scheme.
	Client client.Client
	// Scheme holds client-go's built-in types plus every AddToScheme func passed with WithScheme.
	Scheme *runtime.Scheme
	// Kubeconfig is the path of a kubeconfig file for the admin user, usable with bin/kubectl.
	// It is removed by Stop.
	Kubeconfig string
	// RepoRoot is the directory holding the repository's go.mod.
	RepoRoot string
	// AssetsDir is the directory the control-plane binaries were taken from.
	AssetsDir string
	// Environment is the underlying envtest environment, for anything this package does not wrap.
	Environment *envtest.Environment

	workDir string
	kcm     *controllerManager
}

// Option configures New and Start.
type Option func(*options)

type options struct {
	addToScheme    []func(*runtime.Scheme) error
	crdPaths       []string
	controllerMgr  bool
	controllers    []string
	kcmArgs        []string
	apiServerArgs  []string
	logger         *logr.Logger
	kcmOutput      io.Writer
	startTimeout   time.Duration
	gcReadyTimeout time.Duration
}

// WithScheme registers more types in Env.Scheme (and in the scheme envtest uses to install CRDs),
// for example v1beta2.AddToScheme. client-go's built-in types are always registered.
func WithScheme(addToScheme ...func(*runtime.Scheme) error) Option {
	return func(o *options) { o.addToScheme = append(o.addToScheme, addToScheme...) }
}

// WithCRDPaths installs CRDs from more files or directories, on top of <repo>/config/crd/bases.
// Relative paths are taken relative to the repository root.
func WithCRDPaths(paths ...string) Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, paths...) }
}

// WithControllerManager also runs bin/kube-controller-manager against the API server, so that
// garbage collection of ownerReferences and namespace deletion work as in a real cluster (envtest
// alone runs no controllers). controllers lists the controllers to run, in kube-controller-manager's
// --controllers syntax; when empty, DefaultControllers is used. New returns only once the garbage
// collector has been seen deleting an orphaned object (when it runs).
func WithControllerManager(controllers ...string) Option {
	return func(o *options) {
		o.controllerMgr = true
		o.controllers = append(o.controllers, controllers...)
	}
}

// WithControllerManagerArgs passes extra flags (e.g. "--v=4") to kube-controller-manager; they come
// last, so they override the defaults. It only matters together with WithControllerManager.
func WithControllerManagerArgs(args ...string) Option {
	return func(o *options) { o.kcmArgs = append(o.kcmArgs, args...) }
}

// WithControllerManagerOutput sends kube-controller-manager's output to w as well as to its log
// file (<work dir>/kube-controller-manager.log). By default, the output goes to os.Stderr too when
// KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT=true, as envtest does for etcd and kube-apiserver.
func WithControllerManagerOutput(w io.Writer) Option {
	return func(o *options) { o.kcmOutput = w }
}

// WithAPIServerArgs sets kube-apiserver flags, each "name=value" without the leading dashes (e.g.
// "feature-gates=GenericWorkload=true", "runtime-config=scheduling.k8s.io/v1alpha2=true"); a flag given
// twice takes the last value. They replace envtest's value of the same flag.
func WithAPIServerArgs(args ...string) Option {
	return func(o *options) { o.apiServerArgs = append(o.apiServerArgs, args...) }
}

// WithLogger sets controller-runtime's global logger (log.SetLogger) before starting, so that
// envtest's and the tested controllers' logs go somewhere. Without it the global logger is left
// alone.
func WithLogger(l logr.Logger) Option {
	return func(o *options) { o.logger = &l }
}

// WithStartTimeout bounds how long each of etcd and kube-apiserver may take to start (envtest's
// default is 20s, or $KUBEBUILDER_CONTROLPLANE_START_TIMEOUT), and how long the CRDs may take to be
// served once installed (envtest's default is 10s).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) { o.startTimeout = d }
}

// Start starts a control plane for a single test (or benchmark) and stops it when the test ends.
// It fails the test immediately, with a message on what to do, when the environment cannot start.
func Start(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	env, err := New(opts...)
	if err != nil {
		tb.Fatalf("framework: %v", err)
	}
	tb.Cleanup(func() {
		if err := env.Stop(); err != nil {
			tb.Errorf("framework: stopping the control plane: %v", err)
		}
	})
	return env
}

// RunMain starts a control plane, stores it in *env, runs the package's tests with m.Run, stops the
// control plane and returns the exit code for os.Exit. Use it from TestMain so that one API server
// serves every test of a package:
//
//	func TestMain(m *testing.M) { os.Exit(framework.RunMain(m, &env)) }
//
// When the control plane cannot start, it prints why and returns 1 without running any test.
func RunMain(m *testing.M, env **Env, opts ...Option) int {
	e, err := New(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "framework: %v\n", err)
		return 1
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "framework: stopping the control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// New starts a control plane and returns it; the caller must call Stop. Start and RunMain are the
// usual entry points; New is for callers that manage the lifetime themselves.
func New(opts ...Option) (*Env, error) {
	o := options{gcReadyTimeout: 90 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger != nil {
		logf.SetLogger(*o.logger)
	}

	root, err := FindRepoRoot()
	if err != nil {
		return nil, err
	}
	assets := os.Getenv(EnvAssets)
	if assets == "" {
		assets = filepath.Join(root, "bin")
	}
	needed := []string{"etcd", "kube-apiserver"}
	if o.controllerMgr {
		needed = append(needed, "kube-controller-manager")
	}
	if err := checkBinaries(assets, needed); err != nil {
		return nil, err
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering client-go types: %w", err)
	}
	for _, add := range o.addToScheme {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("registering types: %w", err)
		}
	}

	crdPaths := []string{filepath.Join(root, "config", "crd", "bases")}
	for _, p := range o.crdPaths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		crdPaths = append(crdPaths, p)
	}

	workDir, err := os.MkdirTemp("", "framework-")
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdPaths,
		// config/crd/bases may be empty (or absent) while the API is being written.
		ErrorIfCRDPathMissing:    false,
		Scheme:                   scheme,
		ControlPlaneStartTimeout: o.startTimeout,
		// envtest waits 10 s by default for the CRDs to be served, too short on a loaded machine.
		CRDInstallOptions: envtest.CRDInstallOptions{MaxTime: max(o.startTimeout, 2*time.Minute)},
	}
	if len(o.apiServerArgs) > 0 {
		flags := te.ControlPlane.GetAPIServer().Configure()
		for _, a := range o.apiServerArgs {
			name, value, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !ok {
				_ = os.RemoveAll(workDir)
				return nil, fmt.Errorf("kube-apiserver flag %q: want name=value", a)
			}
			flags.Set(name, value)
		}
	}
	if err := fixControlPlaneDirs(te, workDir); err != nil {
		return nil, err
	}
	env := &Env{
		Scheme:      scheme,
		RepoRoot:    root,
		AssetsDir:   assets,
		Environment: te,
		workDir:     workDir,
	}
	fail := func(err error) (*Env, error) {
		if stopErr := env.Stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("cleaning up: %w", stopErr))
		}
		return nil, err
	}

	cfg, err := te.Start()
	if err != nil {
		return fail(fmt.Errorf("starting etcd and kube-apiserver from %s: %w", assets, err))
	}
	env.Config = cfg
	env.Kubeconfig = filepath.Join(workDir, "kubeconfig")
	if err := os.WriteFile(env.Kubeconfig, te.KubeConfig, 0o600); err != nil {
		return fail(err)
	}
	if env.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fail(fmt.Errorf("creating the client: %w", err))
	}

	if o.controllerMgr {
		controllers := o.controllers
		if len(controllers) == 0 {
			controllers = DefaultControllers
		}
		env.kcm, err = startControllerManager(env, controllers, o.kcmArgs, o.kcmOutput)
		if err != nil {
			return fail(err)
		}
		if env.kcm.runs("garbagecollector", "garbage-collector-controller") {
			ctx, cancel := context.WithTimeout(context.Background(), o.gcReadyTimeout)
			err = env.kcm.waitForGarbageCollector(ctx, env.Client)
			cancel()
			if err != nil {
				return fail(err)
			}
		}
	}
	return env, nil
}

// Stop stops kube-controller-manager (if running), kube-apiserver and etcd, and removes the
// environment's temporary files. It is safe to call more than once.
func (e *Env) Stop() error {
	var errs []error
	if e.kcm != nil {
		if err := e.kcm.Stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
		e.kcm = nil
	}
	if e.Environment != nil {
		// Safe on a partly started environment: envtest skips processes that never started.
		if err := e.Environment.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping envtest: %w", err))
		}
		e.Environment = nil
	}
	if e.workDir != "" {
		if err := os.RemoveAll(e.workDir); err != nil {
			errs = append(errs, err)
		}
		e.workDir = ""
	}
	return errors.Join(errs...)
}

// ParallelNamespace marks t parallel (t.Parallel), creates a namespace for it (NewNamespace),
// calls each of setUp with t and the namespace (a suite's startOperator, say) and returns the
// namespace's name: how most tests of a suite begin.
func (e *Env) ParallelNamespace(t *testing.T, setUp ...func(t *testing.T, ns string)) string {
	t.Helper()
	t.Parallel()
	ns := e.NewNamespace(t)
	for _, f := range setUp {
		f(t, ns)
	}
	return ns
}

// NewNamespace creates a namespace with a unique name for the test and returns its name. The
// namespace is deleted when the test ends (without kube-controller-manager it then stays
// Terminating, which is harmless).
func (e *Env) NewNamespace(tb testing.TB) string {
	tb.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(tb.Name())}}
	ctx := context.Background()
	if err := e.Client.Create(ctx, ns); err != nil {
		tb.Fatalf("framework: creating a namespace: %v", err)
	}
	tb.Cleanup(func() {
		if err := e.Client.Delete(context.Background(), ns); client.IgnoreNotFound(err) != nil {
			tb.Errorf("framework: deleting namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// namespacePrefix turns a test name into a valid GenerateName prefix (a DNS label, leaving room
// for the 5 random characters the API server appends).
func namespacePrefix(testName string) string {
	s := DNSLabel(testName, 50)
	if s == "" {
		s = "test"
	}
	return s + "-"
}

// DNSLabel turns s (a test or case name) into a DNS label of at most max characters, for object
// names and name prefixes: lower case, every run of characters other than a-z and 0-9 one '-', no
// '-' at either end. It is "" when s has no letter or digit.
func DNSLabel(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	return out
}

// RepoRoot is FindRepoRoot for a test: it fails the test when there is no repository root.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := FindRepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// FindRepoRoot returns the closest directory, from the working directory upwards, that holds a
// go.mod file. For `go test`, the working directory is the package's directory, so this is the
// repository root.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found in the working directory or any parent; run the tests from inside the repository")
		}
		dir = parent
	}
}

// checkBinaries reports every binary of names that is missing from dir, with what to do about it.
func checkBinaries(dir string, names []string) error {
	var missing []string
	for _, name := range names {
		path := filepath.Join(dir, name)
		if override := os.Getenv("TEST_ASSET_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); override != "" {
			path = override // envtest honours these per-binary overrides too
		}
		st, err := os.Stat(path)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, path)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	hint := "run `make tools` (hack/build-tools.sh) in the repository root to build them from the Go module proxy"
	if os.Getenv(EnvAssets) != "" {
		hint += fmt.Sprintf(", or unset %s (now %q) to use the repository's bin/", EnvAssets, os.Getenv(EnvAssets))
	}
	return fmt.Errorf("control-plane binaries missing: %s; %s", strings.Join(missing, ", "), hint)
}
