package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// failover is what happened around the leader kill.
type failover struct {
	threshold   int       // created applications at which the leader was killed
	killedAt    time.Time // SIGKILL sent
	killed      int       // replica index
	oldHolder   string
	newHolder   string
	newLeaderAt time.Time // the Lease first showed the new holder
	err         error
}

// run is one benchmark run: cluster, operator(s), load, measurements, report, teardown.
func run(ctx context.Context, o *options, command string) (err error) {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	benchDir := filepath.Join(root, ".cache", "bench")
	work := filepath.Join(benchDir, o.cluster)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	for _, old := range []string{"cluster.log", "operator-0.log", "operator-1.log"} {
		_ = os.Remove(filepath.Join(work, old))
	}
	started := time.Now()

	bin, build := o.operatorBinary, "none (raw)"
	if o.bare {
		build = "none (raw, bare API server)"
	}
	if !o.raw {
		if bin == "" {
			logf("building the operator (go build ./cmd/spark-operator)")
			if bin, err = buildOperator(ctx, root, benchDir, o.pprof); err != nil {
				return err
			}
		}
		build = operatorBuild(ctx, root, bin, o.operatorBinary == "")
		logf("operator under test: %s", build)
	}

	cl := &cluster{root: root, name: o.cluster, logPath: filepath.Join(work, "cluster.log")}
	if o.bare {
		logf("starting kwok cluster %s: etcd and kube-apiserver only (log: %s)", o.cluster, rel(root, cl.logPath))
	} else {
		logf("starting kwok cluster %s with %d nodes (log: %s)", o.cluster, o.nodes, rel(root, cl.logPath))
	}
	defer func() {
		if o.keepCluster {
			logf("the cluster keeps running: export KUBECONFIG=%s; stop it with hack/kwok-cluster.sh down %s", cl.kubeconfig(), o.cluster)
			return
		}
		logf("deleting kwok cluster %s", o.cluster)
		downCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if derr := cl.down(downCtx); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	if err := cl.up(ctx, o.kwokDefaults, o.bare, o.nodes); err != nil {
		return err
	}
	logf("cluster up in %.0fs", time.Since(started).Seconds())

	cfg, err := restConfig(cl.kubeconfig())
	if err != nil {
		return err
	}
	cs, err := coreClient(cfg)
	if err != nil {
		return err
	}
	rc, err := appRESTClient(cfg)
	if err != nil {
		return err
	}
	if err := cl.installCRDs(ctx, func(ctx context.Context) error {
		return rc.Get().Resource("sparkapplications").Param("limit", "1").Do(ctx).Error()
	}); err != nil {
		return err
	}
	namespaces := make([]string, o.namespaces)
	for i := range namespaces {
		namespaces[i] = fmt.Sprintf("bench-%d", i)
	}
	if err := createNamespaces(ctx, cs, namespaces); err != nil {
		return err
	}

	obsCtx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	obs := newObserver()
	if err := obs.start(obsCtx, cfg, cs); err != nil {
		return err
	}

	// The operator replicas (none with -raw).
	ops := &operators{cs: cs, identities: map[string]int{}}
	defer ops.stopAll()
	replicas := o.replicas
	if o.raw {
		replicas = 0
		obs.untilPods = true
	}
	flags := []string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}
	if o.replicas == 2 {
		flags = append(flags, "--leader-election", "--leader-election-lock-name="+leaseName, "--leader-election-lock-namespace="+leaseNamespace)
	}
	flags = append(flags, strings.Fields(o.operatorFlags)...)
	if !o.raw {
		logf("starting %d operator replica(s): %s%s controller start %s", o.replicas, envPrefix(o.operatorEnv), rel(root, bin), strings.Join(flags, " "))
	}
	for i := range replicas {
		pprofAddr := ""
		if o.pprof {
			if pprofAddr, err = freeLocalAddr(); err != nil {
				return err
			}
		}
		r, err := startReplica(i, bin, cl.kubeconfig(), filepath.Join(work, fmt.Sprintf("operator-%d.log", i)), flags, strings.Fields(o.operatorEnv), pprofAddr)
		if err != nil {
			return err
		}
		ops.replicas = append(ops.replicas, r)
		if o.replicas == 2 && i == 0 {
			// Replica 0 alone: the Lease's holder is its identity.
			id, err := ops.waitForLeader(ctx, time.Minute)
			if err != nil {
				return fmt.Errorf("replica 0 did not become leader: %w (log: %s)", err, r.logPath)
			}
			ops.identities[id] = 0
			logf("replica 0 (pid %d) is the leader: %s", r.pid(), id)
		}
	}
	if o.replicas == 2 {
		go ops.watchLeader(obsCtx)
	}

	// Warm-up: one application through to its driver pod, so that the operator's caches have synced
	// and the leader is working before the clock starts. It is not counted.
	if !o.raw {
		logf("warm-up: one application, waiting for its driver pod")
		if err := warmUp(ctx, rc, obs, ops, namespaces[0]); err != nil {
			return err
		}
	}
	baseCPU, _, _, err := ops.totals()
	if err != nil {
		return err
	}
	cpuStart := takeCPUSnapshot(cl)
	reqStart, reqErr := scrapeRequests(ctx, cs)

	var profiles *profiler
	if o.pprof {
		profiles = startProfiling(ctx, ops, cs, work)
	}

	// The load, with the leader kill.
	threshold, _ := o.killThreshold()
	var fo *failover
	var foDone sync.WaitGroup
	onCreated := func(k int) {
		if threshold == 0 || k != threshold {
			return
		}
		fo = &failover{threshold: threshold}
		foDone.Go(func() { killLeader(ctx, ops, fo) })
	}
	obs.expectTotal(o.n)
	rateText := "all at once"
	if o.rate > 0 {
		rateText = fmt.Sprintf("%g/s", o.rate)
	}
	logf("creating %d applications (%s) in %d namespace(s), drivers run %s", o.n, rateText, o.namespaces, o.runDuration)
	loadStart := time.Now()
	var ld loadResult
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		ld = runLoad(ctx, o, rc, cs, obs, namespaces, onCreated)
	}()

	waitErr := waitAll(ctx, o, obs, ops, loadStart, loadDone)
	<-loadDone
	foDone.Wait()
	if ld.err != nil {
		return ld.err
	}
	if waitErr == nil && o.settle > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(o.settle):
		}
	}
	if profiles != nil {
		profiles.stop()
	}
	cpu, peakRSS, rss, err := ops.totals()
	if err != nil {
		return err
	}
	cpuSplit := breakdown(cpuStart, takeCPUSnapshot(cl), cpu-baseCPU)
	if waitErr != nil && ctx.Err() != nil {
		return waitErr
	}

	// Final state from the API server: the authoritative attempts and driver pods.
	apps, err := listApps(ctx, rc)
	if err != nil {
		return err
	}
	pods, err := listDriverPods(ctx, cs)
	if err != nil {
		return err
	}
	s := summarize(o, obs, ld, apps, pods)
	s.cpu, s.baseCPU, s.peakRSS, s.rss, s.cpuSplit, s.build = cpu, baseCPU, peakRSS, rss, cpuSplit, build
	if fo != nil {
		s.failover = fo
		s.gap, s.firstAfterKill = failoverGap(obs, fo)
	}
	if profiles != nil {
		profiles.report(ctx, bin)
	}
	fmt.Println(s.line())
	logf("%s", s.cpuSplit)
	if reqErr == nil {
		if reqEnd, err := scrapeRequests(ctx, cs); err == nil {
			logf("API writes per application (every client: the operator, the benchmark, kube-controller-manager, kube-scheduler, kwok): %s", perApp(reqStart, reqEnd, o.n))
		}
	}
	if o.out != "" {
		path := o.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeTable(path, s.row(command)); err != nil {
			return err
		}
		logf("results table updated: %s", rel(root, path))
	}
	ops.stopAll()
	if waitErr != nil {
		return waitErr
	}
	if v := s.violations(); v != "" {
		return errors.New(v)
	}
	return nil
}

