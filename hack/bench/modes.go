package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sparkop/spark-operator/hack/bench/cluster"
	"github.com/sparkop/spark-operator/hack/bench/kubeflow"
	"github.com/sparkop/spark-operator/hack/bench/recorder"
	"github.com/sparkop/spark-operator/hack/bench/report"
	"github.com/sparkop/spark-operator/hack/bench/soak"
	"github.com/sparkop/spark-operator/hack/harness"
)

// warmupName is the warm-up application's name (not measured, no TTL).
const warmupName = "warmup"

// servedInDiscovery says (nil) whether the API server's discovery lists resource in groupVersion.
func servedInDiscovery(cs kubernetes.Interface, groupVersion, resource string) error {
	list, err := cs.Discovery().ServerResourcesForGroupVersion(groupVersion)
	if err != nil {
		return err
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return nil
		}
	}
	return fmt.Errorf("%s not in the discovery of %s yet", resource, groupVersion)
}

// compare runs our operator and then Kubeflow's on the same cluster set-up with the same applications
// (-kubeflow), each on a fresh cluster, and with -out writes both rows into the results table (their
// commands end in "# ours" and "# Kubeflow") and the comparison (both rows and the ratios) into the
// Kubeflow section of the file.
func compare(ctx context.Context, o *options, command string) error {
	root, err := cluster.RepoRoot()
	if err != nil {
		return err
	}
	kf, err := kubeflow.Prepare(ctx, root)
	if err != nil {
		return err
	}
	var sOurs, sKF *summary
	ours := *o
	ours.kubeflowBinary = ""
	ours.onSummary = func(s *summary) { sOurs = s }
	logf("=== run 1 of 2: our operator")
	errOurs := run(ctx, &ours, command+" # ours")
	if errOurs != nil {
		logf("run 1 of 2 (ours) failed: %v", errOurs)
	}
	if ctx.Err() != nil || sOurs == nil {
		return errOurs
	}
	theirs := *o
	theirs.operatorBinary, theirs.operatorFlags, theirs.operatorEnv = o.kubeflowBinary, o.kubeflowFlags, ""
	theirs.kubeflow = kf
	theirs.onSummary = func(s *summary) { sKF = s }
	logf("=== run 2 of 2: Kubeflow's operator %s with spark-submit (Spark %s from PyPI, %s)", kf.Version, kubeflow.SparkVersion, rel(root, kf.SparkHome))
	errKF := run(ctx, &theirs, command+" # Kubeflow")
	if sOurs == nil || sKF == nil {
		return errors.Join(errOurs, errKF, errors.New("no comparison: a run did not finish"))
	}
	sKF.build = "Kubeflow " + kf.Version
	c := kubeflow.Comparison{Command: command, Ours: sOurs.result(), Kubeflow: sKF.result(), At: time.Now()}
	fmt.Println(strings.Join(c.Lines(), "\n"))
	if o.out != "" {
		path := harness.OutPath(root, o.out)
		if err := kubeflow.Write(path, c); err != nil {
			return errors.Join(errOurs, errKF, err)
		}
		logf("comparison written: %s", rel(root, path))
	}
	return errors.Join(errOurs, errKF)
}

// result is what the Kubeflow comparison shows of the run.
func (s *summary) result() kubeflow.Result {
	return kubeflow.Result{Build: s.build, N: s.n, Submission: s.submitThroughput, PodP50: s.pod.P50, PodP99: s.pod.P99,
		CPUPerApp: s.cpuPerApp(), PeakMemory: s.peakRSS, WritesPerApp: s.writesPerApp,
		LagP50: s.statusLag.P50, LagP99: s.statusLag.P99, Checks: s.checks()}
}

// podRunning records when each application's driver pod was first seen past Pending (Running, or
// already finished), through the recorder's OnPod hook.
type podRunning struct {
	mu sync.Mutex
	at map[string]time.Time // by recorder.Key
}

func newPodRunning() *podRunning { return &podRunning{at: map[string]time.Time{}} }

func (p *podRunning) onPod(pod *corev1.Pod) {
	if pod.Status.Phase == corev1.PodPending || pod.Status.Phase == "" {
		return
	}
	key := recorder.Key(pod.Namespace, pod.Labels["sparkoperator.k8s.io/app-name"])
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.at[key]; !ok {
		p.at[key] = time.Now()
	}
}

// statusLag is, over the measured applications, the time from their driver pod seen running to
// RUNNING seen in their status: how long the operator takes to notice and write it (Kubeflow's
// controller threads may all be busy running spark-submit for other applications meanwhile).
func (p *podRunning) statusLag(records map[string]recorder.Record) report.Quantiles {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lags []time.Duration
	for key, r := range records {
		at, ok := p.at[key]
		if !r.Measured || !ok || r.Running.IsZero() {
			continue
		}
		lags = append(lags, max(0, r.Running.Sub(at)))
	}
	return report.NewQuantiles(lags, 0)
}

