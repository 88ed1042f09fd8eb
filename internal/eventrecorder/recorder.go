// Package eventrecorder writes the operator's Kubernetes Events (events.k8s.io/v1) with bounded
// memory and a fixed number of goroutines.
//
// Why not client-go's tools/events broadcaster (what controller-runtime's GetEventRecorder returns):
// it starts one goroutine per event and keeps every event it wrote in an unbounded map for 6-12
// minutes, to fold repeats into an EventSeries. The operator's events are almost never repeats (one
// SparkApplication emits about ten distinct ones over its life), so that map only grows with the
// submission rate: at 1,000 applications it held 22% of the operator's heap, and at 10,000 it is the
// largest single cost of the memory target in docs/benchmarks.md. This recorder sends each event once,
// as that broadcaster would (same name, fields and reporting controller/instance), through a bounded
// queue drained by a few workers, and drops events it cannot queue instead of growing. Events are
// best-effort in Kubernetes; the application's status, never an event, is the source of truth.
package eventrecorder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Defaults for Options.
const (
	// DefaultQueueSize is how many events may wait to be written before new ones are dropped: about
	// 40 s of events at 100 submissions per second.
	DefaultQueueSize = 4096
	// DefaultWorkers is how many events are written to the API server at once.
	DefaultWorkers = 4
	// DefaultAttempts is how many times a write is tried when the API server answers with a
	// retriable error (timeouts, 429, 5xx).
	DefaultAttempts = 3
	// MaxNoteBytes is the API server's limit on Event.note (events.k8s.io/v1 validation).
	MaxNoteBytes = 1024
	// FlushTimeout bounds how long Start keeps writing queued events after its context ends.
	FlushTimeout = 2 * time.Second
	// RequestTimeout bounds one write to the API server.
	RequestTimeout = 10 * time.Second
)

// Options tune a Recorder; zero values take the defaults above.
type Options struct {
	QueueSize int
	Workers   int
	Attempts  int
	// Backoff is the wait before the second attempt, doubled for each further one (default 200 ms).
	Backoff time.Duration
	// Instance is Event.reportingInstance (default "<controller>-<hostname>", as client-go).
	Instance string
	Log      logr.Logger
	Clock    clock.Clock
}

// Recorder implements client-go's events.EventRecorder. Eventf never blocks: it builds the event and
// queues it; Start (a manager.Runnable that runs on every replica, leader or not) writes the queue.
// Events queued before Start are written once it runs.
type Recorder struct {
	client     client.Client
	scheme     *runtime.Scheme
	controller string
	opts       Options
	queue      chan *eventsv1.Event
	dropped    atomic.Int64
	lastNano   atomic.Int64
}

var (
	_ events.EventRecorder           = (*Recorder)(nil)
	_ manager.Runnable               = (*Recorder)(nil)
	_ manager.LeaderElectionRunnable = (*Recorder)(nil)
)

// New returns a Recorder that writes with c, resolves object kinds with scheme and reports as
// controller (Event.reportingController, e.g. "spark-operator"). Add it to a manager, or call Start.
func New(c client.Client, scheme *runtime.Scheme, controller string, opts Options) *Recorder {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.Instance == "" {
		hostname, _ := os.Hostname()
		opts.Instance = controller + "-" + hostname
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Recorder{client: c, scheme: scheme, controller: controller, opts: opts, queue: make(chan *eventsv1.Event, opts.QueueSize)}
}

// ForManager returns a Recorder using mgr's client, scheme and logger, added to mgr so that it runs
// with it. The error is mgr.Add's.
func ForManager(mgr manager.Manager, controller string) (*Recorder, error) {
	r := New(mgr.GetClient(), mgr.GetScheme(), controller, Options{Log: mgr.GetLogger().WithName("events")})
	if err := mgr.Add(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Eventf queues an event about regarding (and, when not nil, related). eventtype is "Normal" or
// "Warning"; reason is a short UpperCamelCase word, action what was done ("Submit", "Delete"); note is
// a format for args, cut to MaxNoteBytes. An object without a kind in the scheme, an unknown type or a
// full queue drop the event with a log line.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	ev, err := r.build(regarding, related, eventtype, reason, action, fmt.Sprintf(note, args...))
	if err != nil {
		r.opts.Log.Error(err, "Not recording event", "reason", reason)
		return
	}
	r.opts.Log.V(1).Info("Event", "object", klogRef(ev.Regarding), "type", eventtype, "reason", reason, "note", ev.Note)
	select {
	case r.queue <- ev:
	default:
		r.drop(ev, errors.New("event queue full"))
	}
}

// Dropped returns how many events were not written (full queue, or the API server refused them).
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// NeedLeaderElection is false: a standby replica's webhook and startup events are written too.
func (r *Recorder) NeedLeaderElection() bool { return false }

// Start writes queued events until ctx ends, then for at most FlushTimeout more; what is still
// queued then is dropped. It returns nil.
func (r *Recorder) Start(ctx context.Context) error {
	// Writes outlive ctx so that ending it does not fail the requests in flight.
	writeCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case ev := <-r.queue:
					r.write(writeCtx, ctx.Done(), ev)
				case <-ctx.Done():
				}
			}
		})
	}
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(writeCtx, FlushTimeout)
	defer cancel()
	for {
		select {
		case ev := <-r.queue:
			if flushCtx.Err() != nil {
				r.drop(ev, flushCtx.Err())
			} else {
				r.write(flushCtx, flushCtx.Done(), ev)
			}
		default:
			return nil
		}
	}
}

