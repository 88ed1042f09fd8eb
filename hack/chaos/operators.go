package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/operator"
)

// supervisor runs the operator replicas and restarts one that exits, as a Deployment's kubelet would
// (after restartDelay, without CrashLoopBackOff's growing delay), counting such exits; the run kills
// and restarts replicas itself for its faults.
type supervisor struct {
	bin, kubeconfig, dir string
	flags                []string

	mu       sync.Mutex
	replicas []*operator.Replica
	gen      []int // starts per replica slot, for the log file names
	// exits counts the replicas that exited on their own (not killed by the run).
	exits []exitRecord
}

// exitRecord is an exit of a replica that the run did not cause directly.
type exitRecord struct {
	at      time.Time
	replica int
	err     string
}

const restartDelay = time.Second

func newSupervisor(bin, kubeconfig, dir string, flags []string, replicas int) *supervisor {
	return &supervisor{bin: bin, kubeconfig: kubeconfig, dir: dir, flags: flags,
		replicas: make([]*operator.Replica, replicas), gen: make([]int, replicas)}
}

// start starts replica slot i (s.mu held).
func (s *supervisor) start(i int) error {
	log := filepath.Join(s.dir, fmt.Sprintf("operator-%d-%d.log", i, s.gen[i]))
	s.gen[i]++
	r, err := operator.Start(i, s.bin, s.kubeconfig, log, s.flags, nil, "")
	if err != nil {
		return err
	}
	s.replicas[i] = r
	return nil
}

// run starts every replica and restarts those that exit on their own until ctx ends.
func (s *supervisor) run(ctx context.Context) error {
	s.mu.Lock()
	for i := range s.replicas {
		if err := s.start(i); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Unlock()
	go every(ctx, 200*time.Millisecond, func() {
		s.mu.Lock()
		for i, r := range s.replicas {
			if r == nil || !r.Exited() || killedByRun(r) {
				continue
			}
			s.exits = append(s.exits, exitRecord{at: time.Now(), replica: i, err: lastLine(r.LogPath)})
			logf("operator replica %d exited on its own (%s); restarting it in %s", i, lastLine(r.LogPath), restartDelay)
			s.replicas[i] = nil
			go func() {
				time.Sleep(restartDelay)
				s.mu.Lock()
				defer s.mu.Unlock()
				if ctx.Err() == nil && s.replicas[i] == nil {
					if err := s.start(i); err != nil {
						logf("restarting replica %d: %v", i, err)
					}
				}
			}()
		}
		s.mu.Unlock()
	})
	return nil
}

// killedByRun says whether the run killed r itself (Kill sets that before signalling).
func killedByRun(r *operator.Replica) bool {
	return r.Killed()
}

// kill kills replica i with SIGKILL and, when restart, starts it again at once.
func (s *supervisor) kill(i int, restart bool) (pid int, err error) {
	s.mu.Lock()
	r := s.replicas[i]
	s.mu.Unlock()
	if r != nil {
		pid = r.PID()
		r.Kill()
	}
	if !restart {
		return pid, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return pid, s.start(i)
}

// leader is the slot of the replica that leads now: the live one whose log's last leader election
// line says it acquired the Lease; -1 when none does.
func (s *supervisor) leader() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.replicas {
		if r == nil || r.Exited() {
			continue
		}
		b, err := os.ReadFile(r.LogPath)
		if err != nil {
			continue
		}
		text := strings.ToLower(string(b))
		acquired := strings.LastIndex(text, "successfully acquired lease")
		lost := max(strings.LastIndex(text, "leader election lost"), strings.LastIndex(text, "failed to renew lease"),
			strings.LastIndex(text, "lost the leader lease"))
		if acquired >= 0 && acquired > lost {
			return i
		}
	}
	return -1
}

func (s *supervisor) stopAll() {
	s.mu.Lock()
	rs := append([]*operator.Replica(nil), s.replicas...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range rs {
		if r != nil {
			wg.Go(r.Stop)
		}
	}
	wg.Wait()
}

func (s *supervisor) exitsBetween(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.exits {
		if !e.at.Before(from) && e.at.Before(to) {
			n++
		}
	}
	return n
}

// lastLine is the last non-empty line of a file, shortened.
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	l := lines[len(lines)-1]
	if len(l) > 300 {
		l = l[:300] + "..."
	}
	return l
}
