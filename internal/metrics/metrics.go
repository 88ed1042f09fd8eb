// Package metrics holds the operator's Prometheus metrics, with the names and meaning of Kubeflow's
// Spark Operator v2 (spark_application_*, spark_executor_*), registered in controller-runtime's
// registry next to its workqueue and reconcile metrics.
//
// Counters and summaries are updated from the state transitions a reconcile went through, after its
// status write succeeded (so a conflict never counts twice). The running gauges are computed at
// scrape time from the operator's cache (Collector), so they are right after a restart too.
//
// Labels: "namespace", plus the application labels named with --metrics-labels (sanitised: any
// character outside [a-zA-Z0-9_] becomes '_'; a missing label is "Unknown", as in Kubeflow). Keep
// that list to labels with few values: every combination is a series.
package metrics

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Default histogram buckets, in seconds. Kubeflow's start-latency buckets stop at 300 s, too short for
// busy clusters (its own benchmark says so); these reach 30 minutes.
var (
	DefaultSubmitLatencyBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256}
	DefaultStartLatencyBuckets  = []float64{1, 2, 5, 10, 20, 30, 60, 90, 120, 180, 300, 600, 900, 1800}
)

// Metrics are the application and executor metrics. A nil *Metrics records nothing.
type Metrics struct {
	labelKeys  []string // application label keys, in order
	labelNames []string // "namespace" and the sanitised keys

	appCount, submitCount, failedSubmitCount, successCount, failureCount *prometheus.CounterVec
	successTime, failureTime, submitLatency, startLatency                *prometheus.SummaryVec
	submitLatencyHist, startLatencyHist                                  *prometheus.HistogramVec
	executorSuccess, executorFailure                                     *prometheus.CounterVec
	runningDesc, executorRunningDesc                                     *prometheus.Desc
	waitingDesc, waitingLongestDesc                                      *prometheus.Desc
	reader                                                               client.Reader
}

var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// New returns the metrics with names prefixed by prefix (Kubeflow's --metrics-prefix, "" for none)
// and the application labels labelKeys as extra metric labels. reader (the manager's cached client) is
// read at scrape time for the running gauges; nil leaves them out.
func New(prefix string, labelKeys []string, submitBuckets, startBuckets []float64, reader client.Reader) *Metrics {
	if submitBuckets == nil {
		submitBuckets = DefaultSubmitLatencyBuckets
	}
	if startBuckets == nil {
		startBuckets = DefaultStartLatencyBuckets
	}
	m := &Metrics{labelKeys: labelKeys, labelNames: []string{"namespace"}, reader: reader}
	for _, k := range labelKeys {
		m.labelNames = append(m.labelNames, invalidLabelChars.ReplaceAllString(k, "_"))
	}
	name := func(n string) string { return invalidLabelChars.ReplaceAllString(prefix+n, "_") }
	counter := func(n, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name(n), Help: help}, m.labelNames)
	}
	summary := func(n, help string) *prometheus.SummaryVec {
		return prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: name(n), Help: help,
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}}, m.labelNames)
	}
	histogram := func(n, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name(n), Help: help, Buckets: buckets}, m.labelNames)
	}
	m.appCount = counter("spark_application_count", "SparkApplications seen by the operator (first submission).")
	m.submitCount = counter("spark_application_submit_count", "SparkApplication submissions that created a driver.")
	m.failedSubmitCount = counter("spark_application_failed_submission_count", "SparkApplication submissions that failed (SUBMISSION_FAILED).")
	m.successCount = counter("spark_application_success_count", "SparkApplications that COMPLETED.")
	m.failureCount = counter("spark_application_failure_count", "SparkApplications that FAILED.")
	m.successTime = summary("spark_application_success_execution_time_seconds", "Time from the last submission to termination of COMPLETED SparkApplications.")
	m.failureTime = summary("spark_application_failure_execution_time_seconds", "Time from the last submission to termination of FAILED SparkApplications.")
	m.submitLatency = summary("spark_application_submit_latency_seconds", "Time from creation to the first submission (SUBMITTED).")
	m.startLatency = summary("spark_application_start_latency_seconds", "Time from creation to the first RUNNING.")
	m.submitLatencyHist = histogram("spark_application_submit_latency_seconds_histogram", "Time from creation to the first submission (SUBMITTED).", submitBuckets)
	m.startLatencyHist = histogram("spark_application_start_latency_seconds_histogram", "Time from creation to the first RUNNING.", startBuckets)
	m.executorSuccess = counter("spark_executor_success_count", "Executors (among the tracked ones) that completed.")
	m.executorFailure = counter("spark_executor_failure_count", "Executors (among the tracked ones) that failed.")
	m.runningDesc = prometheus.NewDesc(name("spark_application_running_count"), "SparkApplications RUNNING now.", m.labelNames, nil)
	m.executorRunningDesc = prometheus.NewDesc(name("spark_executor_running_count"), "Executors running now, over all SparkApplications.", m.labelNames, nil)
	m.waitingDesc = prometheus.NewDesc(name("spark_application_driver_waiting_count"),
		"SparkApplications whose driver pod waits now for a scheduler or queue to bind it to a node (condition DriverScheduled False).", m.labelNames, nil)
	m.waitingLongestDesc = prometheus.NewDesc(name("spark_application_driver_waiting_longest_seconds"),
		"How long the longest-waiting of those drivers has waited so far, in seconds (0 when none waits).", m.labelNames, nil)
	return m
}

