// Package operator builds the spark-operator and runs it as separate processes (replicas) against a
// cluster, with their leader election Lease watched from the outside.
package operator

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkop/spark-operator/hack/bench/scraper"
)

// The leader election Lease of the operator replicas (--leader-election-lock-name/-namespace).
const (
	LeaseName      = "spark-operator-lock"
	LeaseNamespace = "default"
)

// Build builds the operator binary into dir and returns its path: ./cmd/spark-operator, or
// with pprof the same command with net/http/pprof (./hack/bench/pprofoperator).
func Build(ctx context.Context, root, dir string, pprof bool) (string, error) {
	pkg, out := "./cmd/spark-operator", filepath.Join(dir, "spark-operator")
	if pprof {
		pkg, out = "./hack/bench/pprofoperator", filepath.Join(dir, "spark-operator-pprof")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// BuildID identifies the operator under test for the results table: the last commit that
// changed the operator's sources (api, internal, cmd, go.mod, go.sum), "+dirty" when they have
// uncommitted changes, or the given binary's name and the start of its SHA-256.
func BuildID(ctx context.Context, root, bin string, built bool) string {
	if !built {
		data, err := os.ReadFile(bin)
		if err != nil {
			return filepath.Base(bin)
		}
		return fmt.Sprintf("%s sha256:%x", filepath.Base(bin), sha256.Sum256(data))[:len(filepath.Base(bin))+20]
	}
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	id := git("log", "-1", "--format=%h", "--", "api", "internal", "cmd", "go.mod", "go.sum")
	if id == "" {
		return "unknown"
	}
	if git("status", "--porcelain", "--", "api", "internal", "cmd", "go.mod", "go.sum") != "" {
		id += "+dirty"
	}
	return id
}

// Replica is one operator process.
type Replica struct {
	Index    int
	Cmd      *exec.Cmd
	LogPath  string
	PprofURL string // base URL of net/http/pprof, with -pprof

	done   chan struct{} // closed once the process was reaped
	mu     sync.Mutex
	killed bool
	usage  *syscall.Rusage // after exit
}

// Start starts `<bin> controller start` with the given flags, logging to logPath.
func Start(index int, bin, kubeconfig, logPath string, flags, env []string, pprofAddr string) (*Replica, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"controller", "start"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), env...), "KUBECONFIG="+kubeconfig)
	if pprofAddr != "" {
		cmd.Env = append(cmd.Env, "SPARKOP_BENCH_PPROF_ADDR="+pprofAddr)
	}
	cmd.Stdout, cmd.Stderr = f, f
	// Dies with the benchmark, even when the benchmark itself is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	r := &Replica{Index: index, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	if pprofAddr != "" {
		r.PprofURL = "http://" + pprofAddr
	}
	go func() {
		_ = cmd.Wait()
		f.Close()
		r.mu.Lock()
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.usage = u
		}
		r.mu.Unlock()
		close(r.done)
	}()
	return r, nil
}

// PID is the process id.
func (r *Replica) PID() int { return r.Cmd.Process.Pid }

// ExitError describes an unexpected exit: the exit status and the last lines of the replica's log,
// which the next run of the benchmark overwrites.
func (r *Replica) ExitError() error {
	status := "unknown status"
	if ps := r.Cmd.ProcessState; ps != nil {
		status = ps.String()
	}
	tail := ""
	if data, err := os.ReadFile(r.LogPath); err == nil {
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		tail = "; last lines of its log:\n\t" + strings.Join(lines[max(0, len(lines)-15):], "\n\t")
	}
	return fmt.Errorf("operator replica %d exited (%s; log: %s)%s", r.Index, status, r.LogPath, tail)
}

// Exited says whether the process has exited and was reaped.
func (r *Replica) Exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Kill kills the replica with SIGKILL (as a node failure would) and waits for it to be reaped.
func (r *Replica) Kill() {
	r.mu.Lock()
	r.killed = true
	r.mu.Unlock()
	_ = r.Cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// Stop stops the replica with SIGTERM, then SIGKILL after 10 s.
func (r *Replica) Stop() {
	if r.Exited() {
		return
	}
	_ = r.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.Cmd.Process.Signal(syscall.SIGKILL)
		<-r.done
	}
}

