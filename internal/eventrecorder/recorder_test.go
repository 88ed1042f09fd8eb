package eventrecorder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// The real API server is started by the first test that needs it (sharedEnv), so that the unit
// tests and fuzzing workers, which run TestMain too, do not start one each.
var (
	envOnce sync.Once
	env     *framework.Env
	envErr  error
)

func sharedEnv(t *testing.T) *framework.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a control plane from bin/; skipped with -short (make unit)")
	}
	envOnce.Do(func() { env, envErr = framework.New() })
	if envErr != nil {
		t.Fatalf("starting the API server: %v", envErr)
	}
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the API server:", err)
		}
	}
	os.Exit(code)
}

func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: "uid-1"}}
}

// TestBuild checks the event's shape against what client-go's tools/events recorder makes.
func TestBuild(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	r := New(nil, scheme.Scheme, "spark-operator", Options{Clock: clocktesting.NewFakeClock(now), Instance: "spark-operator-host"})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "driver", Namespace: "ns", UID: "p"}}
	ev, err := r.build(configMap("ns", "app"), pod, corev1.EventTypeWarning, "SparkDriverFailed", "Observe", strings.Repeat("é", 600))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("app.%x", now.UnixNano()); ev.Name != want || ev.Namespace != "ns" {
		t.Errorf("name = %s/%s, want ns/%s", ev.Namespace, ev.Name, want)
	}
	if ev.Regarding.Kind != "ConfigMap" || ev.Regarding.Name != "app" || ev.Related == nil || ev.Related.Kind != "Pod" {
		t.Errorf("regarding/related = %+v / %+v", ev.Regarding, ev.Related)
	}
	if ev.ReportingController != "spark-operator" || ev.ReportingInstance != "spark-operator-host" || ev.Action != "Observe" ||
		ev.Reason != "SparkDriverFailed" || ev.Type != corev1.EventTypeWarning || !ev.EventTime.Time.Equal(now) || ev.Series != nil {
		t.Errorf("event = %+v", ev)
	}
	if len(ev.Note) > MaxNoteBytes || !utf8.ValidString(ev.Note) || len(ev.Note) < MaxNoteBytes-1 {
		t.Errorf("note: %d bytes, valid UTF-8 %v; want at most %d, whole runes", len(ev.Note), utf8.ValidString(ev.Note), MaxNoteBytes)
	}

	// Same clock tick, same object: a different name.
	ev2, _ := r.build(configMap("ns", "app"), nil, corev1.EventTypeNormal, "R", "A", "n")
	if ev2.Name == ev.Name || ev2.Related != nil {
		t.Errorf("second event in one tick: name %s (first %s), related %v", ev2.Name, ev.Name, ev2.Related)
	}
	// Cluster-scoped objects report into "default".
	ev3, _ := r.build(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, nil, corev1.EventTypeNormal, "R", "A", "n")
	if ev3.Namespace != metav1.NamespaceDefault {
		t.Errorf("cluster-scoped regarding: namespace %q, want default", ev3.Namespace)
	}
	if _, err := r.build(configMap("ns", "app"), nil, "Error", "R", "A", "n"); err == nil {
		t.Error("type Error accepted")
	}
	empty := New(nil, runtime.NewScheme(), "spark-operator", Options{})
	if _, err := empty.build(configMap("ns", "app"), nil, corev1.EventTypeNormal, "R", "A", "n"); err == nil {
		t.Error("an object whose kind the scheme does not know accepted")
	}
}

func TestRetriable(t *testing.T) {
	gr := schema.GroupResource{Group: "events.k8s.io", Resource: "events"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{apierrors.NewTooManyRequests("slow down", 1), true},
		{apierrors.NewInternalError(errors.New("boom")), true},
		{apierrors.NewServerTimeout(gr, "create", 1), true},
		{errors.New("connection refused"), true},
		{apierrors.NewForbidden(gr, "x", errors.New("no")), false},
		{apierrors.NewNotFound(gr, "ns"), false},
		{apierrors.NewInvalid(schema.GroupKind{Kind: "Event"}, "x", nil), false},
		{context.Canceled, false},
	} {
		if got := retriable(tc.err); got != tc.want {
			t.Errorf("retriable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, s := range []string{"", "abc", strings.Repeat("a", 2000), strings.Repeat("日本", 400), "a" + strings.Repeat("🙂", 300)} {
		got := truncate(s, MaxNoteBytes)
		if len(got) > MaxNoteBytes || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || (len(s) <= MaxNoteBytes && got != s) {
			t.Errorf("truncate(%d bytes) = %d bytes, valid %v", len(s), len(got), utf8.ValidString(got))
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("hello", 3)
	f.Add("日本語", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 4096 || !utf8.ValidString(s) {
			return
		}
		got := truncate(s, n)
		if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(got) < n-3 && len(got) < len(s) {
			t.Fatalf("truncate(%q, %d) = %q", s, n, got)
		}
	})
}

func listEvents(t *testing.T, env *framework.Env, ns string) []eventsv1.Event {
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
	env := sharedEnv(t)
	ns := env.NewNamespace(t)
	r := New(env.Client, env.Scheme, "spark-operator", Options{})
	const n = 300
	for i := range n {
		r.Eventf(configMap(ns, "app"), nil, corev1.EventTypeNormal, "SparkApplicationSubmitted", "Submit", "event %d of %s", i, "app")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Start(ctx) }()
	framework.WaitFor(t, 30*time.Second, "all events written", func() (bool, string) {
		got := len(listEvents(t, env, ns))
		return got == n, fmt.Sprintf("%d events", got)
	})
	ev := listEvents(t, env, ns)[0]
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
	env := sharedEnv(t)
	ns := env.NewNamespace(t)
	r := New(env.Client, env.Scheme, "spark-operator", Options{QueueSize: 10})
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
	if got := len(listEvents(t, env, ns)); got != 10 {
		t.Errorf("%d events written by the flush, want 10", got)
	}

	r2 := New(env.Client, env.Scheme, "spark-operator", Options{Attempts: 5, Backoff: time.Second})
	r2.Eventf(configMap("no-such-namespace", "app"), nil, corev1.EventTypeNormal, "R", "A", "lost")
	start = time.Now()
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_ = r2.Start(ctx2)
	if r2.Dropped() != 1 || time.Since(start) > 900*time.Millisecond {
		t.Errorf("event into a missing namespace: dropped %d after %v, want 1 without retries", r2.Dropped(), time.Since(start))
	}
}
