// Package eventrecorder_test writes Events through the operator's bounded recorder
// (internal/eventrecorder) to a real kube-apiserver.
package eventrecorder_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/internal/eventrecorder"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

var env *framework.Env

func TestMain(m *testing.M) { util.Main(m, &env) }

// configMap is an object for events to regard; it need not exist.
func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: "uid-1"}}
}

func listEvents(t *testing.T, ns string) []eventsv1.Event {
	t.Helper()
	var l eventsv1.EventList
	if err := env.Client.List(context.Background(), &l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// TestWritesToAPIServer queues events before Start (as reconcilers may while the manager starts),
// many for one object in a tight loop, and checks every one arrives intact on the real API server.
func TestWritesToAPIServer(t *testing.T) {
	ns := env.NewNamespace(t)
	r := eventrecorder.New(env.Client, env.Scheme, "spark-operator", eventrecorder.Options{})
	const n = 300
	for i := range n {
		r.Eventf(configMap(ns, "app"), nil, corev1.EventTypeNormal, "SparkApplicationSubmitted", "Submit", "event %d of %s", i, "app")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Start(ctx) }()
	framework.WaitFor(t, 30*time.Second, "all events written", func() (bool, string) {
		got := len(listEvents(t, ns))
		return got == n, fmt.Sprintf("%d events", got)
	})
	ev := listEvents(t, ns)[0]
	if ev.ReportingController != "spark-operator" || ev.Regarding.Name != "app" || ev.Action != "Submit" || !strings.HasPrefix(ev.Note, "event ") {
		t.Errorf("event read back = %+v", ev)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start returned %v", err)
	}
	if r.Dropped() != 0 {
		t.Errorf("dropped %d events", r.Dropped())
	}
}

// TestBoundedQueue checks that a full queue drops instead of blocking or growing, that Stop flushes
// what is queued, and that an event the API server refuses for good (its namespace is gone) is
// dropped at once rather than retried.
func TestBoundedQueue(t *testing.T) {
	ns := env.NewNamespace(t)
	r := eventrecorder.New(env.Client, env.Scheme, "spark-operator", eventrecorder.Options{QueueSize: 10})
	start := time.Now()
	for i := range 25 {
		r.Eventf(configMap(ns, "app"), nil, corev1.EventTypeNormal, "R", "A", "%d", i)
	}
	r.Eventf(configMap("no-such-namespace", "app"), nil, corev1.EventTypeNormal, "R", "A", "lost")
	if d := time.Since(start); d > time.Second {
		t.Errorf("Eventf blocked for %v on a full queue", d)
	}
	if r.Dropped() != 16 {
		t.Errorf("dropped %d, want 16 (26 queued into room for 10)", r.Dropped())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Start after its context ended: it only flushes.
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(listEvents(t, ns)); got != 10 {
		t.Errorf("%d events written by the flush, want 10", got)
	}

	r2 := eventrecorder.New(env.Client, env.Scheme, "spark-operator", eventrecorder.Options{Attempts: 5, Backoff: time.Second})
	r2.Eventf(configMap("no-such-namespace", "app"), nil, corev1.EventTypeNormal, "R", "A", "lost")
	start = time.Now()
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_ = r2.Start(ctx2)
	if r2.Dropped() != 1 || time.Since(start) > 900*time.Millisecond {
		t.Errorf("event into a missing namespace: dropped %d after %v, want 1 without retries", r2.Dropped(), time.Since(start))
	}
}
