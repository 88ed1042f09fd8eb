//go:build unix && !linux

package framework

import "syscall"

// sysProcAttr puts a child process in its own process group, so that signals reach all of it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