// warmUp creates one application (not measured) and waits for its driver pod.
func warmUp(ctx context.Context, rc *rest.RESTClient, obs *observer, ops *operators, ns string) error {
	if err := createApp(ctx, rc, benchApp(ns, "warmup", time.Second)); err != nil {
		return fmt.Errorf("creating the warm-up application: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		obs.mu.Lock()
		r := obs.apps[appKey(ns, "warmup")]
		seen := r != nil && !r.podAdded.IsZero()
		obs.mu.Unlock()
		if seen {
			return nil
		}
		if r := ops.anyExitedUnexpectedly(); r != nil {
			return r.exitError()
		}
		if time.Now().After(deadline) {
			return errors.New("the warm-up application got no driver pod within 2 minutes; see the operator log in .cache/bench/")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// loadResult is what the creating client saw.
type loadResult struct {
	created     int
	retries     int
	first, last time.Time // first and last create request sent
	err         error
}

// runLoad creates o.n applications from o.workers concurrent workers: at o.rate per second on a fixed
// schedule (creation i is due at start + i/rate; a schedule that fell behind catches up at once), or
// all at once. onCreated is called with the running count after each creation.
func runLoad(ctx context.Context, o *options, rc *rest.RESTClient, cs kubernetes.Interface, obs *observer, namespaces []string, onCreated func(int)) loadResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int, o.workers)
	go func() {
		defer close(jobs)
		start := time.Now()
		for i := range o.n {
			if o.rate > 0 {
				due := start.Add(time.Duration(float64(i) / o.rate * float64(time.Second)))
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
		res     loadResult
		created atomic.Int64
		retries atomic.Int64
		wg      sync.WaitGroup
	)
	for range o.workers {
		wg.Go(func() {
			for i := range jobs {
				ns := namespaces[i%len(namespaces)]
				app := benchApp(ns, fmt.Sprintf("app-%05d", i), o.runDuration)
				sent := time.Now()
				r := obs.expect(ns, app.Name, sent)
				mu.Lock()
				if res.first.IsZero() || sent.Before(res.first) {
					res.first = sent
				}
				if sent.After(res.last) {
					res.last = sent
				}
				mu.Unlock()
				var err error
				for attempt := 0; ; attempt++ {
					if o.raw {
						// Not retried: part of the set may exist already.
						err = createSet(ctx, rc, cs, app)
						break
					} else {
						err = createApp(ctx, rc, app)
					}
					if err == nil || apierrors.IsAlreadyExists(err) || ctx.Err() != nil || attempt == 5 {
						break
					}
					retries.Add(1)
					time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
				}
				if err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					if res.err == nil {
						res.err = fmt.Errorf("creating %s/%s: %w", ns, app.Name, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				obs.acked(r, time.Now())
				onCreated(int(created.Add(1)))
			}
		})
	}
	wg.Wait()
	res.created, res.retries = int(created.Load()), int(retries.Load())
	if res.err == nil && res.created < o.n {
		res.err = fmt.Errorf("created only %d of %d applications: %w", res.created, o.n, context.Cause(ctx))
	}
	return res
}

// killLeader kills the replica holding the Lease and waits for the other one to take over.
func killLeader(ctx context.Context, ops *operators, fo *failover) {
	holder, err := ops.holderNow(ctx)
	if err != nil || holder == "" {
		fo.err = fmt.Errorf("reading the leader: %v (holder %q)", err, holder)
		return
	}
	r := ops.replicaOf(holder)
	if r == nil {
		fo.err = fmt.Errorf("no replica for holder %q", holder)
		return
	}
	fo.oldHolder, fo.killed = holder, r.index
	fo.killedAt = time.Now()
	r.kill()
	logf("killed the leader, replica %d (pid %d, %s), after %d creations", r.index, r.pid(), holder, fo.threshold)
	h, err := ops.waitForLeader(ctx, 2*time.Minute, holder)
	if err != nil {
		fo.err = err
		return
	}
	fo.newHolder, fo.newLeaderAt = h, time.Now()
	// The Lease poller may have seen it first.
	ops.mu.Lock()
	for _, c := range ops.changes {
		if c.holder == h && c.at.After(fo.killedAt) && c.at.Before(fo.newLeaderAt) {
			fo.newLeaderAt = c.at
			break
		}
	}
	ops.mu.Unlock()
	logf("replica %d took over %.1fs after the kill", 1-r.index, fo.newLeaderAt.Sub(fo.killedAt).Seconds())
}

// failoverGap is the longest interval after the kill with no state transition observed, and the time
// from the kill to the first transition after it.
func failoverGap(obs *observer, fo *failover) (gap, first time.Duration) {
	if fo.killedAt.IsZero() {
		return 0, 0
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	prev := fo.killedAt
	for _, t := range obs.transitions {
		if !t.After(fo.killedAt) {
			continue
		}
		if first == 0 {
			first = t.Sub(fo.killedAt)
		}
		gap = max(gap, t.Sub(prev))
		prev = t
	}
	return gap, first
}

// waitAll waits until every application finished, printing progress every 5 s; it fails on timeout
// or when an operator replica exits on its own.
func waitAll(ctx context.Context, o *options, obs *observer, ops *operators, start time.Time, loadDone <-chan struct{}) error {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	timeout := time.After(o.timeout)
	printProgress := func() {
		p := obs.progress()
		cpu, _, rss, _ := ops.totals()
		logf("+%5.1fs created %d/%d, driver pods %d, submitted %d, running %d, finished %d | operator cpu %.1fs, rss %d MiB",
			time.Since(start).Seconds(), p.measured, o.n, p.pods, p.submitted, p.running, p.done, cpu.Seconds(), rss>>20)
	}
	for {
		select {
		case <-obs.allDone:
			printProgress()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			printProgress()
			return fmt.Errorf("not every application finished within %s (-timeout)", o.timeout)
		case <-tick.C:
			printProgress()
			if r := ops.anyExitedUnexpectedly(); r != nil {
				return r.exitError()
			}
		case <-loadDone:
			loadDone = nil
		}
	}
}

// freeLocalAddr returns a free 127.0.0.1 address.
func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// envPrefix is the operator's extra environment as a shell prefix ("" or "NAME=VALUE ... ").
func envPrefix(env string) string {
	if f := strings.Fields(env); len(f) > 0 {
		return strings.Join(f, " ") + " "
	}
	return ""
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// profiler fetches consecutive 10 s CPU profiles of every replica during the load, and a heap
// profile at the end (-pprof).
type profiler struct {
	dir    string
	ops    *operators
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	files  map[int][]string // replica -> CPU profiles
	// apiserver are CPU profiles of kube-apiserver over the same time.
	apiserver []string
	// peak is, per replica, the memory statistics (polled every 2 s) when the Go runtime held the most
	// memory from the OS.
	peak map[int]memStats
}

func startProfiling(ctx context.Context, ops *operators, cs kubernetes.Interface, dir string) *profiler {
	ctx, cancel := context.WithCancel(ctx)
	p := &profiler{dir: dir, ops: ops, cancel: cancel, files: map[int][]string{}, peak: map[int]memStats{}}
	for _, pattern := range []string{"cpu-*.pprof", "apiserver-cpu-*.pprof"} {
		old, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range old {
			_ = os.Remove(f)
		}
	}
	// The API server serves /debug/pprof too (--profiling defaults to true).
	p.wg.Go(func() {
		for seq := 0; ctx.Err() == nil; seq++ {
			b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "10").Timeout(30 * time.Second).DoRaw(ctx)
			if err != nil || ctx.Err() != nil {
				select { // e.g. profiling disabled: do not spin
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("apiserver-cpu-%03d.pprof", seq))
			if os.WriteFile(path, b, 0o644) == nil {
				p.mu.Lock()
				p.apiserver = append(p.apiserver, path)
				p.mu.Unlock()
			}
		}
	})
	for _, r := range ops.replicas {
		p.wg.Go(func() {
			for ctx.Err() == nil && !r.exited() {
				if m, err := readMemStats(ctx, r.pprofURL); err == nil {
					p.mu.Lock()
					if m.held() > p.peak[r.index].held() {
						p.peak[r.index] = m
					}
					p.mu.Unlock()
				}
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
			}
		})
		p.wg.Go(func() {
			for seq := 0; ctx.Err() == nil && !r.exited(); seq++ {
				path := filepath.Join(dir, fmt.Sprintf("cpu-%d-%03d.pprof", r.index, seq))
				// The last profile is cut short by stop(); a cut-short fetch leaves no file.
				if err := fetch(ctx, r.pprofURL+"/debug/pprof/profile?seconds=10", path); err == nil {
					p.mu.Lock()
					p.files[r.index] = append(p.files[r.index], path)
					p.mu.Unlock()
				}
			}
		})
	}
	return p
}

// stop ends the CPU profiling (the profile in progress is dropped) and takes the heap profiles.
func (p *profiler) stop() {
	p.cancel()
	p.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range p.ops.replicas {
		if !r.exited() {
			_ = fetch(ctx, r.pprofURL+"/debug/pprof/heap?gc=1", filepath.Join(p.dir, fmt.Sprintf("heap-%d.pprof", r.index)))
			_ = fetch(ctx, r.pprofURL+"/debug/vars", filepath.Join(p.dir, fmt.Sprintf("memstats-%d.json", r.index)))
		}
	}
}

// report prints the top functions of the merged CPU profile and of the heap profile of each replica,
// and of the API server's CPU profile.
func (p *profiler) report(ctx context.Context, bin string) {
	if len(p.apiserver) > 0 {
		for _, mode := range []string{"top", "cum"} {
			args := []string{"tool", "pprof", "-top", "-nodecount=60"}
			if mode == "cum" {
				args = append(args, "-cum")
			}
			out := filepath.Join(p.dir, "apiserver-cpu-"+mode+".txt")
			if b, err := exec.CommandContext(ctx, "go", append(args, p.apiserver...)...).CombinedOutput(); err == nil {
				_ = os.WriteFile(out, b, 0o644)
			}
		}
		logf("CPU profile of kube-apiserver (%d x 10 s): top functions in %s", len(p.apiserver), filepath.Join(p.dir, "apiserver-cpu-{top,cum}.txt"))
	}
	for _, r := range p.ops.replicas {
		files := p.files[r.index]
		if len(files) == 0 {
			continue
		}
		out := filepath.Join(p.dir, fmt.Sprintf("cpu-%d-top.txt", r.index))
		args := append([]string{"tool", "pprof", "-top", "-nodecount=40", bin}, files...)
		if b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err == nil {
			_ = os.WriteFile(out, b, 0o644)
			logf("CPU profile of replica %d (%d x 10 s): %s; top functions in %s", r.index, len(files), strings.Join(files, " "), out)
		}
		cum := filepath.Join(p.dir, fmt.Sprintf("cpu-%d-cum.txt", r.index))
		args = append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=60", bin}, files...)
		if b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err == nil {
			_ = os.WriteFile(cum, b, 0o644)
		}
		heap := filepath.Join(p.dir, fmt.Sprintf("heap-%d.pprof", r.index))
		if _, err := os.Stat(heap); err == nil {
			if b, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=30", "-sample_index=inuse_space", bin, heap).CombinedOutput(); err == nil {
				_ = os.WriteFile(filepath.Join(p.dir, fmt.Sprintf("heap-%d-top.txt", r.index)), b, 0o644)
				logf("heap profile of replica %d at the end: %s; top functions in %s", r.index, heap, filepath.Join(p.dir, fmt.Sprintf("heap-%d-top.txt", r.index)))
			}
		}
		if b, err := os.ReadFile(filepath.Join(p.dir, fmt.Sprintf("memstats-%d.json", r.index))); err == nil {
			if m, err := parseMemStats(b); err == nil {
				logf("Go memory of replica %d at the end: %s", r.index, m)
			}
		}
		if m, ok := p.peak[r.index]; ok {
			logf("Go memory of replica %d when the runtime held the most: %s", r.index, m)
		}
	}
}

func fetch(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// memStats is the part of runtime.MemStats, as expvar's /debug/vars serves it, that the run reports.
type memStats struct {
	HeapAlloc, HeapInuse, HeapIdle, HeapReleased, StackInuse, Sys, NextGC uint64
	NumGC                                                                 uint32
}

// held is what the Go runtime holds from the OS and has not released: the part of the process's
// RSS that is the runtime's (the rest is mostly the binary's code and data).
func (m memStats) held() uint64 { return m.Sys - m.HeapReleased }

func parseMemStats(vars []byte) (memStats, error) {
	var v struct {
		MemStats memStats `json:"memstats"`
	}
	err := json.Unmarshal(vars, &v)
	return v.MemStats, err
}

// readMemStats reads the runtime.MemStats of a replica from its /debug/vars.
func readMemStats(ctx context.Context, base string) (memStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/vars", nil)
	if err != nil {
		return memStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return memStats{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return memStats{}, err
	}
	return parseMemStats(b)
}

// String summarises the memory statistics: the heap's live objects (HeapAlloc: right after the heap
// profile's forced GC at the end, live objects and new garbage otherwise), its spans in use, what it
// holds idle and unreleased, goroutine stacks, everything the runtime holds from the OS, the heap goal
// of the next GC (twice the heap that survived the last one, with GOGC=100) and the number of GCs.
func (m memStats) String() string {
	mib := func(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	return fmt.Sprintf("heap objects %s, heap in use %s, heap idle not released %s, stacks %s, held from the OS %s, next GC at %s, %d GCs",
		mib(m.HeapAlloc), mib(m.HeapInuse), mib(m.HeapIdle-m.HeapReleased), mib(m.StackInuse), mib(m.held()), mib(m.NextGC), m.NumGC)
}
