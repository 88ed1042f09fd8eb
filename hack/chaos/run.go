package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/cluster"
	"github.com/sparkop/spark-operator/hack/bench/load"
	"github.com/sparkop/spark-operator/hack/bench/operator"
	"github.com/sparkop/spark-operator/hack/bench/recorder"
	"github.com/sparkop/spark-operator/hack/harness"
	"github.com/sparkop/spark-operator/internal/operatorcmd"
)

const namespace = "chaos"

// run is one chaos run: cluster, proxy, operator replicas, load and faults, checks, report, teardown.
func run(ctx context.Context, o *options, command string) (err error) {
	started := time.Now()
	root, err := cluster.RepoRoot()
	if err != nil {
		return err
	}
	work := filepath.Join(root, ".cache", "chaos", o.cluster)
	_ = os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	logf("seed %d; building the operator", o.seed)
	bin, err := operator.Build(ctx, root, filepath.Join(root, ".cache", "chaos"), false)
	if err != nil {
		return err
	}
	build := operator.BuildID(ctx, root, bin, true)

	cl := &cluster.Cluster{Root: root, Name: o.cluster, LogPath: filepath.Join(work, "cluster.log")}
	logf("starting kwok cluster %s with %d nodes (log: %s)", o.cluster, o.nodes, cl.LogPath)
	defer cl.Teardown(o.keepCluster, logf, &err)
	if err := cl.Up(ctx, cluster.Options{Nodes: o.nodes}); err != nil {
		return err
	}
	cfg, cs, rc, err := load.Clients(cl.Kubeconfig(), "sparkop-chaos")
	if err != nil {
		return err
	}
	if err := cl.InstallCRDs(ctx, load.CanListApps(rc)); err != nil {
		return err
	}
	if err := cluster.CreateNamespaces(ctx, cs, []string{namespace}); err != nil {
		return err
	}

	cp, err := newControlPlane(cl)
	if err != nil {
		return err
	}
	// The operator reaches the API server through the proxy only.
	px, err := newProxy(strings.TrimPrefix(strings.TrimPrefix(cfg.Host, "https://"), "http://"))
	if err != nil {
		return err
	}
	defer px.close()
	opKubeconfig := filepath.Join(work, "operator-kubeconfig.yaml")
	if err := proxiedKubeconfig(cl.Kubeconfig(), opKubeconfig, px.addr()); err != nil {
		return err
	}

	tr := newTracker()
	rec := recorder.New()
	rec.NewInformer = operatorcmd.NewRetryingInformer
	rec.OnApp, rec.OnPod, rec.OnAppGone, rec.OnPodGone = tr.onApp, tr.onPod, tr.onAppGone, tr.onPodGone
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var actions sync.WaitGroup
	tr.act = func(key string, k kind, s v1beta2.ApplicationStateType) {
		actions.Add(1)
		defer actions.Done()
		act(runCtx, rc, tr, key, k, s)
	}
	if err := rec.Start(runCtx, cfg, cs); err != nil {
		return err
	}
	go cp.supervise(runCtx)

	flags := append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0", "--namespaces=" + namespace,
		"--leader-election", "--leader-election-lock-name=" + operator.LeaseName, "--leader-election-lock-namespace=" + operator.LeaseNamespace},
		strings.Fields(o.operatorFlags)...)
	sup := newSupervisor(bin, opKubeconfig, work, flags, o.replicas)
	defer sup.stopAll()
	logf("starting %d operator replicas: %s controller start %s", o.replicas, bin, strings.Join(flags, " "))
	if err := sup.run(runCtx); err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(o.seed, o.seed>>1))
	var canaries atomic.Int64
	newApp := func(ctx context.Context, name string, k kind) (string, error) {
		app := chaosApp(namespace, name, k, o.runDuration)
		key := recorder.Key(namespace, name)
		tr.register(key, k)
		if k != kindCanary {
			rec.Expect(namespace, name, time.Now())
		}
		err := untilDone(ctx, 5*time.Minute, apierrors.IsAlreadyExists, func(ctx context.Context) error { return load.CreateApp(ctx, rc, app) })
		if err != nil {
			return key, fmt.Errorf("creating %s: %w", key, err)
		}
		tr.markCreated(key)
		return key, nil
	}
	in := &injector{o: o, cl: cl, cp: cp, cs: cs, sup: sup, px: px, tr: tr, rng: rng,
		canary: func(ctx context.Context) (string, error) {
			return newApp(ctx, fmt.Sprintf("canary-%03d", canaries.Add(1)), kindCanary)
		}}

	// Warm-up: the first canary shows the operator works before the clock starts.
	logf("warm-up: waiting for a leader and a first application SUBMITTED")
	if t := in.waitCanary(ctx, time.Now()); t.IsZero() {
		return fmt.Errorf("the operator did not submit the warm-up application within %s; see %s", o.recoveryBound, work)
	}

	logf("creating %d applications at %g/s; faults: %d round(s) of %d kinds", o.n, o.rate, o.rounds, len(faultKinds))
	loadStart := time.Now()
	var ld load.Result
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		ld = load.Run(runCtx, load.Options{N: o.n, Rate: o.rate, Workers: 16}, func(ctx context.Context, i int, _ time.Time) (int, error) {
			_, err := newApp(ctx, fmt.Sprintf("app-%05d", i), kindOf(i))
			return 0, err
		}, func(int) {})
	}()
	faultCtx, stopFaults := context.WithCancel(runCtx)
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		in.run(faultCtx, in.plan(o.rounds))
	}()
	progress := time.NewTicker(15 * time.Second)
	defer progress.Stop()
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			stopFaults()
			return ctx.Err()
		case <-loadDone:
			loadDone = nil
			if faultsDone == nil {
				waiting = false
			}
		case <-faultsDone:
			faultsDone = nil
			if loadDone == nil {
				waiting = false
			}
		case <-progress.C:
			p := rec.Progress()
			logf("+%3.0fs created %d/%d, finished %d, faults %d", time.Since(loadStart).Seconds(), p.Measured, o.n, p.Done, len(in.faults))
		}
	}
	stopFaults()
	if ld.Err != nil {
		return ld.Err
	}
	faultsEnd := time.Now()
	logf("load and faults done after %.0fs; waiting up to %s for every application to settle", time.Since(loadStart).Seconds(), o.settleTimeout)
	settled := waitSettled(ctx, tr, o.settleTimeout)
	apps, err := listAll(ctx, rc)
	if err != nil {
		return err
	}
	transitions := rec.Transitions()
	for _, f := range in.faults {
		if i, _ := slices.BinarySearchFunc(transitions, f.end, func(t, end time.Time) int { return t.Compare(end) }); i < len(transitions) {
			f.acting = transitions[i]
		}
	}
	res := check(o, tr.snapshot(), apps, in.faults, sup)
	res.controlPlaneRestarts = cp.restartsText()
	res.build, res.settled, res.faultsEnd = build, settled, faultsEnd
	res.duration = time.Since(started)
	fmt.Println(res.line())
	for _, d := range res.details {
		logf("%s", d)
	}
	if o.out != "" {
		path := harness.OutPath(root, o.out)
		if err := chaosTable.Write(path, res.row(command)); err != nil {
			return err
		}
		logf("results table updated: %s", path)
	}
	stopRun()
	sup.stopAll()
	if v := res.violations(); v != "" {
		return errors.New(v)
	}
	return nil
}

