package framework

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Process is a program that a test starts and stops: kube-controller-manager here; the operator
// binary, kube-scheduler, kwok and Kueue in the suites. Its standard output and error go to a log
// file.
type Process struct {
	// Name names the program in messages, e.g. "kube-scheduler".
	Name string
	// LogPath is the file that holds the program's standard output and error.
	LogPath string
	// Cmd is the started command.
	Cmd *exec.Cmd

	logFile  *os.File
	done     chan struct{} // closed when the process has exited; waitErr is then set
	exited   atomic.Bool   // set just before done is closed
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// StartProcess starts cmd in its own process group (on Linux, killed with the test binary), its
// standard output and error written to logPath (created or truncated) and also to cmd.Stdout when
// the caller set it. name is used in messages. It returns once the process has started; the caller
// stops it with Stop.
func StartProcess(name, logPath string, cmd *exec.Cmd) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var w io.Writer = logFile
	if cmd.Stdout != nil {
		w = io.MultiWriter(logFile, cmd.Stdout)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, cmd.Path, err)
	}
	p := &Process{Name: name, LogPath: logPath, Cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		p.exited.Store(true)
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited; Err then returns how.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is cmd.Wait's error once Done is closed (nil for exit status 0, an *exec.ExitError otherwise);
// nil while the process runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool { return p.exited.Load() }

// Stop sends SIGTERM to the process group and waits up to grace for the process to exit; then it
// sends SIGKILL and waits again. It returns an error only when SIGTERM could not be sent or the
// process had to be killed; Err tells how it exited. Later calls return the first call's result.
// It closes the log file.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		defer func() { _ = p.logFile.Close() }()
		if p.Exited() {
			return
		}
		if err := terminate(p.Cmd.Process, false); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("stopping %s: %w", p.Name, err)
			_ = terminate(p.Cmd.Process, true)
			<-p.done
			return
		}
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = terminate(p.Cmd.Process, true)
			<-p.done
			p.stopErr = fmt.Errorf("%s did not stop within %s of SIGTERM; killed it", p.Name, grace)
		}
	})
	return p.stopErr
}

// Log returns the process's output so far (or why it cannot be read).
func (p *Process) Log() string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.LogPath, err)
	}
	return string(data)
}

// LogTail returns the last n lines of the process's output.
func (p *Process) LogTail(n int) string {
	lines := bytes.Split(bytes.TrimRight([]byte(p.Log()), "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(string(bytes.Join(lines, []byte("\n"))))
}
