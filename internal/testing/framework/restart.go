package framework

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// fixControlPlaneDirs gives etcd its data directory and kube-apiserver its certificate directory
// under workDir (removed by Stop) instead of envtest's temporary ones. envtest removes a directory it
// created itself whenever the process stops, so with its own directories a restarted kube-apiserver
// would come back with new certificates (and the clients of Env.Config would be refused) and a
// restarted etcd without its data. With fixed directories, StopAPIServer/StartAPIServer and
// StopEtcd/StartEtcd restart the same server: same address, same certificates, same data.
func fixControlPlaneDirs(te *envtest.Environment, workDir string) error {
	certDir := filepath.Join(workDir, "kube-apiserver")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	if te.ControlPlane.APIServer == nil {
		te.ControlPlane.APIServer = &envtest.APIServer{}
	}
	if te.ControlPlane.Etcd == nil {
		te.ControlPlane.Etcd = &envtest.Etcd{}
	}
	te.ControlPlane.APIServer.CertDir = certDir
	te.ControlPlane.Etcd.DataDir = filepath.Join(workDir, "etcd")
	return nil
}

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after envtest's stop timeout), leaving
// etcd running: clients then get "connection refused", as when the API server of a cluster restarts.
// StartAPIServer brings it back.
//
// kube-apiserver stops listening at once on SIGTERM but takes 20 s and more to exit (it drains its
// requests and watches), so it is killed (SIGKILL) instead, as a crash would end it; for the
// clients the result is the same: connection refused.
func (e *Env) StopAPIServer() error {
	as := e.Environment.ControlPlane.APIServer
	pid, err := findProcess("kube-apiserver", "--cert-dir="+as.CertDir)
	if err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing kube-apiserver (pid %d): %w", pid, err)
	}
	// envtest reaps the process and forgets it.
	if err := as.Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// findProcess returns the pid of the running process whose executable's base name is name and one of
// whose arguments is arg (Linux: /proc).
func findProcess(name, arg string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("finding the %s process: %w", name, err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if filepath.Base(args[0]) == name && slices.Contains(args[1:], arg) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no running %s with argument %s", name, arg)
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same address, with the same
// certificates and etcd, so that Env.Config, Env.Client and every client built before keep working;
// it returns once /healthz answers (within the start timeout, WithStartTimeout).
func (e *Env) StartAPIServer() error {
	if err := e.Environment.ControlPlane.APIServer.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// StopEtcd stops etcd, leaving kube-apiserver running (its requests then fail, its watches end).
// StartEtcd brings it back with its data.
func (e *Env) StopEtcd() error {
	if err := e.Environment.ControlPlane.Etcd.Stop(); err != nil {
		return fmt.Errorf("stopping etcd: %w", err)
	}
	return nil
}

// StartEtcd starts etcd again after StopEtcd, on the same client address and with the same data.
func (e *Env) StartEtcd() error {
	if err := e.Environment.ControlPlane.Etcd.Start(); err != nil {
		return fmt.Errorf("starting etcd again: %w", err)
	}
	return nil
}
