package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/cluster"
)

// restartComponent kills a control-plane process of the kwok cluster (kwokctl's binary runtime:
// one process per component, its pid in the cluster's pids/ directory) with SIGKILL, as a crash
// would, keeps it down for down, and starts it again with the same command line, working directory
// and environment, its output appended to the component's log, and its new pid written where
// kwokctl reads it (so that deleting the cluster stops it). It returns when the new process runs;
// whether it serves is for the caller to wait for.
func restartComponent(ctx context.Context, cl *cluster.Cluster, name string, down time.Duration) error {
	pid, err := cl.PID(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("%s (pid %d): %w", name, pid, err)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return fmt.Errorf("%s (pid %d): %w", name, pid, err)
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return fmt.Errorf("%s (pid %d): %w", name, pid, err)
	}
	args := split0(cmdline)
	if len(args) == 0 {
		return fmt.Errorf("%s (pid %d): empty command line", name, pid)
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
	log, err := os.OpenFile(filepath.Join(cl.Dir(), "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = cwd, split0(environ), log, log
	// Its own session, as kwokctl starts it: it outlives this run until the cluster is deleted.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s again: %w", name, err)
	}
	go func() { _ = cmd.Wait() }() // reaped when the cluster's deletion stops it
	return os.WriteFile(filepath.Join(cl.Dir(), "pids", name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

// split0 splits a NUL-separated list (/proc/<pid>/cmdline, environ).
func split0(b []byte) []string {
	var out []string
	for _, f := range bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0}) {
		out = append(out, string(f))
	}
	return out
}