// Stats reads the replica's CPU time and memory from /proc, or from its rusage once it exited. The
// CPU time includes the children the replica waited for (cutime, cstime; an exited replica's rusage
// includes them too).
func (r *Replica) Stats() (scraper.ProcStats, error) {
	if r.Exited() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.usage == nil {
			return scraper.ProcStats{}, errors.New("no rusage")
		}
		u := r.usage
		cpu := time.Duration(u.Utime.Nano() + u.Stime.Nano())
		return scraper.ProcStats{CPU: cpu, PeakRSS: u.Maxrss * 1024}, nil
	}
	s, err := scraper.ReadProc(r.PID())
	if err != nil {
		return s, err
	}
	// With the children it waited for (Kubeflow's spark-submit processes).
	c, err := scraper.ChildCPU(r.PID())
	s.CPU += c
	return s, err
}

// Set is the operator replicas and what is known about their leader election.
type Set struct {
	Replicas []*Replica
	cs       kubernetes.Interface

	mu         sync.Mutex
	identities map[string]int // Lease holder identity -> replica index
	holder     string         // last holder seen
	changes    []LeaderChange // every holder change seen
}

// NewSet is an empty set of replicas whose Lease is read with cs.
func NewSet(cs kubernetes.Interface) *Set {
	return &Set{cs: cs, identities: map[string]int{}}
}

// Add adds a started replica.
func (o *Set) Add(r *Replica) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.Replicas = append(o.Replicas, r)
}

// SetIdentity records that the Lease holder identity id is replica index's.
func (o *Set) SetIdentity(id string, index int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.identities[id] = index
}

// LeaderChange is a change of the Lease holder, as seen by polling it.
type LeaderChange struct {
	At     time.Time
	Holder string
}

// Changes are the holder changes seen by WatchLeader so far, in order.
func (o *Set) Changes() []LeaderChange {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]LeaderChange(nil), o.changes...)
}

// HolderNow reads the Lease's holder identity ("" when there is no Lease or holder yet).
func (o *Set) HolderNow(ctx context.Context) (string, error) {
	lease, err := o.cs.CoordinationV1().Leases(LeaseNamespace).Get(ctx, LeaseName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if lease.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *lease.Spec.HolderIdentity, nil
}

// WatchLeader polls the Lease every 100 ms and records each change of holder.
func (o *Set) WatchLeader(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if h, err := o.HolderNow(ctx); err == nil {
			o.mu.Lock()
			if h != o.holder {
				o.holder = h
				o.changes = append(o.changes, LeaderChange{At: time.Now(), Holder: h})
			}
			o.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WaitForLeader waits until the Lease has a holder other than the excluded ones and returns it.
func (o *Set) WaitForLeader(ctx context.Context, timeout time.Duration, exclude ...string) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		h, err := o.HolderNow(ctx)
		if err == nil && h != "" && !slices.Contains(exclude, h) {
			return h, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no new leader within %s (holder %q, last error %v)", timeout, h, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ReplicaOf maps a Lease holder identity to its replica. controller-runtime's identity is
// "<hostname>_<uuid>", the same hostname for both processes here; replica 0 was started alone and
// its identity recorded, so an unknown identity is the other replica's.
func (o *Set) ReplicaOf(identity string) *Replica {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i, ok := o.identities[identity]; ok {
		return o.Replicas[i]
	}
	if len(o.Replicas) == 2 && len(o.identities) == 1 {
		for _, i := range o.identities {
			other := 1 - i
			o.identities[identity] = other
			return o.Replicas[other]
		}
	}
	return nil
}

// Totals sums the replicas' CPU time and takes the largest peak RSS.
func (o *Set) Totals() (cpu time.Duration, peakRSS, rss int64, err error) {
	for _, r := range o.Replicas {
		s, e := r.Stats()
		if e != nil {
			err = errors.Join(err, fmt.Errorf("replica %d: %w", r.Index, e))
			continue
		}
		cpu += s.CPU
		peakRSS = max(peakRSS, s.PeakRSS)
		rss += s.RSS
	}
	return cpu, peakRSS, rss, err
}

// StopAll stops every replica (SIGTERM, then SIGKILL after 10 s).
func (o *Set) StopAll() {
	var wg sync.WaitGroup
	for _, r := range o.Replicas {
		wg.Go(r.Stop)
	}
	wg.Wait()
}

// AnyExitedUnexpectedly returns a replica that exited without being killed by the benchmark.
func (o *Set) AnyExitedUnexpectedly() *Replica {
	for _, r := range o.Replicas {
		r.mu.Lock()
		killed := r.killed
		r.mu.Unlock()
		if !killed && r.Exited() {
			return r
		}
	}
	return nil
}

// Killed says whether Kill was called.
func (r *Replica) Killed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.killed
}
