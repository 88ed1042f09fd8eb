package operator

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/sparkop/spark-operator/hack/bench/scraper"
)

// TreeSampler samples the summed RSS of every replica's process tree (the replica and the processes
// it started: Kubeflow's spark-submit JVMs) and keeps the largest sum.
type TreeSampler struct {
	mu     sync.Mutex
	peak   int64
	cancel context.CancelFunc
	done   chan struct{}
}

// StartTreeSampler samples the set's process trees every interval until Stop.
func StartTreeSampler(ctx context.Context, set *Set, interval time.Duration) *TreeSampler {
	ctx, cancel := context.WithCancel(ctx)
	t := &TreeSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		wait.UntilWithContext(ctx, func(context.Context) {
			var sum int64
			for _, r := range set.Replicas {
				if !r.Exited() {
					sum += scraper.TreeRSS(r.PID())
				}
			}
			t.mu.Lock()
			t.peak = max(t.peak, sum)
			t.mu.Unlock()
		}, interval)
	}()
	return t
}

// Stop ends the sampling and returns the largest summed RSS seen, in bytes.
func (t *TreeSampler) Stop() int64 {
	t.cancel()
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peak
}
