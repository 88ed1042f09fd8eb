// Package soak is the steady mode of hack/bench (-duration): applications at a fixed rate for a fixed
// time, each deleted by the operator its TTL after it finished, so that the cluster and the operator's
// caches reach a steady state. During the run the operator's RSS and live heap are sampled (Monitor);
// at the end the run reports their slopes over the steady part (MemoryTrends), the trend of the p99
// creation->driver pod latency per window of creation time (WindowP99), and a leak audit (Audit): no
// object an application created outlives it.
package soak

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/report"
)

// Sample is one sample of the operator during a steady run.
type Sample struct {
	At   time.Duration // since the monitor started (with the load)
	RSS  int64         // bytes, summed over the replicas (VmRSS)
	Heap int64         // bytes of live heap (go_gc_heap_live_bytes), -1 when not scraped
}

// Monitor samples the operator every interval while the load runs.
type Monitor struct {
	mu      sync.Mutex
	samples []Sample
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartMonitor samples the operator's RSS (rss, in bytes) every interval and, when metricsURL is
// set, its live heap from its Prometheus endpoint (controller-runtime serves the Go runtime's metrics
// there), until Stop.
func StartMonitor(ctx context.Context, rss func() int64, metricsURL string, interval time.Duration) *Monitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &Monitor{cancel: cancel, done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(m.done)
		wait.UntilWithContext(ctx, func(ctx context.Context) {
			s := Sample{At: time.Since(start), Heap: -1}
			s.RSS = rss()
			if metricsURL != "" {
				if h, err := ScrapeLiveHeap(ctx, metricsURL); err == nil {
					s.Heap = h
				}
			}
			m.mu.Lock()
			m.samples = append(m.samples, s)
			m.mu.Unlock()
		}, interval)
	}()
	return m
}

// Stop ends the sampling and returns the samples.
func (m *Monitor) Stop() []Sample {
	m.cancel()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.samples)
}

// HeapMetrics are the metrics read as the live heap, first found wins: the heap that survived the
// last GC (runtime/metrics /gc/heap/live:bytes), else the allocated heap (includes garbage).
var HeapMetrics = []string{"go_gc_heap_live_bytes", "go_memstats_heap_alloc_bytes"}

// ScrapeLiveHeap reads the live heap in bytes from a Prometheus text endpoint.
func ScrapeLiveHeap(ctx context.Context, url string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return ParseHeapMetric(resp.Body)
}

