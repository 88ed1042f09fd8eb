package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func app(ns, name, appType string, state v1beta2.ApplicationStateType) *v1beta2.SparkApplication {
	a := &v1beta2.SparkApplication{}
	a.Namespace, a.Name = ns, name
	a.CreationTimestamp = metav1.NewTime(t0)
	if appType != "" {
		a.Labels = map[string]string{"app-type": appType}
	}
	a.Status.AppState.State = state
	return a
}

// TestLifecycleCounters: a successful application counted once per transition, with its latencies,
// and a failed submission retried once, with Kubeflow's names and the configured label.
func TestLifecycleCounters(t *testing.T) {
	m := New("", []string{"app-type"}, []float64{1, 10}, []float64{10, 100}, nil)
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	// Submitted 2 s after creation, running at 12 s, completed at 72 s.
	a := app("team-a", "pi", "batch", v1beta2.ApplicationStateSubmitted)
	prev := a.Status.DeepCopy()
	prev.AppState.State = ""
	a.Status.SubmissionAttempts, a.Status.ExecutionAttempts = 1, 1
	a.Status.LastSubmissionAttemptTime = metav1.NewTime(t0.Add(2 * time.Second))
	m.Observe(a, prev, []v1beta2.ApplicationStateType{v1beta2.ApplicationStateSubmitted}, t0.Add(2*time.Second))
	prev = a.Status.DeepCopy()
	a.Status.AppState.State = v1beta2.ApplicationStateRunning
	a.Status.ExecutorState = map[string]v1beta2.ExecutorState{"pi-exec-1": v1beta2.ExecutorStateRunning, "pi-exec-2": v1beta2.ExecutorStateRunning}
	m.Observe(a, prev, []v1beta2.ApplicationStateType{v1beta2.ApplicationStateRunning}, t0.Add(12*time.Second))
	prev = a.Status.DeepCopy()
	a.Status.AppState.State = v1beta2.ApplicationStateCompleted
	a.Status.TerminationTime = metav1.NewTime(t0.Add(72 * time.Second))
	a.Status.ExecutorState = map[string]v1beta2.ExecutorState{"pi-exec-1": v1beta2.ExecutorStateCompleted, "pi-exec-2": v1beta2.ExecutorStateFailed}
	m.Observe(a, prev, []v1beta2.ApplicationStateType{v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateCompleted}, t0.Add(72*time.Second))

	// Refused twice, then failed; no label: "Unknown".
	b := app("team-b", "bad", "", v1beta2.ApplicationStateFailedSubmission)
	prev = b.Status.DeepCopy()
	prev.AppState.State = ""
	b.Status.SubmissionAttempts = 1
	m.Observe(b, prev, []v1beta2.ApplicationStateType{v1beta2.ApplicationStateFailedSubmission}, t0)
	prev = b.Status.DeepCopy()
	b.Status.SubmissionAttempts = 2
	b.Status.AppState.State = v1beta2.ApplicationStateFailed
	m.Observe(b, prev, []v1beta2.ApplicationStateType{v1beta2.ApplicationStateFailedSubmission, v1beta2.ApplicationStateFailed}, t0)

	want := `
# HELP spark_application_count SparkApplications seen by the operator (first submission).
# TYPE spark_application_count counter
spark_application_count{app_type="Unknown",namespace="team-b"} 1
spark_application_count{app_type="batch",namespace="team-a"} 1
# HELP spark_application_failed_submission_count SparkApplication submissions that failed (SUBMISSION_FAILED).
# TYPE spark_application_failed_submission_count counter
spark_application_failed_submission_count{app_type="Unknown",namespace="team-b"} 2
# HELP spark_application_failure_count SparkApplications that FAILED.
# TYPE spark_application_failure_count counter
spark_application_failure_count{app_type="Unknown",namespace="team-b"} 1
# HELP spark_application_start_latency_seconds_histogram Time from creation to the first RUNNING.
# TYPE spark_application_start_latency_seconds_histogram histogram
spark_application_start_latency_seconds_histogram_bucket{app_type="batch",namespace="team-a",le="10"} 0
spark_application_start_latency_seconds_histogram_bucket{app_type="batch",namespace="team-a",le="100"} 1
spark_application_start_latency_seconds_histogram_bucket{app_type="batch",namespace="team-a",le="+Inf"} 1
spark_application_start_latency_seconds_histogram_sum{app_type="batch",namespace="team-a"} 12
spark_application_start_latency_seconds_histogram_count{app_type="batch",namespace="team-a"} 1
# HELP spark_application_submit_count SparkApplication submissions that created a driver.
# TYPE spark_application_submit_count counter
spark_application_submit_count{app_type="batch",namespace="team-a"} 1
# HELP spark_application_submit_latency_seconds_histogram Time from creation to the first submission (SUBMITTED).
# TYPE spark_application_submit_latency_seconds_histogram histogram
spark_application_submit_latency_seconds_histogram_bucket{app_type="batch",namespace="team-a",le="1"} 0
spark_application_submit_latency_seconds_histogram_bucket{app_type="batch",namespace="team-a",le="10"} 1
spark_application_submit_latency_seconds_histogram_bucket{app_type="batch",namespace="team-a",le="+Inf"} 1
spark_application_submit_latency_seconds_histogram_sum{app_type="batch",namespace="team-a"} 2
spark_application_submit_latency_seconds_histogram_count{app_type="batch",namespace="team-a"} 1
# HELP spark_application_success_count SparkApplications that COMPLETED.
# TYPE spark_application_success_count counter
spark_application_success_count{app_type="batch",namespace="team-a"} 1
# HELP spark_executor_failure_count Executors (among the tracked ones) that failed.
# TYPE spark_executor_failure_count counter
spark_executor_failure_count{app_type="batch",namespace="team-a"} 1
# HELP spark_executor_success_count Executors (among the tracked ones) that completed.
# TYPE spark_executor_success_count counter
spark_executor_success_count{app_type="batch",namespace="team-a"} 1
`
	names := []string{"spark_application_count", "spark_application_failed_submission_count", "spark_application_failure_count",
		"spark_application_start_latency_seconds_histogram", "spark_application_submit_count", "spark_application_submit_latency_seconds_histogram",
		"spark_application_success_count", "spark_executor_failure_count", "spark_executor_success_count"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.successTime); n != 1 {
		t.Errorf("success execution time series = %d, want 1", n)
	}
}

