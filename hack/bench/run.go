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
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/hack/bench/cluster"
	"github.com/sparkop/spark-operator/hack/bench/kubeflow"
	"github.com/sparkop/spark-operator/hack/bench/load"
	"github.com/sparkop/spark-operator/hack/bench/operator"
	"github.com/sparkop/spark-operator/hack/bench/recorder"
	"github.com/sparkop/spark-operator/hack/bench/scraper"
	"github.com/sparkop/spark-operator/hack/bench/soak"
	"github.com/sparkop/spark-operator/hack/harness"
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
	root, err := cluster.RepoRoot()
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
			if bin, err = operator.Build(ctx, root, benchDir, o.pprof); err != nil {
				return err
			}
		}
		build = operator.BuildID(ctx, root, bin, o.operatorBinary == "")
		logf("operator under test: %s", build)
	}

	cl := &cluster.Cluster{Root: root, Name: o.cluster, LogPath: filepath.Join(work, "cluster.log")}
	if o.bare {
		logf("starting kwok cluster %s: etcd and kube-apiserver only (log: %s)", o.cluster, rel(root, cl.LogPath))
	} else {
		logf("starting kwok cluster %s with %d nodes (log: %s)", o.cluster, o.nodes, rel(root, cl.LogPath))
	}
	defer cl.Teardown(o.keepCluster, logf, &err)
	clOpts := cluster.Options{KwokDefaults: o.kwokDefaults, Bare: o.bare, Nodes: o.nodes}
	if o.audit {
		if clOpts.AuditPolicy, err = writeAuditPolicy(work); err != nil {
			return err
		}
	}
	if err := cl.Up(ctx, clOpts); err != nil {
		return err
	}
	logf("cluster up in %.0fs", time.Since(started).Seconds())

	cfg, cs, rc, err := load.Clients(cl.Kubeconfig(), "sparkop-bench")
	if err != nil {
		return err
	}
	crdDir := filepath.Join(root, "config", "crd", "bases")
	if o.kubeflow != nil {
		crdDir = o.kubeflow.CRDDir
	}
	canList := load.CanListApps(rc)
	if err := cl.InstallCRDsFrom(ctx, crdDir, func(ctx context.Context) error {
		if err := canList(ctx); err != nil {
			return err
		}
		// The operator maps kinds through discovery, which may lag behind the CRD being served.
		return servedInDiscovery(cs, "sparkoperator.k8s.io/v1beta2", "sparkapplications")
	}); err != nil {
		return err
	}
	namespaces := make([]string, o.namespaces)
	for i := range namespaces {
		namespaces[i] = fmt.Sprintf("bench-%d", i)
	}
	if err := cluster.CreateNamespaces(ctx, cs, namespaces); err != nil {
		return err
	}

	obsCtx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	obs := recorder.New()
	running := newPodRunning()
	obs.OnPod = running.onPod
	if err := obs.Start(obsCtx, cfg, cs); err != nil {
		return err
	}

	// The operator replicas (none with -raw).
	ops := operator.NewSet(cs)
	defer ops.StopAll()
	replicas := o.replicas
	if o.raw {
		replicas = 0
		obs.UntilPods = true
	}
	flags := []string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}
	if o.replicas == 2 {
		flags = append(flags, "--leader-election", "--leader-election-lock-name="+operator.LeaseName, "--leader-election-lock-namespace="+operator.LeaseNamespace)
	}
	flags = append(flags, strings.Fields(o.operatorFlags)...)
	kubeconfig, env := cl.Kubeconfig(), strings.Fields(o.operatorEnv)
	if o.kubeflow != nil {
		// Kubeflow's operator and its spark-submit: a token kubeconfig, SPARK_HOME, the API server.
		kubeconfig = filepath.Join(work, "kubeflow-kubeconfig.yaml")
		if err := kubeflow.SubmitterKubeconfig(ctx, cs, cfg, kubeconfig); err != nil {
			return err
		}
		kfEnv, err := o.kubeflow.OperatorEnv(cfg)
		if err != nil {
			return err
		}
		env = append(env, kfEnv...)
	}
	metricsURL := ""
	if o.duration > 0 {
		// The steady mode samples the live heap from the operator's metrics endpoint.
		addr, err := freeLocalAddr()
		if err != nil {
			return err
		}
		flags, metricsURL = append(flags, "--metrics-bind-address="+addr), "http://"+addr+"/metrics"
	}
	if !o.raw {
		logf("starting %d operator replica(s): %s%s controller start %s", o.replicas, envPrefix(strings.Join(env, " ")), rel(root, bin), strings.Join(flags, " "))
	}
	for i := range replicas {
		pprofAddr := ""
		if o.pprof {
			if pprofAddr, err = freeLocalAddr(); err != nil {
				return err
			}
		}
		r, err := operator.Start(i, bin, kubeconfig, filepath.Join(work, fmt.Sprintf("operator-%d.log", i)), flags, env, pprofAddr)
		if err != nil {
			return err
		}
		ops.Add(r)
		if o.replicas == 2 && i == 0 {
			// Replica 0 alone: the Lease's holder is its identity.
			id, err := ops.WaitForLeader(ctx, time.Minute)
			if err != nil {
				return fmt.Errorf("replica 0 did not become leader: %w (log: %s)", err, r.LogPath)
			}
			ops.SetIdentity(id, 0)
			logf("replica 0 (pid %d) is the leader: %s", r.PID(), id)
		}
	}
	if o.replicas == 2 {
		go ops.WatchLeader(obsCtx)
	}

	// Warm-up: one application through to its driver pod, so that the operator's caches have synced
	// and the leader is working before the clock starts. It is not counted.
	if !o.raw {
		logf("warm-up: one application, waiting for its driver pod")
		// Kubeflow's first spark-submit starts two JVMs, which takes minutes on a busy machine.
		warmUpTimeout := 2 * time.Minute
		if o.kubeflow != nil {
			warmUpTimeout = 10 * time.Minute
		}
		if err := warmUp(ctx, rc, obs, ops, namespaces[0], warmUpTimeout); err != nil {
			return err
		}
	}
	baseCPU, _, _, err := ops.Totals()
	if err != nil {
		return err
	}
	cpuStart := scraper.TakeCPUSnapshot(cl, "bench")
	reqStart, reqErr := scraper.ScrapeRequests(ctx, cs)
	auditFrom := time.Now()

	tree := operator.StartTreeSampler(ctx, ops, 250*time.Millisecond)
	var steady *soak.Monitor
	if o.duration > 0 {
		steady = soak.StartMonitor(ctx, func() int64 { _, _, rss, _ := ops.Totals(); return rss }, metricsURL, o.sampleInterval)
	}
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
	obs.ExpectTotal(o.n)
	rateText := "all at once"
	if o.rate > 0 {
		rateText = fmt.Sprintf("%g/s", o.rate)
	}
	logf("creating %d applications (%s) in %d namespace(s), drivers run %s", o.n, rateText, o.namespaces, o.runDuration)
	loadStart := time.Now()
	var ld load.Result
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		ld = runLoad(ctx, o, rc, cs, obs, namespaces, onCreated)
	}()

	waitErr := waitAll(ctx, o, obs, ops, loadStart, loadDone)
	<-loadDone
	foDone.Wait()
	if ld.Err != nil {
		return ld.Err
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
	cpu, peakRSS, rss, err := ops.Totals()
	if err != nil {
		return err
	}
	// The operator's process tree: Kubeflow's spark-submit JVMs count as the operator's memory.
	peakRSS = max(peakRSS, tree.Stop())
	var soakRep *soakReport
	if steady != nil {
		soakRep = finishSoak(ctx, o, cfg, cs, obs, steady.Stop(), loadStart, namespaces)
	}
	cpuSplit := scraper.Breakdown(cpuStart, scraper.TakeCPUSnapshot(cl, "bench"), cpu-baseCPU)
	if waitErr != nil && ctx.Err() != nil {
		return waitErr
	}

	// Final state from the API server: the authoritative attempts and driver pods.
	apps, err := load.ListApps(ctx, rc)
	if err != nil {
		return err
	}
	pods, err := load.ListDriverPods(ctx, cs)
	if err != nil {
		return err
	}
	s := summarize(o, obs, ld, apps, pods)
	s.cpu, s.baseCPU, s.peakRSS, s.rss, s.cpuSplit, s.build = cpu, baseCPU, peakRSS, rss, cpuSplit, build
	s.statusLag = running.statusLag(obs.Records())
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
		if reqEnd, err := scraper.ScrapeRequests(ctx, cs); err == nil {
			logf("API writes per application (every client: the operator, the benchmark, kube-controller-manager, kube-scheduler, kwok): %s", scraper.PerApp(reqStart, reqEnd, o.n))
			s.writesPerApp = scraper.WritesPerApp(reqStart, reqEnd, o.n)
		}
	}
	var audited *auditBreakdown
	if o.audit {
		if audited, err = readAudit(cl, auditFrom, time.Now(), o.n); err != nil {
			return err
		}
		audited.log()
	}
	logf("driver pod seen running -> RUNNING seen in the status: %s", s.statusLag)
	if soakRep != nil {
		fmt.Println(soakRep.line())
	}
	if o.onSummary != nil {
		o.onSummary(s)
	}
	if o.out != "" {
		path := harness.OutPath(root, o.out)
		if err := table.Write(path, s.row(command)); err != nil {
			return err
		}
		if audited != nil {
			if err := auditTable.WriteRows(path, audited.rows(command, s.build)); err != nil {
				return err
			}
		}
		if soakRep != nil {
			if err := soakTable.Write(path, soakRow(command, s, *soakRep)); err != nil {
				return err
			}
		}
		logf("results table updated: %s", rel(root, path))
	}
	ops.StopAll()
	if waitErr != nil {
		return waitErr
	}
	if v := s.violations(); v != "" {
		return errors.New(v)
	}
	if soakRep != nil && soakRep.failed() {
		return fmt.Errorf("leak audit: %s", soakRep.auditText())
	}
	return nil
}

