//go:build linux

package framework

import "syscall"

// sysProcAttr puts a child process in its own process group (so that signals reach all of it) and
// has the kernel kill it if the test binary dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
