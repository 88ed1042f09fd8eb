// Package recorder records, from informers on SparkApplications and driver pods, when each
// application of a benchmark reached each state and which driver pods it had.
package recorder

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/load"
)

// Record is what the benchmark saw of one application; times are when the client sent the create
// request, or when an informer received the event.
type Record struct {
	Key      string
	Measured bool // false for applications the benchmark did not create as part of the run (warm-up)

	Sent, Acked time.Time // create request sent, response received
	PodAdded    time.Time // driver pod first seen
	Submitted   time.Time // SUBMITTED (or a later state) first seen
	Running     time.Time // RUNNING (or a later state) first seen
	Finished    time.Time // COMPLETED or FAILED first seen

	State        v1beta2.ApplicationStateType // last state seen
	Transitions  int
	PodUIDs      []types.UID // every driver pod seen
	ExecAttempts int32       // largest status.executionAttempts seen
}

// Recorder records the life of every application from informers on SparkApplications and driver
// pods.
type Recorder struct {
	mu          sync.Mutex
	apps        map[string]*Record
	transitions []time.Time // every state change of a measured application, in order of receipt
	done        int         // measured applications in COMPLETED or FAILED
	podsSeen    int         // measured applications whose driver pod was seen
	submitted   int
	running     int
	measured    int
	// expectedTotal is the number of applications of the run; allDone is closed once that many
	// measured applications finished.
	expectedTotal int
	// UntilPods makes AllDone wait for the driver pods rather than for the applications to finish
	// (hack/bench -raw, where nothing moves the applications on). Set it before Start.
	UntilPods bool
	// OnApp and OnPod, when set before Start, are called (with the Recorder's lock held) for every
	// application and driver pod event after it was recorded, for a caller's own bookkeeping.
	OnApp func(*v1beta2.SparkApplication)
	OnPod func(*corev1.Pod)
	// OnAppGone and OnPodGone, when set before Start, are called (without the lock) when an
	// application or driver pod is deleted (a tombstone's last known state).
	OnAppGone func(*v1beta2.SparkApplication)
	OnPodGone func(*corev1.Pod)
	// NewInformer, when set before Start, makes the informers (default: client-go's
	// cache.NewSharedIndexInformer), e.g. one that retries a refused watch sooner while the API
	// server restarts.
	NewInformer func(cache.ListerWatcher, runtime.Object, time.Duration, cache.Indexers) cache.SharedIndexInformer
	allDone     chan struct{}
	closed      bool
}

// New is a Recorder that has seen nothing yet.
func New() *Recorder {
	return &Recorder{apps: map[string]*Record{}, allDone: make(chan struct{})}
}

// Key is the key of an application's record, "namespace/name".
func Key(namespace, name string) string { return namespace + "/" + name }

// Expect registers an application the run is about to create; sent is the time of the request.
func (o *Recorder) Expect(namespace, name string, sent time.Time) *Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.get(Key(namespace, name))
	if !r.Measured {
		r.Measured = true
		o.measured++
	}
	r.Sent = sent
	return r
}

// ExpectTotal sets how many applications the run creates.
func (o *Recorder) ExpectTotal(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expectedTotal = n
	o.checkDone()
}

// Acked records when the creation of r was acknowledged.
func (o *Recorder) Acked(r *Record, t time.Time) {
	o.mu.Lock()
	r.Acked = t
	o.mu.Unlock()
}

// get returns the record of key, creating it (unmeasured) when the informer is first.
func (o *Recorder) get(key string) *Record {
	r := o.apps[key]
	if r == nil {
		r = &Record{Key: key}
		o.apps[key] = r
	}
	return r
}

// IsTerminal says whether an application state is final for a benchmark application (which never
// retries: restartPolicy Never).
func IsTerminal(s v1beta2.ApplicationStateType) bool {
	return s == v1beta2.ApplicationStateCompleted || s == v1beta2.ApplicationStateFailed
}

func (o *Recorder) onApp(obj any) {
	now := time.Now()
	app, ok := obj.(*v1beta2.SparkApplication)
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.OnApp != nil {
		defer o.OnApp(app)
	}
	r := o.get(Key(app.Namespace, app.Name))
	r.ExecAttempts = max(r.ExecAttempts, app.Status.ExecutionAttempts)
	state := app.Status.AppState.State
	if state == r.State {
		return
	}
	r.State = state
	r.Transitions++
	if r.Measured {
		o.transitions = append(o.transitions, now)
	}
	// A state implies the earlier ones, also when an informer relist skipped them.
	switch state {
	case v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed,
		v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateFailing:
		o.markRunning(r, now)
		if IsTerminal(state) && r.Finished.IsZero() {
			r.Finished = now
			if r.Measured {
				o.done++
				o.checkDone()
			}
		}
	case v1beta2.ApplicationStateRunning:
		o.markRunning(r, now)
	case v1beta2.ApplicationStateSubmitted:
		o.markSubmitted(r, now)
	}
}

