package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// record is what the benchmark saw of one application; times are when the client sent the create
// request, or when an informer received the event.
type record struct {
	key      string
	measured bool // false for applications the benchmark did not create as part of the run (warm-up)

	sent, acked time.Time // create request sent, response received
	podAdded    time.Time // driver pod first seen
	submitted   time.Time // SUBMITTED (or a later state) first seen
	running     time.Time // RUNNING (or a later state) first seen
	finished    time.Time // COMPLETED or FAILED first seen

	state        v1beta2.ApplicationStateType // last state seen
	transitions  int
	podUIDs      []types.UID // every driver pod seen
	execAttempts int32       // largest status.executionAttempts seen
}

// observer records the life of every application from informers on SparkApplications and driver pods.
type observer struct {
	mu          sync.Mutex
	apps        map[string]*record
	transitions []time.Time // every state change of a measured application, in order of receipt
	done        int         // measured applications in COMPLETED or FAILED
	podsSeen    int         // measured applications whose driver pod was seen
	submitted   int
	running     int
	measured    int
	// expectedTotal is the number of applications of the run; allDone is closed once that many
	// measured applications finished.
	expectedTotal int
	// untilPods makes allDone wait for the driver pods rather than for the applications to finish
	// (-raw, where nothing moves the applications on).
	untilPods bool
	allDone   chan struct{}
	closed    bool
}

func newObserver() *observer {
	return &observer{apps: map[string]*record{}, allDone: make(chan struct{})}
}

func appKey(namespace, name string) string { return namespace + "/" + name }

// expect registers an application the run is about to create; sent is the time of the request.
func (o *observer) expect(namespace, name string, sent time.Time) *record {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.get(appKey(namespace, name))
	if !r.measured {
		r.measured = true
		o.measured++
	}
	r.sent = sent
	return r
}

// expectTotal sets how many applications the run creates.
func (o *observer) expectTotal(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expectedTotal = n
	o.checkDone()
}

func (o *observer) acked(r *record, t time.Time) {
	o.mu.Lock()
	r.acked = t
	o.mu.Unlock()
}

// get returns the record of key, creating it (unmeasured) when the informer is first.
func (o *observer) get(key string) *record {
	r := o.apps[key]
	if r == nil {
		r = &record{key: key}
		o.apps[key] = r
	}
	return r
}

// isTerminal says whether an application state is final for a benchmark application (which never
// retries: restartPolicy Never).
func isTerminal(s v1beta2.ApplicationStateType) bool {
	return s == v1beta2.ApplicationStateCompleted || s == v1beta2.ApplicationStateFailed
}

func (o *observer) onApp(obj any) {
	now := time.Now()
	app, ok := obj.(*v1beta2.SparkApplication)
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.get(appKey(app.Namespace, app.Name))
	r.execAttempts = max(r.execAttempts, app.Status.ExecutionAttempts)
	state := app.Status.AppState.State
	if state == r.state {
		return
	}
	r.state = state
	r.transitions++
	if r.measured {
		o.transitions = append(o.transitions, now)
	}
	// A state implies the earlier ones, also when an informer relist skipped them.
	switch state {
	case v1beta2.ApplicationStateCompleted, v1beta2.ApplicationStateFailed,
		v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateFailing:
		o.markRunning(r, now)
		if isTerminal(state) && r.finished.IsZero() {
			r.finished = now
			if r.measured {
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

func (o *observer) markSubmitted(r *record, now time.Time) {
	if r.submitted.IsZero() {
		r.submitted = now
		if r.measured {
			o.submitted++
		}
	}
}

func (o *observer) markRunning(r *record, now time.Time) {
	o.markSubmitted(r, now)
	if r.running.IsZero() {
		r.running = now
		if r.measured {
			o.running++
		}
	}
}

// checkDone closes allDone once every measured application finished (o.mu held).
func (o *observer) checkDone() {
	count := o.done
	if o.untilPods {
		count = o.podsSeen
	}
	if !o.closed && o.expectedTotal > 0 && count >= o.expectedTotal {
		o.closed = true
		close(o.allDone)
	}
}

func (o *observer) onPod(obj any) {
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
	r := o.get(appKey(pod.Namespace, app))
	for _, uid := range r.podUIDs {
		if uid == pod.UID {
			return
		}
	}
	r.podUIDs = append(r.podUIDs, pod.UID)
	if r.podAdded.IsZero() {
		r.podAdded = now
		if r.measured {
			o.podsSeen++
			o.checkDone()
		}
	}
}

// progress is a snapshot of the counters.
type progress struct {
	measured, pods, submitted, running, done int
}

func (o *observer) progress() progress {
	o.mu.Lock()
	defer o.mu.Unlock()
	return progress{o.measured, o.podsSeen, o.submitted, o.running, o.done}
}

// start runs informers on SparkApplications and driver pods in all namespaces and waits until they
// have synced. They stop with ctx.
func (o *observer) start(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface) error {
	rc, err := appRESTClient(cfg)
	if err != nil {
		return err
	}
	lw := cache.NewListWatchFromClient(rc, "sparkapplications", metav1.NamespaceAll, fields.Everything())
	appInf := cache.NewSharedIndexInformer(lw, &v1beta2.SparkApplication{}, 0, cache.Indexers{})
	if err := appInf.SetTransform(stripManagedFields); err != nil {
		return err
	}
	if _, err := appInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    o.onApp,
		UpdateFunc: func(_, n any) { o.onApp(n) },
	}); err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.LabelSelector = v1beta2.LabelSparkRole + "=" + v1beta2.SparkRoleDriver
	}))
	podInf := factory.Core().V1().Pods().Informer()
	if err := podInf.SetTransform(stripManagedFields); err != nil {
		return err
	}
	if _, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    o.onPod,
		UpdateFunc: func(_, n any) { o.onPod(n) },
	}); err != nil {
		return err
	}
	go appInf.Run(ctx.Done())
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), appInf.HasSynced, podInf.HasSynced) {
		return fmt.Errorf("informers did not sync: %w", ctx.Err())
	}
	return nil
}

func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
