package soak

import (
	"math"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestSlope(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4}
	b, ok := Slope(xs, []float64{3, 5, 7, 9, 11})
	if !ok || math.Abs(b-2) > 1e-9 {
		t.Errorf("exact line: slope %v, %v; want 2", b, ok)
	}
	// Noise around a flat line: the fit is flat.
	b, ok = Slope(xs, []float64{10, 12, 10, 12, 11})
	if !ok || math.Abs(b) > 0.5 {
		t.Errorf("flat with noise: slope %v, %v", b, ok)
	}
	if _, ok := Slope([]float64{1, 2}, []float64{1, 2}); ok {
		t.Error("two points fitted")
	}
	if _, ok := Slope([]float64{1, 1, 1}, []float64{1, 2, 3}); ok {
		t.Error("vertical line fitted")
	}
}

func TestMemoryTrendsUseTheSteadyPart(t *testing.T) {
	// 30 minutes, a sample a minute: the RSS grows 1 MiB a minute while the caches fill (first
	// 10 minutes), then stays at 60 MiB; the live heap leaks 2 MiB per hour throughout.
	var samples []Sample
	for m := 0; m <= 30; m++ {
		rss := 50 + min(m, 10)
		heap := 20*float64(1<<20) + float64(m)/60*2*(1<<20)
		samples = append(samples, Sample{At: time.Duration(m) * time.Minute, RSS: int64(rss) << 20, Heap: int64(heap)})
	}
	samples = append(samples, Sample{At: 29*time.Minute + 30*time.Second, RSS: 60 << 20, Heap: -1}) // heap not scraped
	samples = append(samples, Sample{At: 35 * time.Minute, RSS: 20 << 20, Heap: 0})                 // after the load: left out
	rss, heap := MemoryTrends(samples, 30*time.Minute)
	if !rss.OK || math.Abs(rss.PerHour) > 1e-9 || rss.First != 60 || rss.Last != 60 || rss.Points != 22 {
		t.Errorf("RSS trend %+v: want flat at 60 MiB over the 22 samples of minutes 10 to 30", rss)
	}
	if !heap.OK || math.Abs(heap.PerHour-2) > 1e-6 || heap.Points != 21 {
		t.Errorf("heap trend %+v: want +2 MiB/h over 21 samples", heap)
	}
	if got := FormatTrend(heap, "MiB"); !strings.HasPrefix(got, "+2.00 MiB/h (") {
		t.Errorf("fmtTrend = %q", got)
	}
	if got := FormatTrend(Trend{Points: 1}, "ms"); got != "n/a (1 points)" {
		t.Errorf("fmtTrend without a fit = %q", got)
	}
}

func TestWindowP99(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var sent, pod []time.Time
	// Minute 0: 100 applications, latencies 1..100 ms; minute 2: one of 500 ms; one without a pod.
	for i := 1; i <= 100; i++ {
		s := start.Add(time.Duration(i) * 100 * time.Millisecond)
		sent, pod = append(sent, s), append(pod, s.Add(time.Duration(i)*time.Millisecond))
	}
	s := start.Add(2*time.Minute + time.Second)
	sent, pod = append(sent, s, s), append(pod, s.Add(500*time.Millisecond), time.Time{})
	at, p99 := WindowP99(sent, pod, start, time.Minute)
	if len(at) != 2 || at[0] != 30*time.Second || at[1] != 150*time.Second || p99[0] != 99 || p99[1] != 500 {
		t.Errorf("windows %v, p99 %v", at, p99)
	}
}

func TestFindLeaks(t *testing.T) {
	liveApps := map[string]bool{"bench-0/app-1": true}
	liveUIDs := map[types.UID]bool{"app-1-uid": true, "pod-1-uid": true}
	objs := []Object{
		{Kind: "ConfigMap", Namespace: "bench-0", Name: "kube-root-ca.crt"},
		{Kind: "ConfigMap", Namespace: "bench-0", Name: "app-1-conf", Owners: []metav1.OwnerReference{{Kind: "Pod", UID: "pod-1-uid"}}},
		{Kind: "Service", Namespace: "bench-0", Name: "app-1-ui", App: "app-1", Owners: []metav1.OwnerReference{{Kind: "SparkApplication", UID: "app-1-uid"}}},
		{Kind: "Pod", Namespace: "bench-0", Name: "app-1-driver", App: "app-1"},
		// Leaks: owner pod gone, labelled with a deleted application, owner application gone.
		{Kind: "ConfigMap", Namespace: "bench-0", Name: "app-2-conf", Owners: []metav1.OwnerReference{{Kind: "Pod", UID: "pod-2-uid"}}},
		{Kind: "Pod", Namespace: "bench-0", Name: "app-2-driver", App: "app-2"},
		{Kind: "Ingress", Namespace: "bench-0", Name: "app-3-ui", Owners: []metav1.OwnerReference{{Kind: "SparkApplication", UID: "app-3-uid"}}},
		// Another kind of owner is not ours to judge.
		{Kind: "Service", Namespace: "bench-0", Name: "other", Owners: []metav1.OwnerReference{{Kind: "Deployment", UID: "x"}}},
	}
	var got []string
	for _, l := range FindLeaks(objs, liveApps, liveUIDs) {
		got = append(got, l.String())
	}
	want := "ConfigMap bench-0/app-2-conf, Pod bench-0/app-2-driver, Ingress bench-0/app-3-ui"
	if strings.Join(got, ", ") != want {
		t.Errorf("leaks %v, want %s", got, want)
	}
	a := AuditResult{Checked: []string{"ConfigMap", "Pod"}, NotServed: []string{"PodGroup (volcano)"}, Objects: 8, Leaks: FindLeaks(objs, liveApps, liveUIDs)}
	if s := a.String(); !strings.HasPrefix(s, "3 leaked objects (8 objects of ConfigMap, Pod checked") || !strings.Contains(s, "not served by this cluster: PodGroup (volcano)") {
		t.Errorf("audit string %q", s)
	}
}

func TestParseHeapMetric(t *testing.T) {
	text := "# HELP go_memstats_heap_alloc_bytes x\ngo_memstats_heap_alloc_bytes 3.5e+07\ngo_gc_heap_live_bytes 2.097152e+07\ngo_gc_heap_live_bytes_total 1\n"
	if v, err := ParseHeapMetric(strings.NewReader(text)); err != nil || v != 20<<20 {
		t.Errorf("live heap %d, %v; want 20 MiB", v, err)
	}
	if v, err := ParseHeapMetric(strings.NewReader("go_memstats_heap_alloc_bytes 1024\n")); err != nil || v != 1024 {
		t.Errorf("fallback %d, %v", v, err)
	}
	if _, err := ParseHeapMetric(strings.NewReader("up 1\n")); err == nil {
		t.Error("no heap metric: no error")
	}
}

func TestCount(t *testing.T) {
	if got := Count(2, 10*time.Minute); got != 1200 {
		t.Errorf("Count(2/s, 10m) = %d", got)
	}
	if got := Count(0.3, 10*time.Second); got != 3 {
		t.Errorf("Count(0.3/s, 10s) = %d (rounded up)", got)
	}
}
