package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The leader election Lease of the operator replicas (--leader-election-lock-name/-namespace).
const (
	leaseName      = "spark-operator-lock"
	leaseNamespace = "default"
)

// buildOperator builds the operator binary into dir and returns its path: ./cmd/spark-operator, or
// with pprof the same command with net/http/pprof (./hack/bench/pprofoperator).
func buildOperator(ctx context.Context, root, dir string, pprof bool) (string, error) {
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

// operatorBuild identifies the operator under test for the results table: the last commit that
// changed the operator's sources (api, internal, cmd, go.mod, go.sum), "+dirty" when they have
// uncommitted changes, or the given binary's name and the start of its SHA-256.
func operatorBuild(ctx context.Context, root, bin string, built bool) string {
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

// replica is one operator process.
type replica struct {
	index    int
	cmd      *exec.Cmd
	logPath  string
	pprofURL string // base URL of net/http/pprof, with -pprof

	done   chan struct{} // closed once the process was reaped
	mu     sync.Mutex
	killed bool
	usage  *syscall.Rusage // after exit
}

// startReplica starts `<bin> controller start` with the given flags, logging to logPath.
func startReplica(index int, bin, kubeconfig, logPath string, flags, env []string, pprofAddr string) (*replica, error) {
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
	r := &replica{index: index, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	if pprofAddr != "" {
		r.pprofURL = "http://" + pprofAddr
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

func (r *replica) pid() int { return r.cmd.Process.Pid }

// exitError describes an unexpected exit: the exit status and the last lines of the replica's log,
// which the next run of the benchmark overwrites.
func (r *replica) exitError() error {
	status := "unknown status"
	if ps := r.cmd.ProcessState; ps != nil {
		status = ps.String()
	}
	tail := ""
	if data, err := os.ReadFile(r.logPath); err == nil {
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		tail = "; last lines of its log:\n\t" + strings.Join(lines[max(0, len(lines)-15):], "\n\t")
	}
	return fmt.Errorf("operator replica %d exited (%s; log: %s)%s", r.index, status, r.logPath, tail)
}

func (r *replica) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// kill kills the replica with SIGKILL (as a node failure would) and waits for it to be reaped.
func (r *replica) kill() {
	r.mu.Lock()
	r.killed = true
	r.mu.Unlock()
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// stop stops the replica with SIGTERM, then SIGKILL after 10 s.
func (r *replica) stop() {
	if r.exited() {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.done
	}
}

// procStats are a process's CPU time and memory.
type procStats struct {
	cpu     time.Duration // utime + stime
	peakRSS int64         // bytes (VmHWM, or ru_maxrss of an exited process)
	rss     int64         // bytes (VmRSS; 0 once exited)
}

// stats reads the replica's CPU time and memory from /proc, or from its rusage once it exited.
func (r *replica) stats() (procStats, error) {
	if r.exited() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.usage == nil {
			return procStats{}, errors.New("no rusage")
		}
		u := r.usage
		cpu := time.Duration(u.Utime.Nano() + u.Stime.Nano())
		return procStats{cpu: cpu, peakRSS: u.Maxrss * 1024}, nil
	}
	return readProc(r.pid())
}

// clockTicks is the kernel's USER_HZ (`getconf CLK_TCK`), the unit of utime and stime in /proc.
var clockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
})

// readProc reads utime+stime from /proc/<pid>/stat and VmHWM and VmRSS from /proc/<pid>/status.
func readProc(pid int) (procStats, error) {
	var s procStats
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	s.cpu = time.Duration((utime + stime) * int64(time.Second) / clockTicks())
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		f := strings.Fields(val) // "123456 kB"
		if len(f) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if key == "VmHWM" {
			s.peakRSS = kb * 1024
		} else {
			s.rss = kb * 1024
		}
	}
	return s, nil
}

// operators are the operator replicas and what is known about their leader election.
type operators struct {
	replicas []*replica
	cs       kubernetes.Interface

	mu         sync.Mutex
	identities map[string]int // Lease holder identity -> replica index
	holder     string         // last holder seen
	changes    []leaderChange // every holder change seen
}

// leaderChange is a change of the Lease holder, as seen by polling it.
type leaderChange struct {
	at     time.Time
	holder string
}

// holderNow reads the Lease's holder identity ("" when there is no Lease or holder yet).
func (o *operators) holderNow(ctx context.Context) (string, error) {
	lease, err := o.cs.CoordinationV1().Leases(leaseNamespace).Get(ctx, leaseName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if lease.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *lease.Spec.HolderIdentity, nil
}

// watchLeader polls the Lease every 100 ms and records each change of holder.
func (o *operators) watchLeader(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if h, err := o.holderNow(ctx); err == nil {
			o.mu.Lock()
			if h != o.holder {
				o.holder = h
				o.changes = append(o.changes, leaderChange{at: time.Now(), holder: h})
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

// waitForLeader waits until the Lease has a holder other than the excluded ones and returns it.
func (o *operators) waitForLeader(ctx context.Context, timeout time.Duration, exclude ...string) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		h, err := o.holderNow(ctx)
		if err == nil && h != "" && !contains(exclude, h) {
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// replicaOf maps a Lease holder identity to its replica. controller-runtime's identity is
// "<hostname>_<uuid>", the same hostname for both processes here; replica 0 was started alone and
// its identity recorded, so an unknown identity is the other replica's.
func (o *operators) replicaOf(identity string) *replica {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i, ok := o.identities[identity]; ok {
		return o.replicas[i]
	}
	if len(o.replicas) == 2 && len(o.identities) == 1 {
		for _, i := range o.identities {
			other := 1 - i
			o.identities[identity] = other
			return o.replicas[other]
		}
	}
	return nil
}

// totals sums the replicas' CPU time and takes the largest peak RSS.
func (o *operators) totals() (cpu time.Duration, peakRSS, rss int64, err error) {
	for _, r := range o.replicas {
		s, e := r.stats()
		if e != nil {
			err = errors.Join(err, fmt.Errorf("replica %d: %w", r.index, e))
			continue
		}
		cpu += s.cpu
		peakRSS = max(peakRSS, s.peakRSS)
		rss += s.rss
	}
	return cpu, peakRSS, rss, err
}

func (o *operators) stopAll() {
	var wg sync.WaitGroup
	for _, r := range o.replicas {
		wg.Go(r.stop)
	}
	wg.Wait()
}

// anyExitedUnexpectedly returns a replica that exited without being killed by the benchmark.
func (o *operators) anyExitedUnexpectedly() *replica {
	for _, r := range o.replicas {
		r.mu.Lock()
		killed := r.killed
		r.mu.Unlock()
		if !killed && r.exited() {
			return r
		}
	}
	return nil
}