// build makes the Event as client-go's tools/events recorder does: name "<regarding name>.<hex
// nanoseconds>", the regarding object's namespace (or "default"), eventTime now, no series.
func (r *Recorder) build(regarding, related runtime.Object, eventtype, reason, action, note string) (*eventsv1.Event, error) {
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		return nil, fmt.Errorf("event type %q is neither Normal nor Warning", eventtype)
	}
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		return nil, fmt.Errorf("referencing the regarding object: %w", err)
	}
	var relatedRef *corev1.ObjectReference
	if related != nil {
		if relatedRef, err = reference.GetReference(r.scheme, related); err != nil {
			relatedRef = nil // as client-go: the event is still worth having
		}
	}
	now := r.opts.Clock.Now()
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	if len(note) > MaxNoteBytes {
		note = truncate(note, MaxNoteBytes)
	}
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, r.uniqueNano(now)), Namespace: namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: r.controller,
		ReportingInstance:   r.opts.Instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             relatedRef,
		Note:                note,
		Type:                eventtype,
	}, nil
}

// uniqueNano returns now in Unix nanoseconds, bumped past the last value handed out so that two
// events about one object in the same clock tick get different names (client-go's would collide and
// lose one to AlreadyExists).
func (r *Recorder) uniqueNano(now time.Time) int64 {
	n := now.UnixNano()
	for {
		last := r.lastNano.Load()
		if n <= last {
			n = last + 1
		}
		if r.lastNano.CompareAndSwap(last, n) {
			return n
		}
	}
}

// write creates ev, retrying errors the API server may not repeat (each attempt bounded by
// RequestTimeout) until stop closes; other errors drop it.
func (r *Recorder) write(ctx context.Context, stop <-chan struct{}, ev *eventsv1.Event) {
	backoff := r.opts.Backoff
	for attempt := 1; ; attempt++ {
		reqCtx, cancel := context.WithTimeout(ctx, RequestTimeout)
		err := r.client.Create(reqCtx, ev.DeepCopy())
		cancel()
		if err == nil || apierrors.IsAlreadyExists(err) {
			return
		}
		if attempt >= r.opts.Attempts || !retriable(err) {
			r.drop(ev, err)
			return
		}
		select {
		case <-time.After(backoff):
		case <-stop:
			r.drop(ev, err)
			return
		}
		backoff *= 2
	}
}

// retriable is true for errors that say "later" rather than "never": timeouts, throttling, server
// errors and lost connections. Forbidden (no RBAC), Invalid and NotFound (a terminating namespace)
// are final.
func retriable(err error) bool {
	switch {
	case apierrors.IsForbidden(err), apierrors.IsInvalid(err), apierrors.IsNotFound(err), apierrors.IsBadRequest(err),
		apierrors.IsUnauthorized(err), apierrors.IsMethodNotSupported(err), errors.Is(err, context.Canceled):
		return false
	}
	return true
}

// drop counts a lost event and logs the first one and then every 100th, so that an unreachable API
// server does not flood the log.
func (r *Recorder) drop(ev *eventsv1.Event, err error) {
	n := r.dropped.Add(1)
	if n == 1 || n%100 == 0 {
		r.opts.Log.Error(err, "Dropped event", "object", klogRef(ev.Regarding), "reason", ev.Reason, "droppedTotal", n)
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 { // continuation byte: back up to the rune's start
		i--
	}
	return s[:i]
}

// klogRef renders ref as "namespace/name" for logs.
func klogRef(ref corev1.ObjectReference) string {
	if ref.Namespace == "" {
		return ref.Name
	}
	return ref.Namespace + "/" + ref.Name
}