// warmUp creates one application (not measured) and waits for its driver pod.
func warmUp(ctx context.Context, rc *rest.RESTClient, obs *recorder.Recorder, ops *operator.Set, ns string, timeout time.Duration) error {
	if err := load.CreateApp(ctx, rc, load.App(ns, warmupName, time.Second)); err != nil {
		return fmt.Errorf("creating the warm-up application: %w", err)
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if r, ok := obs.Get(recorder.Key(ns, warmupName)); ok && !r.PodAdded.IsZero() {
			return true, nil
		}
		if r := ops.AnyExitedUnexpectedly(); r != nil {
			return false, r.ExitError()
		}
		return false, nil
	})
	if wait.Interrupted(err) && ctx.Err() == nil {
		return fmt.Errorf("the warm-up application got no driver pod within %s; see the operator log in .cache/bench/", timeout)
	}
	return err
}

// runLoad creates o.n applications (load.Run), spread over the namespaces, each registered with the
// recorder when it is sent; with -raw the whole set a submission creates, not retried.
func runLoad(ctx context.Context, o *options, rc *rest.RESTClient, cs kubernetes.Interface, obs *recorder.Recorder, namespaces []string, onCreated func(int)) load.Result {
	create := func(ctx context.Context, i int, sent time.Time) (int, error) {
		ns := namespaces[i%len(namespaces)]
		app := load.App(ns, fmt.Sprintf("app-%05d", i), o.runDuration)
		if o.ttl > 0 {
			app.Spec.TimeToLiveSeconds = ptr.To(int64(o.ttl.Round(time.Second).Seconds()))
		}
		r := obs.Expect(ns, app.Name, sent)
		var retries int
		var err error
		if o.raw {
			// Not retried: part of the set may exist already.
			err = load.CreateSet(ctx, rc, cs, app)
		} else {
			retries, err = load.Retry(ctx, 6, apierrors.IsAlreadyExists, func(ctx context.Context) error { return load.CreateApp(ctx, rc, app) })
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return retries, fmt.Errorf("creating %s/%s: %w", ns, app.Name, err)
		}
		obs.Acked(r, time.Now())
		return retries, nil
	}
	return load.Run(ctx, load.Options{N: o.n, Rate: o.rate, Workers: o.workers}, create, onCreated)
}

