package main

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/recorder"
)

// stateAt is a state of an application and when the run first saw it.
type stateAt struct {
	state v1beta2.ApplicationStateType
	at    time.Time
}

// appTrack is what the run knows of one application beyond the recorder's record.
type appTrack struct {
	kind    kind
	created bool // the create request succeeded
	history []stateAt
	// deleted: the run deleted it (kindDelete); gone: the informer saw it go.
	deleted, gone bool
	// disruptions counts the run's faults that hit its driver (pod deleted, node deleted).
	disruptions int32
	// acted: the suspend or delete of its kind was started; resumed: the resume was sent.
	acted, resumed bool
	// livePods are its driver pods that are neither finished nor being deleted.
	livePods map[types.UID]bool
	// doubleDriver is set when a driver pod appeared while another one was live.
	doubleDriver bool
	node         map[types.UID]string // driver pod -> node
}

// tracker keeps, per application, its state history, its live driver pods and what the run did
// to it, from the recorder's hooks (called with the recorder's lock held: no blocking here).
type tracker struct {
	mu   sync.Mutex
	apps map[string]*appTrack
	// act is called (in its own goroutine) when an application reaches a state its kind acts on.
	act func(key string, k kind, state v1beta2.ApplicationStateType)
}

func newTracker() *tracker { return &tracker{apps: map[string]*appTrack{}} }

// get returns the track of key, creating it (t.mu held).
func (t *tracker) get(key string) *appTrack {
	a := t.apps[key]
	if a == nil {
		a = &appTrack{kind: kindComplete, livePods: map[types.UID]bool{}, node: map[types.UID]string{}}
		t.apps[key] = a
	}
	return a
}

func (t *tracker) register(key string, k kind) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(key).kind = k
}

func (t *tracker) markCreated(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(key).created = true
}

func (t *tracker) onApp(app *v1beta2.SparkApplication) {
	now := time.Now()
	key := recorder.Key(app.Namespace, app.Name)
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.get(key)
	s := app.Status.AppState.State
	if n := len(a.history); n == 0 || a.history[n-1].state != s {
		a.history = append(a.history, stateAt{s, now})
		if t.act != nil {
			go t.act(key, a.kind, s)
		}
	}
}

func (t *tracker) onAppGone(app *v1beta2.SparkApplication) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(recorder.Key(app.Namespace, app.Name)).gone = true
}

// podLive says whether a driver pod still counts as the application's driver.
func podLive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func (t *tracker) onPod(p *corev1.Pod) {
	app := p.Labels[v1beta2.LabelAppName]
	if app == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.get(recorder.Key(p.Namespace, app))
	if p.Spec.NodeName != "" {
		a.node[p.UID] = p.Spec.NodeName
	}
	if !podLive(p) {
		delete(a.livePods, p.UID)
		return
	}
	if !a.livePods[p.UID] && len(a.livePods) > 0 {
		a.doubleDriver = true
	}
	a.livePods[p.UID] = true
}

func (t *tracker) onPodGone(p *corev1.Pod) {
	app := p.Labels[v1beta2.LabelAppName]
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.get(recorder.Key(p.Namespace, app)).livePods, p.UID)
}

// disrupt counts a fault that hit the driver of key.
func (t *tracker) disrupt(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(key).disruptions++
}

// onNode are the applications with a live driver pod on node.
func (t *tracker) onNode(node string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var keys []string
	for key, a := range t.apps {
		for uid := range a.livePods {
			if a.node[uid] == node {
				keys = append(keys, key)
				break
			}
		}
	}
	return keys
}

// changedAfter is the first time after since at which one of keys changed state, or zero.
func (t *tracker) changedAfter(since time.Time, keys ...string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first time.Time
	for _, key := range keys {
		a := t.apps[key]
		if a == nil {
			continue
		}
		for _, h := range a.history {
			if h.at.After(since) && (first.IsZero() || h.at.Before(first)) {
				first = h.at
				break
			}
		}
	}
	return first
}

// reached is when key first reached one of the states after since, or zero.
func (t *tracker) reached(key string, since time.Time, states ...v1beta2.ApplicationStateType) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.apps[key]
	if a == nil {
		return time.Time{}
	}
	for _, h := range a.history {
		if !h.at.Before(since) {
			for _, s := range states {
				if h.state == s {
					return h.at
				}
			}
		}
	}
	return time.Time{}
}

// snapshot is a copy of every track.
func (t *tracker) snapshot() map[string]appTrack {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[string]appTrack, len(t.apps))
	for k, a := range t.apps {
		c := *a
		c.history = append([]stateAt(nil), a.history...)
		m[k] = c
	}
	return m
}
