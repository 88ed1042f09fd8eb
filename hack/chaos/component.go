package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/cluster"
)

// controlPlane restarts the kwok cluster's processes (kwokctl's binary runtime: one process per
// component, its pid in the cluster's pids/ directory) as a kubelet restarts static pods: the run
// kills kube-apiserver and etcd for its faults, and kube-scheduler and kube-controller-manager exit
// on their own when they lose their leader election in such an outage. Each component is started
// again with the command line, working directory and environment it had at the start of the run,
// its output appended to its log, and its new pid written where kwokctl reads it (so that deleting
// the cluster stops it).
type controlPlane struct {
	cl *cluster.Cluster

	mu       sync.Mutex
	procs    map[string]procInfo
	held     map[string]bool // components the run keeps down
	restarts map[string]int  // restarts of components that exited on their own
}

// procInfo is how a component was started.
type procInfo struct {
	args, env []string
	dir       string
}

// newControlPlane records how every component of the cluster was started.
func newControlPlane(cl *cluster.Cluster) (*controlPlane, error) {
	cp := &controlPlane{cl: cl, procs: map[string]procInfo{}, held: map[string]bool{}, restarts: map[string]int{}}
	for _, name := range cluster.Components {
		pid, err := cl.PID(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cmdline, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		environ, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		cwd, err3 := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%s (pid %d): %v %v %v", name, pid, err1, err2, err3)
		}
		cp.procs[name] = procInfo{args: split0(cmdline), env: split0(environ), dir: cwd}
	}
	return cp, nil
}

// alive says whether the component's process runs.
func (cp *controlPlane) alive(name string) bool {
	pid, err := cp.cl.PID(name)
	return err == nil && syscall.Kill(pid, 0) == nil
}

// start starts a component again.
func (cp *controlPlane) start(name string) error {
	p := cp.procs[name]
	log, err := os.OpenFile(filepath.Join(cp.cl.Dir(), "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = p.dir, p.env, log, log
	// Its own session, as kwokctl starts it: it outlives this run until the cluster is deleted.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s again: %w", name, err)
	}
	go func() { _ = cmd.Wait() }() // reaped when the cluster's deletion stops it
	return os.WriteFile(filepath.Join(cp.cl.Dir(), "pids", name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

// restart kills a component with SIGKILL, as a crash would, keeps it down for down, and starts it
// again. It returns when the new process runs; whether it serves is for the caller to wait for.
func (cp *controlPlane) restart(ctx context.Context, name string, down time.Duration) error {
	cp.mu.Lock()
	cp.held[name] = true
	cp.mu.Unlock()
	defer func() {
		cp.mu.Lock()
		delete(cp.held, name)
		cp.mu.Unlock()
	}()
	pid, err := cp.cl.PID(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s (pid %d): %w", name, pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", name, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.start(name)
}

// supervise starts again, every second until ctx ends, each component that exited on its own.
func (cp *controlPlane) supervise(ctx context.Context) {
	every(ctx, time.Second, func() {
		cp.mu.Lock()
		for _, name := range cluster.Components {
			if cp.held[name] || cp.alive(name) {
				continue
			}
			cp.restarts[name]++
			if err := cp.start(name); err != nil {
				logf("control plane: %v", err)
			} else {
				logf("control plane: %s had exited (see its log); started again", name)
			}
		}
		cp.mu.Unlock()
	})
}

// every calls f every interval (the first time after one interval) until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f()
	}
}

// split0 splits a NUL-separated list (/proc/<pid>/cmdline, environ).
func split0(b []byte) []string {
	var out []string
	for _, f := range bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0}) {
		out = append(out, string(f))
	}
	return out
}

// restartsText is e.g. "kube-scheduler 2, kube-controller-manager 1", or "none".
func (cp *controlPlane) restartsText() string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var parts []string
	for _, name := range cluster.Components {
		if n := cp.restarts[name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
