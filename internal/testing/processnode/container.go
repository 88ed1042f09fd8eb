package processnode

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// container is one container of a pod and its current process, if any. Fields are owned by the
// pod worker, except those under mu, which the process' waiter sets.
type container struct {
	name         string
	restartCount int
	imageID      string
	env          []string // the running process' environment, for exec hooks
	last         *corev1.ContainerStateTerminated
	pullEvent    bool

	waitingReason  string
	waitingMessage string
	waitingUntil   time.Time

	ready     atomic.Bool // the readiness probe's verdict (see probeReadiness)
	lost      bool        // started by an earlier process node run; never runs again here
	pid       int
	startedAt time.Time
	done      chan struct{} // closed when the process has exited

	mu         sync.Mutex
	finished   bool
	exitCode   int
	signaled   string
	reason     string
	message    string
	finishedAt time.Time
}

// The log of each container run is <pod dir>/containers/<name>/<restart count>.log, in the CRI
// format: "<RFC 3339 time> <stdout|stderr> <F|P> <text>", P marking a line cut at 16 KiB.
func logPath(dir string, restart int) string {
	return filepath.Join(dir, strconv.Itoa(restart)+".log")
}

func (c *container) running() bool {
	if c.done == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

func (c *container) exited() bool {
	if c.lost {
		return true
	}
	if c.done == nil {
		return false
	}
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *container) id() string { return fmt.Sprintf("processnode://%d", c.pid) }

func (c *container) reset() {
	c.pid, c.done, c.startedAt, c.lost = 0, nil, time.Time{}, false
	c.ready.Store(false)
	c.mu.Lock()
	c.finished, c.exitCode, c.signaled, c.reason, c.message, c.finishedAt = false, 0, "", "", "", time.Time{}
	c.mu.Unlock()
	c.waitingReason, c.waitingMessage = "", ""
}

func (c *container) terminatedState() *corev1.ContainerStateTerminated {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &corev1.ContainerStateTerminated{
		ExitCode:   int32(c.exitCode),
		Reason:     c.reason,
		Message:    c.message,
		FinishedAt: metav1.NewTime(c.finishedAt),
	}
	if !c.startedAt.IsZero() {
		t.StartedAt = metav1.NewTime(c.startedAt)
		t.ContainerID = c.id()
	}
	return t
}

func (c *container) signal(sig syscall.Signal) {
	if c.pid > 0 {
		_ = syscall.Kill(c.pid, sig)
	}
}

// start writes the spec to dir and starts the container init on it; wake is called when the
// process exits.
func (c *container) start(initBinary, dir string, spec *ContainerSpec, wake func()) error {
	c.waitingReason, c.waitingMessage, c.waitingUntil = "", "", time.Time{}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, data, 0o600); err != nil {
		return err
	}
	logFile, err := os.Create(logPath(dir, c.restartCount))
	if err != nil {
		return err
	}
	cmd := containerCommand(initBinary, specPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return err
	}
	// The child gets SIGKILL when the thread that forked it ends (containerCommand's Pdeathsig), so
	// it is forked from a thread that this goroutine holds until the child has been reaped.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.pid = cmd.Process.Pid
		c.startedAt = time.Now().Truncate(time.Second)
		c.done = make(chan struct{})
		started <- nil
		c.wait(cmd, logFile, stdout, stderr, wake)
	}()
	if err := <-started; err != nil {
		logFile.Close()
		return err
	}
	return nil
}

// wait copies the container's output into its log, reaps it, records how it ended, closes
// c.done and calls wake.
func (c *container) wait(cmd *exec.Cmd, logFile *os.File, stdout, stderr io.Reader, wake func()) {
	var logMu sync.Mutex
	var copies sync.WaitGroup
	copies.Add(2)
	go copyLog(&copies, &logMu, logFile, stdout, "stdout")
	go copyLog(&copies, &logMu, logFile, stderr, "stderr")
	copies.Wait()
	err := cmd.Wait()
	logFile.Close()
	c.mu.Lock()
	c.finished = true
	c.finishedAt = time.Now().Truncate(time.Second)
	c.exitCode, c.reason = 0, "Completed"
	if err != nil {
		c.exitCode, c.reason = 1, "Error"
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			switch {
			case st.Signaled():
				// As container runtimes report it: 128 + the signal number.
				c.exitCode = 128 + int(st.Signal())
				c.signaled = st.Signal().String()
			case st.Exited():
				c.exitCode = st.ExitStatus()
			}
		}
		if c.exitCode == 128 {
			c.reason = "StartError"
		}
	}
	c.mu.Unlock()
	close(c.done)
	wake()
}

// copyLog copies one stream of a container into its log file, a CRI-format line at a time.
func copyLog(wg *sync.WaitGroup, mu *sync.Mutex, out io.Writer, in io.Reader, stream string) {
	defer wg.Done()
	r := bufio.NewReaderSize(in, 16*1024)
	for {
		line, isPrefix, err := r.ReadLine()
		if len(line) > 0 || (err == nil && !isPrefix) {
			tag := "F"
			if isPrefix {
				tag = "P"
			}
			mu.Lock()
			fmt.Fprintf(out, "%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, tag, line)
			mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}
