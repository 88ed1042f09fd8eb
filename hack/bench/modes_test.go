package main

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/recorder"
)

func TestSteadyFlags(t *testing.T) {
	o, err := parseFlags([]string{"-rate", "2", "-duration", "10m"})
	if err != nil {
		t.Fatal(err)
	}
	if o.n != 1200 || o.ttl != 30*time.Second || o.timeout != 3*time.Minute+10*time.Minute+5*time.Second {
		t.Errorf("n %d, ttl %s, timeout %s", o.n, o.ttl, o.timeout)
	}
	for _, bad := range [][]string{
		{"-duration", "10m"}, // no rate
		{"-rate", "1", "-duration", "1m", "-raw"},
		{"-kubeflow", "x", "-replicas", "2"},
		{"-ttl", "-1s"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestStatusLag(t *testing.T) {
	p := newPodRunning()
	base := time.Now()
	pod := func(name string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "bench-0", Name: name + "-driver", Labels: map[string]string{v1beta2.LabelAppName: name}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	p.onPod(pod("a", corev1.PodPending)) // not running yet: not recorded
	p.onPod(pod("a", corev1.PodRunning))
	p.onPod(pod("b", corev1.PodSucceeded)) // Running not seen: the first phase past Pending counts
	p.onPod(pod("c", corev1.PodRunning))
	first := p.at[recorder.Key("bench-0", "a")]
	p.onPod(pod("a", corev1.PodSucceeded)) // the first time is kept
	if p.at[recorder.Key("bench-0", "a")] != first || first.Before(base) {
		t.Fatalf("pod running times %v", p.at)
	}
	for k := range p.at {
		p.at[k] = base
	}
	records := map[string]recorder.Record{
		recorder.Key("bench-0", "a"):      {Measured: true, Running: base.Add(2 * time.Second)},
		recorder.Key("bench-0", "b"):      {Measured: true, Running: base.Add(-time.Second)}, // seen before the pod: 0
		recorder.Key("bench-0", "c"):      {Measured: true},                                  // RUNNING never seen
		recorder.Key("bench-0", "warmup"): {Running: base.Add(time.Hour)},                    // not measured
	}
	q := p.statusLag(records)
	if q.Count != 2 || q.P50 != 0 || q.Max != 2*time.Second {
		t.Errorf("status lag %+v", q)
	}
}