// TestRunningGauges: the gauges count RUNNING applications and running executors in the cache at
// scrape time, per namespace.
func TestRunningGauges(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = v1beta2.AddToScheme(scheme)
	running := app("ns1", "a", "", v1beta2.ApplicationStateRunning)
	running.Status.ExecutorCounts = map[v1beta2.ExecutorState]int32{v1beta2.ExecutorStateRunning: 3, v1beta2.ExecutorStatePending: 2}
	done := app("ns1", "b", "", v1beta2.ApplicationStateCompleted)
	other := app("ns2", "c", "", v1beta2.ApplicationStateRunning)
	// Two drivers wait in ns2 for a scheduler, the longer one for at least an hour; a third one is
	// bound to a node.
	waitingSince := func(name string, since time.Time, status metav1.ConditionStatus) *v1beta2.SparkApplication {
		a := app("ns2", name, "", v1beta2.ApplicationStateSubmitted)
		a.Status.Conditions = []metav1.Condition{{Type: v1beta2.ConditionDriverScheduled, Status: status, Reason: "Unschedulable", LastTransitionTime: metav1.NewTime(since)}}
		return a
	}
	hourAgo := time.Now().Add(-time.Hour)
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(running, done, other,
		waitingSince("w1", hourAgo, metav1.ConditionFalse), waitingSince("w2", time.Now(), metav1.ConditionFalse),
		waitingSince("bound", hourAgo, metav1.ConditionTrue)).Build()
	m := New("", nil, nil, nil, reader)
	want := `
# HELP spark_application_running_count SparkApplications RUNNING now.
# TYPE spark_application_running_count gauge
spark_application_running_count{namespace="ns1"} 1
spark_application_running_count{namespace="ns2"} 1
# HELP spark_executor_running_count Executors running now, over all SparkApplications.
# TYPE spark_executor_running_count gauge
spark_executor_running_count{namespace="ns1"} 3
spark_executor_running_count{namespace="ns2"} 0
# HELP spark_application_driver_waiting_count SparkApplications whose driver pod waits now for a scheduler or queue to bind it to a node (condition DriverScheduled False).
# TYPE spark_application_driver_waiting_count gauge
spark_application_driver_waiting_count{namespace="ns1"} 0
spark_application_driver_waiting_count{namespace="ns2"} 2
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "spark_application_running_count",
		"spark_executor_running_count", "spark_application_driver_waiting_count"); err != nil {
		t.Error(err)
	}
	// The longest wait is the hour (and the little the scrape takes).
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "spark_application_driver_waiting_longest_seconds" {
			continue
		}
		for _, metric := range f.GetMetric() {
			v := metric.GetGauge().GetValue()
			ns := metric.GetLabel()[0].GetValue()
			if (ns == "ns2" && (v < 3600 || v > 7200)) || (ns == "ns1" && v != 0) {
				t.Errorf("longest wait in %s = %v s", ns, v)
			}
		}
	}
}

// TestPrefixAndNilSafety: names take the prefix, and a nil *Metrics records nothing.
func TestPrefixAndNilSafety(t *testing.T) {
	m := New("myorg-", nil, nil, nil, nil)
	if desc := m.runningDesc.String(); !strings.Contains(desc, "myorg_spark_application_running_count") {
		t.Errorf("prefixed name: %s", desc)
	}
	var none *Metrics
	none.Observe(app("ns", "a", "", v1beta2.ApplicationStateCompleted), &v1beta2.SparkApplicationStatus{}, []v1beta2.ApplicationStateType{v1beta2.ApplicationStateCompleted}, t0)
}