// act does what the kind of an application asks when it reaches a state: suspend it once RUNNING
// and resume it once SUSPENDED; delete it once RUNNING.
func act(ctx context.Context, rc *rest.RESTClient, tr *tracker, key string, k kind, s v1beta2.ApplicationStateType) {
	ns, name, _ := strings.Cut(key, "/")
	do := func(flag func(a *appTrack) *bool) bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		f := flag(tr.get(key))
		if *f {
			return false
		}
		*f = true
		return true
	}
	var err error
	switch {
	case k == kindSuspend && s == v1beta2.ApplicationStateRunning && do(func(a *appTrack) *bool { return &a.acted }):
		err = setSuspend(ctx, rc, ns, name, true)
	case k == kindSuspend && s == v1beta2.ApplicationStateSuspended && do(func(a *appTrack) *bool { return &a.resumed }):
		err = setSuspend(ctx, rc, ns, name, false)
	case k == kindDelete && s == v1beta2.ApplicationStateRunning && do(func(a *appTrack) *bool { return &a.acted }):
		tr.mu.Lock()
		tr.get(key).deleted = true
		tr.mu.Unlock()
		err = deleteApp(ctx, rc, ns, name)
	}
	if err != nil && ctx.Err() == nil {
		logf("acting on %s (%s at %s): %v", key, k, s, err)
	}
}

// waitSettled waits until every created application is terminal, or gone when the run deleted it,
// and reports whether that happened within timeout.
func waitSettled(ctx context.Context, tr *tracker, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		open := 0
		for _, a := range tr.snapshot() {
			if !a.created {
				continue
			}
			if a.deleted {
				if !a.gone {
					open++
				}
				continue
			}
			if n := len(a.history); n == 0 || !terminal(a.history[n-1].state) {
				open++
			}
		}
		if open == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			logf("%d applications did not settle within %s", open, timeout)
			return false
		}
		time.Sleep(time.Second)
	}
}

func terminal(s v1beta2.ApplicationStateType) bool {
	return s == v1beta2.ApplicationStateCompleted || s == v1beta2.ApplicationStateFailed || s == v1beta2.ApplicationStateFailedSubmission
}

// listAll lists the applications of the run's namespace.
func listAll(ctx context.Context, rc *rest.RESTClient) (map[string]v1beta2.SparkApplication, error) {
	var list []v1beta2.SparkApplication
	err := untilDone(ctx, time.Minute, never, func(ctx context.Context) error {
		var err error
		list, err = load.ListApps(ctx, rc)
		return err
	})
	if err != nil {
		return nil, err
	}
	m := map[string]v1beta2.SparkApplication{}
	for _, a := range list {
		m[recorder.Key(a.Namespace, a.Name)] = a
	}
	return m, nil
}

// proxiedKubeconfig writes a copy of the kubeconfig at src to dst whose servers are at addr (the
// proxy), keeping TLS as it is (the proxy forwards bytes; the certificate is for 127.0.0.1).
func proxiedKubeconfig(src, dst, addr string) error {
	cfg, err := clientcmd.LoadFromFile(src)
	if err != nil {
		return err
	}
	for _, c := range cfg.Clusters {
		scheme := "https://"
		if strings.HasPrefix(c.Server, "http://") {
			scheme = "http://"
		}
		c.Server = scheme + addr
	}
	return clientcmd.WriteToFile(*cfg, dst)
}
