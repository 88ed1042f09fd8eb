package eventrecorder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
)

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