// killLeader kills the replica holding the Lease and waits for the other one to take over.
func killLeader(ctx context.Context, ops *operator.Set, fo *failover) {
	holder, err := ops.HolderNow(ctx)
	if err != nil || holder == "" {
		fo.err = fmt.Errorf("reading the leader: %v (holder %q)", err, holder)
		return
	}
	r := ops.ReplicaOf(holder)
	if r == nil {
		fo.err = fmt.Errorf("no replica for holder %q", holder)
		return
	}
	fo.oldHolder, fo.killed = holder, r.Index
	fo.killedAt = time.Now()
	r.Kill()
	logf("killed the leader, replica %d (pid %d, %s), after %d creations", r.Index, r.PID(), holder, fo.threshold)
	h, err := ops.WaitForLeader(ctx, 2*time.Minute, holder)
	if err != nil {
		fo.err = err
		return
	}
	fo.newHolder, fo.newLeaderAt = h, time.Now()
	// The Lease poller may have seen it first.
	for _, c := range ops.Changes() {
		if c.Holder == h && c.At.After(fo.killedAt) && c.At.Before(fo.newLeaderAt) {
			fo.newLeaderAt = c.At
			break
		}
	}
	logf("replica %d took over %.1fs after the kill", 1-r.Index, fo.newLeaderAt.Sub(fo.killedAt).Seconds())
}