// soakReport is the steady run's result beyond the usual summary.
type soakReport struct {
	rate, duration, ttl string
	rss, heap, p99      soak.Trend
	audit               soak.AuditResult
	auditErr            error // the last audit could not list the objects
}

// line is the soak result in one line.
func (r soakReport) line() string {
	return fmt.Sprintf("soak: %s for %s, TTL %s | over the steady part (after the first third): RSS %s, live heap %s, p99 creation->driver pod per minute %s | leak audit: %s",
		r.rate, r.duration, r.ttl, soak.FormatTrend(r.rss, "MiB"), soak.FormatTrend(r.heap, "MiB"), soak.FormatTrend(r.p99, "ms"), r.auditText())
}

// failed says whether the audit found leaks or applications that outlived their TTL.
func (r soakReport) failed() bool {
	return r.auditErr != nil || len(r.audit.Leaks) > 0 || r.audit.AppsLeft > 0
}

// auditText is the audit's result, or why there is none.
func (r soakReport) auditText() string {
	if r.auditErr != nil {
		return "audit failed: " + r.auditErr.Error()
	}
	return r.audit.String()
}

// soakTable is the soak results table in the -out file.
var soakTable = report.Table{
	Begin: "<!-- soak results: begin (written by hack/bench -duration -out; a row is replaced when its command is run again) -->",
	End:   "<!-- soak results: end -->",
	Header: []string{
		"| date | command | operator | rate, duration, TTL | RSS slope | live heap slope | p99 creation->pod trend | leak audit | run |",
		"|---|---|---|---|---|---|---|---|---|",
	},
	Title: table.Title,
}

// soakRow is the steady run's row in the soak table.
func soakRow(command string, s *summary, r soakReport) string {
	return report.Cells(time.Now().Format("2006-01-02 15:04"), "`"+command+"`", s.build,
		r.rate+", "+r.duration+", "+r.ttl, soak.FormatTrend(r.rss, "MiB"), soak.FormatTrend(r.heap, "MiB"), soak.FormatTrend(r.p99, "ms"),
		r.auditText(), s.checks()+fmt.Sprintf("; operator CPU %.2f ms/app, peak RSS %d MiB", float64(s.cpuPerApp().Microseconds())/1000, s.peakRSS>>20))
}

// finishSoak computes the trends of a steady run whose load started at start, then runs the leak
// audit once every measured application was deleted by its TTL, retrying for up to the TTL plus
// 3 minutes so that the garbage collector (kube-controller-manager) can delete what the driver pods
// owned.
func finishSoak(ctx context.Context, o *options, cfg *rest.Config, cs kubernetes.Interface, obs *recorder.Recorder, samples []soak.Sample, start time.Time, namespaces []string) *soakReport {
	r := &soakReport{rate: fmt.Sprintf("%g/s", o.rate), duration: o.duration.String(), ttl: o.ttl.String()}
	r.rss, r.heap = soak.MemoryTrends(samples, o.duration)
	var sent, pod []time.Time
	for _, rec := range obs.Records() {
		if rec.Measured {
			sent, pod = append(sent, rec.Sent), append(pod, rec.PodAdded)
		}
	}
	at, p99 := soak.WindowP99(sent, pod, start, time.Minute)
	r.p99 = soak.FitPerHour(at, p99, soak.SteadyFrom(o.duration), o.duration)
	var b strings.Builder
	for _, s := range samples {
		fmt.Fprintf(&b, " %.0fs:%.1f/%.1f", s.At.Seconds(), float64(s.RSS)/(1<<20), float64(s.Heap)/(1<<20))
	}
	logf("soak: %d samples of the operator (time: RSS/live heap MiB):%s", len(samples), b.String())
	b.Reset()
	for i := range at {
		fmt.Fprintf(&b, " %.0fs:%.0f", at[i].Seconds(), p99[i])
	}
	logf("soak: p99 creation->driver pod per minute of creation (ms):%s", b.String())
	deadline := time.Now().Add(o.ttl + 3*time.Minute)
	logf("soak: waiting for the TTL deletions, then auditing for leaked objects (until %s at the latest)", deadline.Format("15:04:05"))
	for {
		r.audit, r.auditErr = soak.Audit(ctx, cfg, cs, namespaces, warmupName)
		if !r.failed() || time.Now().After(deadline) || ctx.Err() != nil {
			return r
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
