// Package operatortest runs the operator's controllers inside a test process, against a real API
// server (internal/testing/framework), the way `spark-operator controller start` wires them: the
// manager with the operator's cache options (operatorcmd.CacheOptions), no metrics or probe
// listeners, and name validation off so that every test can start its own controllers.
//
//	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
//	stop := operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &opts}) // also stopped when the test ends
//
// or, to wire something else first, Recorder, SetupWithManager on the reconcilers, then Start.
package operatortest

import (
	"context"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sparkop/spark-operator/internal/controller/scheduledsparkapplication"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/controller/sparkconnect"
	"github.com/sparkop/spark-operator/internal/eventrecorder"
	"github.com/sparkop/spark-operator/internal/operatorcmd"
)

// NewManager returns a manager for cfg whose cache covers cacheNamespaces (nil: all), as the
// operator's; customize, when not nil, changes the options first (leader election, say). It fails
// the test on error.
func NewManager(t testing.TB, cfg *rest.Config, scheme *runtime.Scheme, cacheNamespaces []string, customize func(*ctrl.Options)) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ManagerOptions(scheme, cacheNamespaces, customize))
	if err != nil {
		t.Fatalf("creating the manager: %v", err)
	}
	return mgr
}

// ManagerOptions are the options NewManager creates its manager with, for tests that create the
// manager themselves (operatorcmd.NewManagerWhenReachable, say).
func ManagerOptions(scheme *runtime.Scheme, cacheNamespaces []string, customize func(*ctrl.Options)) ctrl.Options {
	opts := ctrl.Options{
		Scheme:                 scheme,
		Cache:                  operatorcmd.CacheOptions(cacheNamespaces, 0),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if customize != nil {
		customize(&opts)
	}
	return opts
}

// Recorder returns the operator's event recorder (package eventrecorder) added to mgr, as
// `controller start` wires it; it fails the test on error.
func Recorder(t testing.TB, mgr ctrl.Manager) *eventrecorder.Recorder {
	t.Helper()
	r, err := eventrecorder.ForManager(mgr, "spark-operator")
	if err != nil {
		t.Fatalf("adding the event recorder: %v", err)
	}
	return r
}

// Start runs mgr until stop is called or the test ends; stop waits for the manager to return and
// may be called more than once. A manager error fails the test.
func Start(t testing.TB, mgr ctrl.Manager) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// Controllers says which of the operator's controllers Run starts, and with what.
type Controllers struct {
	// SparkApplication, when set, are the options of the SparkApplication controller.
	SparkApplication *sparkapplication.Options
	// ScheduledSparkApplication, when set, are the options of the ScheduledSparkApplication
	// controller.
	ScheduledSparkApplication *scheduledsparkapplication.Options
	// SparkConnect, when set, are the options of the SparkConnect controller.
	SparkConnect *sparkconnect.Options
	// Clock is the controllers' time source; nil is the real clock.
	Clock clock.Clock
}

// Run sets up the controllers c asks for on mgr, with the operator's event recorder, as
// `controller start` does, and starts mgr (Start); it fails the test on error.
func Run(t testing.TB, mgr ctrl.Manager, c Controllers) (stop func()) {
	t.Helper()
	clk := c.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	recorder := Recorder(t, mgr)
	if c.SparkApplication != nil {
		r := sparkapplication.NewReconciler(mgr.GetClient(), recorder, clk, *c.SparkApplication)
		if err := r.SetupWithManager(mgr); err != nil {
			t.Fatalf("setting up the SparkApplication controller: %v", err)
		}
	}
	if c.ScheduledSparkApplication != nil {
		r := scheduledsparkapplication.NewReconciler(mgr.GetClient(), recorder, clk, *c.ScheduledSparkApplication)
		if err := r.SetupWithManager(mgr); err != nil {
			t.Fatalf("setting up the ScheduledSparkApplication controller: %v", err)
		}
	}
	if c.SparkConnect != nil {
		opts := *c.SparkConnect
		if opts.APIReader == nil {
			opts.APIReader = mgr.GetAPIReader()
		}
		r := sparkconnect.NewReconciler(mgr.GetClient(), recorder, clk, opts)
		if err := r.SetupWithManager(mgr); err != nil {
			t.Fatalf("setting up the SparkConnect controller: %v", err)
		}
	}
	return Start(t, mgr)
}
