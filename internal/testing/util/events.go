package util

import (
	"context"
	"fmt"
	"slices"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// EventReasons lists the reasons of the events (events.k8s.io/v1) recorded about SparkApplication
// ns/name, oldest first.
func EventReasons(t testing.TB, c client.Client, ns, name string) []string {
	t.Helper()
	return KindEventReasons(t, c, ns, "SparkApplication", name)
}

// KindEventReasons lists the reasons of the events recorded about the object of kind kind
// (SparkConnect, say) ns/name, oldest first.
func KindEventReasons(t testing.TB, c client.Client, ns, kind, name string) []string {
	t.Helper()
	var out []string
	for _, e := range kindEvents(t, c, ns, kind, name) {
		out = append(out, e.Reason)
	}
	return out
}

// kindEvents lists the events recorded about the object of kind kind ns/name, oldest first.
func kindEvents(t testing.TB, c client.Client, ns, kind, name string) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := c.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list.Items, func(a, b eventsv1.Event) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// WaitForEvents waits until events with all of reasons were recorded about SparkApplication
// ns/name (events are written asynchronously, after the status).
func WaitForEvents(t testing.TB, c client.Client, ns, name string, reasons ...string) {
	t.Helper()
	WaitForKindEvents(t, c, ns, "SparkApplication", name, reasons...)
}

// WaitForKindEvents waits until events with all of reasons were recorded about the object of kind
// kind ns/name.
func WaitForKindEvents(t testing.TB, c client.Client, ns, kind, name string, reasons ...string) {
	t.Helper()
	WaitFor(t, fmt.Sprintf("events %v", reasons), func() (bool, string) {
		got := KindEventReasons(t, c, ns, kind, name)
		for _, r := range reasons {
			if !slices.Contains(got, r) {
				return false, describe(got)
			}
		}
		return true, ""
	})
}

// EventNotes lists the notes (messages) of the events of reason recorded about SparkApplication
// ns/name, oldest first.
func EventNotes(t testing.TB, c client.Client, ns, name, reason string) []string {
	t.Helper()
	var out []string
	for _, e := range kindEvents(t, c, ns, "SparkApplication", name) {
		if e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}