func (o *Recorder) markSubmitted(r *Record, now time.Time) {
	if r.Submitted.IsZero() {
		r.Submitted = now
		if r.Measured {
			o.submitted++
		}
	}
}

func (o *Recorder) markRunning(r *Record, now time.Time) {
	o.markSubmitted(r, now)
	if r.Running.IsZero() {
		r.Running = now
		if r.Measured {
			o.running++
		}
	}
}

// checkDone closes allDone once every measured application finished (o.mu held).
func (o *Recorder) checkDone() {
	count := o.done
	if o.UntilPods {
		count = o.podsSeen
	}
	if !o.closed && o.expectedTotal > 0 && count >= o.expectedTotal {
		o.closed = true
		close(o.allDone)
	}
}

func (o *Recorder) onPod(obj any) {
	now := time.Now()
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	app := pod.Labels[v1beta2.LabelAppName]
	if app == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.OnPod != nil {
		defer o.OnPod(pod)
	}
	r := o.get(Key(pod.Namespace, app))
	for _, uid := range r.PodUIDs {
		if uid == pod.UID {
			return
		}
	}
	r.PodUIDs = append(r.PodUIDs, pod.UID)
	if r.PodAdded.IsZero() {
		r.PodAdded = now
		if r.Measured {
			o.podsSeen++
			o.checkDone()
		}
	}
}

// Progress is a snapshot of the counters.
type Progress struct {
	Measured, Pods, Submitted, Running, Done int
}

// Progress counts the measured applications by how far they got.
func (o *Recorder) Progress() Progress {
	o.mu.Lock()
	defer o.mu.Unlock()
	return Progress{o.measured, o.podsSeen, o.submitted, o.running, o.done}
}

// Start runs informers on SparkApplications and driver pods in all namespaces and waits until they
// have synced. They stop with ctx.
func (o *Recorder) Start(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface) error {
	rc, err := load.AppRESTClient(cfg)
	if err != nil {
		return err
	}
	newInformer := o.NewInformer
	if newInformer == nil {
		newInformer = cache.NewSharedIndexInformer
	}
	// inform makes an informer of lw's objects (like example) that drops managed fields and calls
	// onChange on every add and update, onDelete with the last state of a deleted object.
	inform := func(lw cache.ListerWatcher, example runtime.Object, onChange, onDelete func(any)) (cache.SharedIndexInformer, error) {
		inf := newInformer(lw, example, 0, cache.Indexers{})
		if err := inf.SetTransform(stripManagedFields); err != nil {
			return nil, err
		}
		_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    onChange,
			UpdateFunc: func(_, n any) { onChange(n) },
			DeleteFunc: func(obj any) { onDelete(tombstone(obj)) },
		})
		return inf, err
	}
	lw := cache.NewListWatchFromClient(rc, "sparkapplications", metav1.NamespaceAll, fields.Everything())
	appInf, err := inform(lw, &v1beta2.SparkApplication{}, o.onApp, func(obj any) {
		// An application deleted (hack/bench -ttl) right after it finished: its last state may come
		// only with the deletion, when the watch was re-established in between.
		o.onApp(obj)
		if a, ok := obj.(*v1beta2.SparkApplication); ok && o.OnAppGone != nil {
			o.OnAppGone(a)
		}
	})
	if err != nil {
		return err
	}
	podLW := cache.NewFilteredListWatchFromClient(cs.CoreV1().RESTClient(), "pods", metav1.NamespaceAll, func(lo *metav1.ListOptions) {
		lo.LabelSelector = v1beta2.LabelSparkRole + "=" + v1beta2.SparkRoleDriver
	})
	podInf, err := inform(podLW, &corev1.Pod{}, o.onPod, func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok && o.OnPodGone != nil {
			o.OnPodGone(p)
		}
	})
	if err != nil {
		return err
	}
	go appInf.Run(ctx.Done())
	go podInf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), appInf.HasSynced, podInf.HasSynced) {
		return fmt.Errorf("informers did not sync: %w", ctx.Err())
	}
	return nil
}

// tombstone is the object of a delete event, also when the informer missed the deletion.
func tombstone(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// AllDone is closed once ExpectTotal's number of measured applications finished (or, with
// UntilPods, got their driver pod).
func (o *Recorder) AllDone() <-chan struct{} { return o.allDone }

// Records is a copy of every record, by Key.
func (o *Recorder) Records() map[string]Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := make(map[string]Record, len(o.apps))
	for k, r := range o.apps {
		c := *r
		c.PodUIDs = slices.Clone(r.PodUIDs)
		m[k] = c
	}
	return m
}

// Get is a copy of the record of key, if there is one.
func (o *Recorder) Get(key string) (Record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.apps[key]
	if !ok {
		return Record{}, false
	}
	c := *r
	c.PodUIDs = slices.Clone(r.PodUIDs)
	return c, true
}

// Transitions are the times of every state change of a measured application, in order of receipt.
func (o *Recorder) Transitions() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.transitions)
}