// Register registers every metric with reg (controller-runtime's metrics.Registry in the operator).
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		m.appCount, m.submitCount, m.failedSubmitCount, m.successCount, m.failureCount,
		m.successTime, m.failureTime, m.submitLatency, m.startLatency, m.submitLatencyHist, m.startLatencyHist,
		m.executorSuccess, m.executorFailure, m,
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// labelValues are the metric label values of an application.
func (m *Metrics) labelValues(app *v1beta2.SparkApplication) []string {
	values := []string{app.Namespace}
	for _, k := range m.labelKeys {
		v, ok := app.Labels[k]
		if !ok {
			v = "Unknown"
		}
		values = append(values, v)
	}
	return values
}

// Observe records what one reconcile at time now did to app: the states it went through, in order
// (transitions), and how its executors changed (from the previous status). app carries the new status.
func (m *Metrics) Observe(app *v1beta2.SparkApplication, previous *v1beta2.SparkApplicationStatus, transitions []v1beta2.ApplicationStateType, now time.Time) {
	if m == nil {
		return
	}
	lv := m.labelValues(app)
	st := &app.Status
	for _, state := range transitions {
		switch state {
		case v1beta2.ApplicationStateSubmitted:
			if previous.AppState.State == v1beta2.ApplicationStateNew && previous.SubmissionAttempts == 0 {
				m.appCount.WithLabelValues(lv...).Inc()
			}
			if st.SubmissionAttempts == 1 && previous.SubmissionAttempts == 0 && st.ExecutionAttempts >= 1 {
				d := st.LastSubmissionAttemptTime.Sub(app.CreationTimestamp.Time).Seconds()
				m.submitLatency.WithLabelValues(lv...).Observe(d)
				m.submitLatencyHist.WithLabelValues(lv...).Observe(d)
			}
			m.submitCount.WithLabelValues(lv...).Inc()
		case v1beta2.ApplicationStateFailedSubmission:
			if previous.AppState.State == v1beta2.ApplicationStateNew && previous.SubmissionAttempts == 0 {
				m.appCount.WithLabelValues(lv...).Inc()
			}
			m.failedSubmitCount.WithLabelValues(lv...).Inc()
		case v1beta2.ApplicationStateRunning:
			if st.ExecutionAttempts == 1 && previous.AppState.State != v1beta2.ApplicationStateRunning {
				d := now.Sub(app.CreationTimestamp.Time).Seconds()
				m.startLatency.WithLabelValues(lv...).Observe(d)
				m.startLatencyHist.WithLabelValues(lv...).Observe(d)
			}
		case v1beta2.ApplicationStateCompleted:
			m.successCount.WithLabelValues(lv...).Inc()
			if !st.LastSubmissionAttemptTime.IsZero() && !st.TerminationTime.IsZero() {
				m.successTime.WithLabelValues(lv...).Observe(st.TerminationTime.Sub(st.LastSubmissionAttemptTime.Time).Seconds())
			}
		case v1beta2.ApplicationStateFailed:
			m.failureCount.WithLabelValues(lv...).Inc()
			if !st.LastSubmissionAttemptTime.IsZero() && !st.TerminationTime.IsZero() {
				m.failureTime.WithLabelValues(lv...).Observe(st.TerminationTime.Sub(st.LastSubmissionAttemptTime.Time).Seconds())
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(st.ExecutorState)) {
		now, before := st.ExecutorState[name], previous.ExecutorState[name]
		if now == before {
			continue
		}
		switch now {
		case v1beta2.ExecutorStateCompleted:
			m.executorSuccess.WithLabelValues(lv...).Inc()
		case v1beta2.ExecutorStateFailed:
			m.executorFailure.WithLabelValues(lv...).Inc()
		}
	}
}

// Describe implements prometheus.Collector for the running gauges.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.runningDesc
	ch <- m.executorRunningDesc
	ch <- m.waitingDesc
	ch <- m.waitingLongestDesc
}

// Collect implements prometheus.Collector: it counts RUNNING applications and running executors
// (status.executorCounts) in the cache, by label values. The applications are listed without a deep
// copy (client.UnsafeDisableDeepCopy: the items share their maps, slices and strings with the cache):
// a scrape only reads them, and deep-copying every cached application at each scrape would allocate
// about the size of the whole cache every 15 to 30 s.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	if m.reader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	apps := &v1beta2.SparkApplicationList{}
	if err := m.reader.List(ctx, apps, client.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(m.runningDesc, err)
		return
	}
	running, executors, waiting, longest := map[string]float64{}, map[string]float64{}, map[string]float64{}, map[string]float64{}
	now := time.Now()
	keys := map[string][]string{}
	for i := range apps.Items {
		app := &apps.Items[i]
		lv := m.labelValues(app)
		key := joinKey(lv)
		keys[key] = lv
		if app.Status.AppState.State == v1beta2.ApplicationStateRunning {
			running[key]++
		}
		executors[key] += float64(app.Status.ExecutorCounts[v1beta2.ExecutorStateRunning])
		if since, ok := driverWaitingSince(app); ok {
			waiting[key]++
			longest[key] = max(longest[key], now.Sub(since).Seconds())
		}
	}
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		ch <- prometheus.MustNewConstMetric(m.runningDesc, prometheus.GaugeValue, running[key], keys[key]...)
		ch <- prometheus.MustNewConstMetric(m.executorRunningDesc, prometheus.GaugeValue, executors[key], keys[key]...)
		ch <- prometheus.MustNewConstMetric(m.waitingDesc, prometheus.GaugeValue, waiting[key], keys[key]...)
		ch <- prometheus.MustNewConstMetric(m.waitingLongestDesc, prometheus.GaugeValue, longest[key], keys[key]...)
	}
}

// driverWaitingSince reports whether the application's driver waits for a scheduler (SUBMITTED with
// condition DriverScheduled False) and since when.
func driverWaitingSince(app *v1beta2.SparkApplication) (time.Time, bool) {
	if app.Status.AppState.State != v1beta2.ApplicationStateSubmitted {
		return time.Time{}, false
	}
	for _, c := range app.Status.Conditions {
		if c.Type == v1beta2.ConditionDriverScheduled && c.Status == metav1.ConditionFalse {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

func joinKey(values []string) string {
	out := ""
	for _, v := range values {
		out += v + "\x00"
	}
	return out
}
