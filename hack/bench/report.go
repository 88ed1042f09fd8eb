package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/load"
	"github.com/sparkop/spark-operator/hack/bench/recorder"
	"github.com/sparkop/spark-operator/hack/bench/report"
	"github.com/sparkop/spark-operator/hack/bench/scraper"
)

// summary is the result of a run.
type summary struct {
	raw                     bool   // -raw: no operator
	build                   string // the operator under test (operatorBuild)
	n, replicas, namespaces int
	rate                    float64
	runDuration             time.Duration
	load                    load.Result

	submitThroughput float64 // driver pods created per second, from the first creation
	e2eThroughput    float64 // applications COMPLETED per second, from the first creation
	pod, submitted   report.Quantiles
	running, done    report.Quantiles

	completed, failed, unfinished int
	// Double submissions: applications with more than one driver pod (seen by the informer or
	// listed at the end) or status.executionAttempts other than 1.
	multiPod, multiAttempt []string

	cpu, baseCPU   time.Duration        // all replicas, at the end / after the warm-up
	cpuSplit       scraper.CPUBreakdown // CPU time by process from the first creation to the end
	peakRSS, rss   int64
	failover       *failover
	gap            time.Duration // longest interval after the kill without a state transition
	firstAfterKill time.Duration

	writesPerApp float64          // API writes of every client per application (apiserver_request_total)
	statusLag    report.Quantiles // driver pod seen Running -> RUNNING seen in the application's status
}