// ParseHeapMetric finds the first of HeapMetrics in a Prometheus text exposition.
func ParseHeapMetric(r io.Reader) (int64, error) {
	found := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(HeapMetrics, name) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			found[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	for _, name := range HeapMetrics {
		if v, ok := found[name]; ok {
			return int64(v), nil
		}
	}
	return 0, fmt.Errorf("none of %v in the metrics", HeapMetrics)
}

// Slope fits y = a + b*x by least squares and returns b; ok is false with fewer than 3 points or
// when every x is the same.
func Slope(xs, ys []float64) (b float64, ok bool) {
	n := float64(len(xs))
	if len(xs) != len(ys) || len(xs) < 3 {
		return 0, false
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// SteadyFrom is where the steady part of a run of the given length starts: after its first third,
// in which the caches fill up (applications are created but none deleted until the first ones
// finished and their TTL passed) and the Go heap grows to its working size.
func SteadyFrom(length time.Duration) time.Duration { return length / 3 }

// Trend is a fitted slope per hour with the first and last value it was fitted over.
type Trend struct {
	PerHour     float64 // slope, units per hour
	First, Last float64 // the first and last value fitted
	Points      int     // values fitted
	OK          bool    // false when too few points for a fit
}

// FitPerHour fits values over time (the points from from to to, both included) and gives the slope
// per hour.
func FitPerHour(at []time.Duration, values []float64, from, to time.Duration) Trend {
	var xs, ys []float64
	for i := range at {
		if at[i] >= from && at[i] <= to {
			xs = append(xs, at[i].Hours())
			ys = append(ys, values[i])
		}
	}
	t := Trend{Points: len(xs)}
	t.PerHour, t.OK = Slope(xs, ys)
	if len(ys) > 0 {
		t.First, t.Last = ys[0], ys[len(ys)-1]
	}
	return t
}

// MemoryTrends are the RSS and live-heap slopes in MiB per hour over the steady part of a load of the
// given length: from SteadyFrom(length) to length (the drain after the last creation is left out).
func MemoryTrends(samples []Sample, length time.Duration) (rss, heap Trend) {
	var at, hat []time.Duration
	var r, h []float64
	for _, s := range samples {
		at = append(at, s.At)
		r = append(r, float64(s.RSS)/(1<<20))
		if s.Heap >= 0 {
			hat = append(hat, s.At)
			h = append(h, float64(s.Heap)/(1<<20))
		}
	}
	from := SteadyFrom(length)
	return FitPerHour(at, r, from, length), FitPerHour(hat, h, from, length)
}

// WindowP99 is the p99 creation->driver pod latency of the applications created in each window of
// creation time (relative to start); windows with no driver pod seen are left out.
func WindowP99(sent, podAdded []time.Time, start time.Time, window time.Duration) (at []time.Duration, p99 []float64) {
	byWindow := map[int][]time.Duration{}
	for i := range sent {
		if sent[i].IsZero() || podAdded[i].IsZero() {
			continue
		}
		w := int(sent[i].Sub(start) / window)
		byWindow[w] = append(byWindow[w], podAdded[i].Sub(sent[i]))
	}
	var keys []int
	for w := range byWindow {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	for _, w := range keys {
		q := report.NewQuantiles(byWindow[w], 0)
		at = append(at, time.Duration(w)*window+window/2)
		p99 = append(p99, float64(q.P99.Milliseconds()))
	}
	return at, p99
}

// Object is an object the leak audit looks at: what ties it to an application.
type Object struct {
	Kind, Namespace, Name string
	App                   string // the sparkoperator.k8s.io/app-name label, "" when none
	Owners                []metav1.OwnerReference
}

func (o Object) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// FindLeaks returns the objects that outlived what they belong to: an object labelled with the name
// of an application that no longer exists, or owned (ownerReferences) by a SparkApplication or pod
// whose UID no longer exists. liveApps holds "namespace/name" of the applications that exist,
// liveUIDs the UIDs of the applications and pods that exist.
func FindLeaks(objs []Object, liveApps map[string]bool, liveUIDs map[types.UID]bool) []Object {
	var leaks []Object
	for _, o := range objs {
		leaked := o.App != "" && !liveApps[key(o.Namespace, o.App)]
		for _, ref := range o.Owners {
			if (ref.Kind == "SparkApplication" || ref.Kind == "Pod") && !liveUIDs[ref.UID] {
				leaked = true
			}
		}
		if leaked {
			leaks = append(leaks, o)
		}
	}
	return leaks
}

// resources are what an application may create: the driver's ConfigMaps and Services, the UI
// Service and Ingress, the driver's PodDisruptionBudget, gang scheduling's PodGroups and the pods.
var resources = []struct {
	kind string
	gvr  schema.GroupVersionResource
}{
	{"ConfigMap", schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
	{"Service", schema.GroupVersionResource{Version: "v1", Resource: "services"}},
	{"Pod", schema.GroupVersionResource{Version: "v1", Resource: "pods"}},
	{"Ingress", schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}},
	{"PodDisruptionBudget", schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}},
	{"PodGroup (scheduling.k8s.io)", schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1alpha2", Resource: "podgroups"}},
	{"PodGroup (volcano)", schema.GroupVersionResource{Group: "scheduling.volcano.sh", Version: "v1beta1", Resource: "podgroups"}},
	{"PodGroup (scheduler-plugins)", schema.GroupVersionResource{Group: "scheduling.x-k8s.io", Version: "v1alpha1", Resource: "podgroups"}},
}

// AuditResult is the outcome of the leak audit.
type AuditResult struct {
	Checked, NotServed []string // kinds listed, kinds the cluster does not serve
	Objects            int      // objects of the audited kinds in the namespaces
	Leaks              []Object
	AppsLeft           int // applications other than the warm-up's not deleted yet
}

// String is e.g. "0 leaked objects (1200 objects of ConfigMap, Service, Pod checked in the benchmark
// namespaces; not served by this cluster: ...)", with the first leaks named.
func (a AuditResult) String() string {
	s := fmt.Sprintf("%d leaked objects (%d objects of %s checked in the benchmark namespaces", len(a.Leaks), a.Objects, strings.Join(a.Checked, ", "))
	if len(a.NotServed) > 0 {
		s += "; not served by this cluster: " + strings.Join(a.NotServed, ", ")
	}
	s += ")"
	if a.AppsLeft > 0 {
		s += fmt.Sprintf("; %d applications not deleted by their TTL", a.AppsLeft)
	}
	if len(a.Leaks) > 0 {
		names := make([]string, len(a.Leaks))
		for i, l := range a.Leaks {
			names[i] = l.String()
		}
		s += ": " + firstFew(names, 5)
	}
	return s
}

// Audit lists the SparkApplications and the audited kinds in the namespaces (metadata only) and finds
// the leaks. warmup names the application that is not counted in AppsLeft (it has no TTL).
func Audit(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, namespaces []string, warmup string) (AuditResult, error) {
	var res AuditResult
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return res, err
	}
	liveApps, liveUIDs := map[string]bool{}, map[types.UID]bool{}
	var objs []Object
	appGVR := v1beta2.GroupVersion.WithResource("sparkapplications")
	for _, ns := range namespaces {
		apps, err := mc.Resource(appGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return res, fmt.Errorf("listing SparkApplications in %s: %w", ns, err)
		}
		for _, a := range apps.Items {
			liveApps[key(ns, a.Name)] = true
			liveUIDs[a.UID] = true
			if a.Name != warmup {
				res.AppsLeft++
			}
		}
	}
	for _, r := range resources {
		if _, err := cs.Discovery().ServerResourcesForGroupVersion(r.gvr.GroupVersion().String()); err != nil {
			res.NotServed = append(res.NotServed, r.kind)
			continue
		}
		res.Checked = append(res.Checked, r.kind)
		for _, ns := range namespaces {
			list, err := mc.Resource(r.gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return res, fmt.Errorf("listing %s in %s: %w", r.gvr.Resource, ns, err)
			}
			for _, it := range list.Items {
				if r.kind == "Pod" {
					liveUIDs[it.UID] = true
				}
				objs = append(objs, Object{Kind: r.kind, Namespace: ns, Name: it.Name,
					App: it.Labels[v1beta2.LabelAppName], Owners: it.OwnerReferences})
			}
		}
	}
	res.Objects = len(objs)
	res.Leaks = FindLeaks(objs, liveApps, liveUIDs)
	return res, nil
}

func key(namespace, name string) string { return namespace + "/" + name }

func firstFew(list []string, n int) string {
	if len(list) > n {
		return strings.Join(list[:n], ", ") + ", ..."
	}
	return strings.Join(list, ", ")
}

// FormatTrend is e.g. "+0.40 MiB/h (61.0 -> 61.2 MiB over 60 samples)", or "n/a (2 points)".
func FormatTrend(t Trend, unit string) string {
	if !t.OK {
		return fmt.Sprintf("n/a (%d points)", t.Points)
	}
	return fmt.Sprintf("%+.2f %s/h (%.1f -> %.1f %s over %d samples)", t.PerHour, unit, t.First, t.Last, unit, t.Points)
}

// Count is the number of applications of a steady run: rate per second for the duration, rounded up.
func Count(rate float64, d time.Duration) int { return int(math.Ceil(rate * d.Seconds())) }
