//go:build unix

package framework

import (
	"os"
	"syscall"
)

// terminate sends SIGTERM (or SIGKILL when kill is set) to the process group of p.
func terminate(p *os.Process, kill bool) error {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		if err == syscall.ESRCH {
			return os.ErrProcessDone
		}
		return err
	}
	return nil
}
