//go:build !unix

package framework

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to set outside Unix.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminate kills p: there is no SIGTERM outside Unix.
func terminate(p *os.Process, _ bool) error { return p.Kill() }