// failoverGap is the longest interval after the kill with no state transition observed, and the time
// from the kill to the first transition after it.
func failoverGap(obs *recorder.Recorder, fo *failover) (gap, first time.Duration) {
	if fo.killedAt.IsZero() {
		return 0, 0
	}
	prev := fo.killedAt
	for _, t := range obs.Transitions() {
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
func waitAll(ctx context.Context, o *options, obs *recorder.Recorder, ops *operator.Set, start time.Time, loadDone <-chan struct{}) error {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	timeout := time.After(o.timeout)
	printProgress := func() {
		p := obs.Progress()
		cpu, _, rss, _ := ops.Totals()
		logf("+%5.1fs created %d/%d, driver pods %d, submitted %d, running %d, finished %d | operator cpu %.1fs, rss %d MiB",
			time.Since(start).Seconds(), p.Measured, o.n, p.Pods, p.Submitted, p.Running, p.Done, cpu.Seconds(), rss>>20)
	}
	for {
		select {
		case <-obs.AllDone():
			printProgress()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			printProgress()
			return fmt.Errorf("not every application finished within %s (-timeout)", o.timeout)
		case <-tick.C:
			printProgress()
			if r := ops.AnyExitedUnexpectedly(); r != nil {
				return r.ExitError()
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
	ops    *operator.Set
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

func startProfiling(ctx context.Context, ops *operator.Set, cs kubernetes.Interface, dir string) *profiler {
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
	for _, r := range ops.Replicas {
		p.wg.Go(func() {
			for ctx.Err() == nil && !r.Exited() {
				if m, err := readMemStats(ctx, r.PprofURL); err == nil {
					p.mu.Lock()
					if m.held() > p.peak[r.Index].held() {
						p.peak[r.Index] = m
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
			for seq := 0; ctx.Err() == nil && !r.Exited(); seq++ {
				path := filepath.Join(dir, fmt.Sprintf("cpu-%d-%03d.pprof", r.Index, seq))
				// The last profile is cut short by stop(); a cut-short fetch leaves no file.
				if err := fetch(ctx, r.PprofURL+"/debug/pprof/profile?seconds=10", path); err == nil {
					p.mu.Lock()
					p.files[r.Index] = append(p.files[r.Index], path)
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
	for _, r := range p.ops.Replicas {
		if !r.Exited() {
			_ = fetch(ctx, r.PprofURL+"/debug/pprof/heap?gc=1", filepath.Join(p.dir, fmt.Sprintf("heap-%d.pprof", r.Index)))
			_ = fetch(ctx, r.PprofURL+"/debug/vars", filepath.Join(p.dir, fmt.Sprintf("memstats-%d.json", r.Index)))
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
	for _, r := range p.ops.Replicas {
		files := p.files[r.Index]
		if len(files) == 0 {
			continue
		}
		out := filepath.Join(p.dir, fmt.Sprintf("cpu-%d-top.txt", r.Index))
		args := append([]string{"tool", "pprof", "-top", "-nodecount=40", bin}, files...)
		if b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err == nil {
			_ = os.WriteFile(out, b, 0o644)
			logf("CPU profile of replica %d (%d x 10 s): %s; top functions in %s", r.Index, len(files), strings.Join(files, " "), out)
		}
		cum := filepath.Join(p.dir, fmt.Sprintf("cpu-%d-cum.txt", r.Index))
		args = append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=60", bin}, files...)
		if b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err == nil {
			_ = os.WriteFile(cum, b, 0o644)
		}
		heap := filepath.Join(p.dir, fmt.Sprintf("heap-%d.pprof", r.Index))
		if _, err := os.Stat(heap); err == nil {
			if b, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=30", "-sample_index=inuse_space", bin, heap).CombinedOutput(); err == nil {
				_ = os.WriteFile(filepath.Join(p.dir, fmt.Sprintf("heap-%d-top.txt", r.Index)), b, 0o644)
				logf("heap profile of replica %d at the end: %s; top functions in %s", r.Index, heap, filepath.Join(p.dir, fmt.Sprintf("heap-%d-top.txt", r.Index)))
			}
		}
		if b, err := os.ReadFile(filepath.Join(p.dir, fmt.Sprintf("memstats-%d.json", r.Index))); err == nil {
			if m, err := parseMemStats(b); err == nil {
				logf("Go memory of replica %d at the end: %s", r.Index, m)
			}
		}
		if m, ok := p.peak[r.Index]; ok {
			logf("Go memory of replica %d when the runtime held the most: %s", r.Index, m)
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
