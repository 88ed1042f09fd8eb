package load

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Options pace a load.
type Options struct {
	N       int     // creations
	Rate    float64 // per second; 0: all at once, as fast as the workers go
	Workers int     // concurrent creations
}

// Result is what the creating client saw.
type Result struct {
	Created     int
	Retries     int
	First, Last time.Time // first and last creation started
	Err         error
}

// Create creates item i; sent is when its first request is sent. It returns the number of retries
// it needed and an error when it finally failed.
type Create func(ctx context.Context, i int, sent time.Time) (retries int, err error)

// Run calls create for i in [0, o.N) from o.Workers concurrent workers: at o.Rate per second on a
// fixed schedule (creation i is due at start + i/rate; a schedule that fell behind catches up at
// once), or all at once. onCreated is called with the running count after each creation. The first
// error stops the load and is the Result's Err.
func Run(ctx context.Context, o Options, create Create, onCreated func(int)) Result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int, o.Workers)
	go func() {
		defer close(jobs)
		start := time.Now()
		for i := range o.N {
			if o.Rate > 0 {
				due := start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		mu      sync.Mutex
		res     Result
		created atomic.Int64
		retries atomic.Int64
		wg      sync.WaitGroup
	)
	for range o.Workers {
		wg.Go(func() {
			for i := range jobs {
				sent := time.Now()
				mu.Lock()
				if res.First.IsZero() || sent.Before(res.First) {
					res.First = sent
				}
				if sent.After(res.Last) {
					res.Last = sent
				}
				mu.Unlock()
				n, err := create(ctx, i, sent)
				retries.Add(int64(n))
				if err != nil {
					mu.Lock()
					if res.Err == nil {
						res.Err = err
					}
					mu.Unlock()
					cancel()
					return
				}
				onCreated(int(created.Add(1)))
			}
		})
	}
	wg.Wait()
	res.Created, res.Retries = int(created.Load()), int(retries.Load())
	if res.Err == nil && res.Created < o.N {
		res.Err = fmt.Errorf("created only %d of %d: %w", res.Created, o.N, context.Cause(ctx))
	}
	return res
}

// Retry calls fn until it succeeds, returns an error that done accepts (e.g. AlreadyExists), ctx
// ends, or attempts calls were made, sleeping 200 ms more after each failure. It returns the number
// of retries and the last error (nil when done accepted it).
func Retry(ctx context.Context, attempts int, done func(error) bool, fn func(context.Context) error) (int, error) {
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil || done(err) {
			return attempt, nil
		}
		if ctx.Err() != nil || attempt == attempts-1 {
			return attempt, err
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
}