func summarize(o *options, obs *recorder.Recorder, ld load.Result, apps []v1beta2.SparkApplication, pods []corev1.Pod) *summary {
	s := &summary{raw: o.raw, n: o.n, replicas: o.replicas, namespaces: o.namespaces, rate: o.rate, runDuration: o.runDuration, load: ld}
	var podLat, subLat, runLat, doneLat []time.Duration
	var first, lastPod, lastDone time.Time
	pods1, done1 := 0, 0
	measured := map[string]bool{}
	records := obs.Records()
	for key, r := range records {
		if !r.Measured || r.Sent.IsZero() {
			continue
		}
		measured[key] = true
		if first.IsZero() || r.Sent.Before(first) {
			first = r.Sent
		}
		if !r.PodAdded.IsZero() {
			podLat = append(podLat, r.PodAdded.Sub(r.Sent))
			lastPod = later(lastPod, r.PodAdded)
			pods1++
		}
		if !r.Submitted.IsZero() {
			subLat = append(subLat, r.Submitted.Sub(r.Sent))
		}
		if !r.Running.IsZero() {
			runLat = append(runLat, r.Running.Sub(r.Sent))
		}
		if r.State == v1beta2.ApplicationStateCompleted {
			doneLat = append(doneLat, r.Finished.Sub(r.Sent))
			lastDone = later(lastDone, r.Finished)
			done1++
		}
		if len(r.PodUIDs) > 1 || r.ExecAttempts > 1 {
			s.multiPod = appendUnique(s.multiPod, key)
		}
	}
	n := len(measured)
	s.pod = report.NewQuantiles(podLat, n-len(podLat))
	s.submitted = report.NewQuantiles(subLat, n-len(subLat))
	s.running = report.NewQuantiles(runLat, n-len(runLat))
	s.done = report.NewQuantiles(doneLat, n-len(doneLat))
	if pods1 > 0 && lastPod.After(first) {
		s.submitThroughput = float64(pods1) / lastPod.Sub(first).Seconds()
	}
	if done1 > 0 && lastDone.After(first) {
		s.e2eThroughput = float64(done1) / lastDone.Sub(first).Seconds()
	}

	// The API server's view at the end.
	podsPerApp := map[string]int{}
	for i := range pods {
		p := &pods[i]
		podsPerApp[recorder.Key(p.Namespace, p.Labels[v1beta2.LabelAppName])]++
	}
	seen := map[string]bool{}
	for i := range apps {
		a := &apps[i]
		key := recorder.Key(a.Namespace, a.Name)
		if !measured[key] {
			continue
		}
		seen[key] = true
		switch a.Status.AppState.State {
		case v1beta2.ApplicationStateCompleted:
			s.completed++
		case v1beta2.ApplicationStateFailed, v1beta2.ApplicationStateFailedSubmission:
			s.failed++
		default:
			s.unfinished++
		}
		if a.Status.ExecutionAttempts != 1 {
			s.multiAttempt = append(s.multiAttempt, fmt.Sprintf("%s (executionAttempts=%d)", key, a.Status.ExecutionAttempts))
		}
		if podsPerApp[key] > 1 {
			s.multiPod = appendUnique(s.multiPod, key)
		}
	}
	// Not listed at the end: deleted by their TTL (-ttl) after the recorder saw them finish.
	for key := range measured {
		if seen[key] {
			continue
		}
		switch records[key].State {
		case v1beta2.ApplicationStateCompleted:
			s.completed++
		case v1beta2.ApplicationStateFailed:
			s.failed++
		default:
			s.unfinished++
		}
	}
	slices.Sort(s.multiPod)
	slices.Sort(s.multiAttempt)
	return s
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (s *summary) rateText() string {
	if s.rate == 0 {
		return "all at once"
	}
	return fmt.Sprintf("%g/s", s.rate)
}

func (s *summary) cpuPerApp() time.Duration { return s.cpu / time.Duration(s.n) }

func (s *summary) replicasText() string {
	if s.raw {
		return "0 (raw)"
	}
	return fmt.Sprint(s.replicas)
}

// createRate is the rate at which the client actually sent the create requests.
func (s *summary) createRate() float64 {
	if d := s.load.Last.Sub(s.load.First); d > 0 {
		return float64(s.load.Created-1) / d.Seconds()
	}
	return 0
}

// checks describes the correctness checks in a few words.
func (s *summary) checks() string {
	if s.raw {
		return fmt.Sprintf("raw: no operator, %d of %d driver pods seen", s.pod.Count, s.n)
	}
	var parts []string
	if s.completed == s.n {
		parts = append(parts, "all COMPLETED")
	} else {
		parts = append(parts, fmt.Sprintf("%d/%d COMPLETED (%d failed, %d unfinished)", s.completed, s.n, s.failed, s.unfinished))
	}
	parts = append(parts, fmt.Sprintf("double submissions %d", len(s.multiPod)+len(s.multiAttempt)))
	if f := s.failover; f != nil {
		if f.err != nil {
			parts = append(parts, "failover: "+f.err.Error())
		} else {
			parts = append(parts, fmt.Sprintf("leader killed after %d creations, new leader after %.1fs, first transition after %.1fs, max gap without transitions %.1fs",
				f.threshold, f.newLeaderAt.Sub(f.killedAt).Seconds(), s.firstAfterKill.Seconds(), s.gap.Seconds()))
		}
	}
	return strings.Join(parts, "; ")
}

// violations is an error message when the run broke a correctness check, or "".
func (s *summary) violations() string {
	if s.raw {
		if s.pod.Count < s.n {
			return fmt.Sprintf("only %d of %d driver pods were seen", s.pod.Count, s.n)
		}
		return ""
	}
	var v []string
	if s.completed != s.n {
		v = append(v, fmt.Sprintf("%d of %d applications did not complete", s.n-s.completed, s.n))
	}
	if len(s.multiPod) > 0 {
		v = append(v, fmt.Sprintf("%d applications had more than one driver pod: %s", len(s.multiPod), firstFew(s.multiPod)))
	}
	if len(s.multiAttempt) > 0 {
		v = append(v, fmt.Sprintf("%d applications have executionAttempts != 1: %s", len(s.multiAttempt), firstFew(s.multiAttempt)))
	}
	if s.failover != nil && s.failover.err != nil {
		v = append(v, "failover: "+s.failover.err.Error())
	}
	return strings.Join(v, "; ")
}

func firstFew(list []string) string {
	if len(list) > 5 {
		return strings.Join(list[:5], ", ") + ", ..."
	}
	return strings.Join(list, ", ")
}

// line is the one-line summary of the run.
func (s *summary) line() string {
	if s.raw {
		return fmt.Sprintf("bench: raw (no operator) n=%d rate=%s namespaces=%d | create-sets (application, driver pod, 2 ConfigMaps, Service) at %.1f/s | creation->pod seen %s | %s",
			s.n, s.rateText(), s.namespaces, s.submitThroughput, s.pod, s.checks())
	}
	return fmt.Sprintf("bench: operator %s n=%d rate=%s replicas=%d namespaces=%d run=%s | created at %.0f/s | submission %.1f apps/s | to COMPLETED %.1f apps/s"+
		" | creation->pod %s, ->SUBMITTED %s, ->RUNNING %s | operator CPU %.2f ms/app (%.1fs total, %.1fs before the load), peak RSS %d MiB | %s",
		s.build, s.n, s.rateText(), s.replicas, s.namespaces, s.runDuration, s.createRate(), s.submitThroughput, s.e2eThroughput,
		s.pod, s.submitted, s.running,
		float64(s.cpuPerApp().Microseconds())/1000, s.cpu.Seconds(), s.baseCPU.Seconds(), s.peakRSS>>20, s.checks())
}

// table is the results table in the -out file.
var table = report.Table{
	Begin: "<!-- bench results: begin (written by hack/bench -out; a row is replaced when its command is run again) -->",
	End:   "<!-- bench results: end -->",
	Header: []string{
		"| date | command | operator | N | rate | replicas | submission (apps/s) | to COMPLETED (apps/s) | creation->pod p50/p90/p99 | ->SUBMITTED p50/p90/p99 | ->RUNNING p50/p90/p99 | operator CPU/app | peak RSS | checks | where the CPU went |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
	},
	Title: "# Benchmarks\n\nResults of `hack/bench` (`make bench`).\n\n",
}

// row is the run's row of the results table.
func (s *summary) row(command string) string {
	cells := []string{
		time.Now().Format("2006-01-02 15:04"),
		"`" + command + "`",
		s.build,
		fmt.Sprint(s.n),
		s.rateText(),
		s.replicasText(),
		fmt.Sprintf("%.1f", s.submitThroughput),
		fmt.Sprintf("%.1f", s.e2eThroughput),
		s.pod.String(),
		s.submitted.String(),
		s.running.String(),
		fmt.Sprintf("%.2f ms", float64(s.cpuPerApp().Microseconds())/1000),
		fmt.Sprintf("%d MiB", s.peakRSS>>20),
		s.checks(),
		s.cpuSplit.String(),
	}
	if s.raw {
		cells[7], cells[11], cells[12] = "n/a", "n/a", "n/a" // no operator moves the applications on
	}
	return report.Cells(cells...)
}
