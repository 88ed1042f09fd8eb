package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// summary is the result of a run.
type summary struct {
	raw                     bool   // -raw: no operator
	build                   string // the operator under test (operatorBuild)
	n, replicas, namespaces int
	rate                    float64
	runDuration             time.Duration
	load                    loadResult

	submitThroughput float64 // driver pods created per second, from the first creation
	e2eThroughput    float64 // applications COMPLETED per second, from the first creation
	pod, submitted   quantiles
	running, done    quantiles

	completed, failed, unfinished int
	// Double submissions: applications with more than one driver pod (seen by the informer or
	// listed at the end) or status.executionAttempts other than 1.
	multiPod, multiAttempt []string

	cpu, baseCPU   time.Duration // all replicas, at the end / after the warm-up
	cpuSplit       cpuBreakdown  // CPU time by process from the first creation to the end
	peakRSS, rss   int64
	failover       *failover
	gap            time.Duration // longest interval after the kill without a state transition
	firstAfterKill time.Duration
}

// quantiles are latency percentiles over the applications that reached the event; missing counts
// those that did not.
type quantiles struct {
	p50, p90, p99, max time.Duration
	count, missing     int
}

func newQuantiles(d []time.Duration, missing int) quantiles {
	q := quantiles{count: len(d), missing: missing}
	if len(d) == 0 {
		return q
	}
	slices.Sort(d)
	// Nearest rank.
	at := func(p float64) time.Duration { return d[max(0, int(math.Ceil(p*float64(len(d))))-1)] }
	q.p50, q.p90, q.p99, q.max = at(0.50), at(0.90), at(0.99), d[len(d)-1]
	return q
}

// String is "p50/p90/p99 ms", or seconds when the p99 is 10 s or more.
func (q quantiles) String() string {
	if q.count == 0 {
		return "n/a"
	}
	s := ""
	if q.p99 >= 10*time.Second {
		s = fmt.Sprintf("%.1f/%.1f/%.1f s", q.p50.Seconds(), q.p90.Seconds(), q.p99.Seconds())
	} else {
		s = fmt.Sprintf("%d/%d/%d ms", q.p50.Milliseconds(), q.p90.Milliseconds(), q.p99.Milliseconds())
	}
	if q.missing > 0 {
		s += fmt.Sprintf(" (%d missing)", q.missing)
	}
	return s
}

func summarize(o *options, obs *observer, ld loadResult, apps []v1beta2.SparkApplication, pods []corev1.Pod) *summary {
	s := &summary{raw: o.raw, n: o.n, replicas: o.replicas, namespaces: o.namespaces, rate: o.rate, runDuration: o.runDuration, load: ld}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	var podLat, subLat, runLat, doneLat []time.Duration
	var first, lastPod, lastDone time.Time
	pods1, done1 := 0, 0
	measured := map[string]bool{}
	for key, r := range obs.apps {
		if !r.measured || r.sent.IsZero() {
			continue
		}
		measured[key] = true
		if first.IsZero() || r.sent.Before(first) {
			first = r.sent
		}
		if !r.podAdded.IsZero() {
			podLat = append(podLat, r.podAdded.Sub(r.sent))
			lastPod = later(lastPod, r.podAdded)
			pods1++
		}
		if !r.submitted.IsZero() {
			subLat = append(subLat, r.submitted.Sub(r.sent))
		}
		if !r.running.IsZero() {
			runLat = append(runLat, r.running.Sub(r.sent))
		}
		if r.state == v1beta2.ApplicationStateCompleted {
			doneLat = append(doneLat, r.finished.Sub(r.sent))
			lastDone = later(lastDone, r.finished)
			done1++
		}
		if len(r.podUIDs) > 1 || r.execAttempts > 1 {
			s.multiPod = appendUnique(s.multiPod, key)
		}
	}
	n := len(measured)
	s.pod = newQuantiles(podLat, n-len(podLat))
	s.submitted = newQuantiles(subLat, n-len(subLat))
	s.running = newQuantiles(runLat, n-len(runLat))
	s.done = newQuantiles(doneLat, n-len(doneLat))
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
		podsPerApp[appKey(p.Namespace, p.Labels[v1beta2.LabelAppName])]++
	}
	seen := map[string]bool{}
	for i := range apps {
		a := &apps[i]
		key := appKey(a.Namespace, a.Name)
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
	s.unfinished += len(measured) - len(seen)
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
	if d := s.load.last.Sub(s.load.first); d > 0 {
		return float64(s.load.created-1) / d.Seconds()
	}
	return 0
}

// checks describes the correctness checks in a few words.
func (s *summary) checks() string {
	if s.raw {
		return fmt.Sprintf("raw: no operator, %d of %d driver pods seen", s.pod.count, s.n)
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
		if s.pod.count < s.n {
			return fmt.Sprintf("only %d of %d driver pods were seen", s.pod.count, s.n)
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

// tableHeader is the header of the results table in the -out file.
var tableHeader = []string{
	"| date | command | operator | N | rate | replicas | submission (apps/s) | to COMPLETED (apps/s) | creation->pod p50/p90/p99 | ->SUBMITTED p50/p90/p99 | ->RUNNING p50/p90/p99 | operator CPU/app | peak RSS | checks | where the CPU went |",
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
}

const (
	tableBegin = "<!-- bench results: begin (written by hack/bench -out; a row is replaced when its command is run again) -->"
	tableEnd   = "<!-- bench results: end -->"
)

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
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// writeTable puts row into the results table of the Markdown file at path, replacing the row with the
// same command, creating the table (and the file) when missing.
func writeTable(path, row string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(data)
	if text == "" {
		text = "# Benchmarks\n\nResults of `hack/bench` (`make bench`).\n\n"
	}
	begin, end := strings.Index(text, tableBegin), strings.Index(text, tableEnd)
	var rows []string
	if begin < 0 || end < begin {
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + tableBegin + "\n" + tableEnd + "\n"
		begin, end = strings.Index(text, tableBegin), strings.Index(text, tableEnd)
	} else {
		for line := range strings.SplitSeq(text[begin+len(tableBegin):end], "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "|") && !slices.Contains(tableHeader, line) {
				rows = append(rows, line)
			}
		}
	}
	cmd := rowCommand(row)
	replaced := false
	for i, r := range rows {
		if rowCommand(r) == cmd {
			rows[i], replaced = row, true
		}
	}
	if !replaced {
		rows = append(rows, row)
	}
	block := tableBegin + "\n" + strings.Join(tableHeader, "\n") + "\n" + strings.Join(rows, "\n") + "\n"
	text = text[:begin] + block + text[end:]
	return os.WriteFile(path, []byte(text), 0o644)
}

// rowCommand is the command cell of a table row.
func rowCommand(row string) string {
	cells := strings.Split(row, " | ")
	if len(cells) < 2 {
		return ""
	}
	return cells[1]
}
