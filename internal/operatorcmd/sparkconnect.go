package operatorcmd

import (
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/controller/sparkconnect"
	"github.com/sparkop/spark-operator/internal/eventrecorder"
	"github.com/sparkop/spark-operator/internal/metrics"
)

// setupSparkConnect registers the SparkConnect controller (--enable-spark-connect, the chart's
// sparkConnect.enable) with the SparkApplication controller's submission options, namespaces, image
// pull timeout, workers and rate limiter. It needs the SparkConnect CRD installed.
func (o *controllerOptions) setupSparkConnect(mgr ctrl.Manager, recorder *eventrecorder.Recorder, app sparkapplication.Options) error {
	if !o.enableSparkConnect {
		return nil
	}
	opts := sparkconnect.Options{
		Submission: app.Submission, ImagePullTimeout: app.ImagePullTimeout, MaxConcurrentReconciles: o.workers,
		Namespaces: app.Namespaces, RateLimiter: o.kf.rateLimiter(), APIReader: mgr.GetAPIReader(),
	}
	if o.kf.enableMetrics {
		opts.Metrics = metrics.NewConnect(o.metricsPrefix)
		if err := opts.Metrics.Register(ctrlmetrics.Registry); err != nil {
			return fmt.Errorf("registering the SparkConnect metrics: %w", err)
		}
	}
	if err := sparkconnect.NewReconciler(mgr.GetClient(), recorder, clock.RealClock{}, opts).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the SparkConnect controller: %w", err)
	}
	return nil
}
