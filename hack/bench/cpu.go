package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuSnapshot is the CPU time used so far by each process of interest (the control plane's
// components, the benchmark itself) and by the whole machine, to show where the time of a run went.
type cpuSnapshot struct {
	at        time.Time
	processes map[string]time.Duration
	machine   time.Duration // busy time of all CPUs (/proc/stat), any process
	loadavg   string
}

// components are the kwok cluster's processes, as named by kwokctl's pid files.
var components = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok-controller"}

// takeCPUSnapshot reads the CPU time of the cluster's components (pids in
// .cache/kwok/clusters/<name>/pids/), of the benchmark and of the machine.
func takeCPUSnapshot(c *cluster) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), processes: map[string]time.Duration{}}
	for _, name := range components {
		b, err := os.ReadFile(filepath.Join(c.workDir(), "clusters", c.name, "pids", name+".pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		if p, err := readProc(pid); err == nil {
			s.processes[name] = p.cpu
		}
	}
	if p, err := readProc(os.Getpid()); err == nil {
		s.processes["bench"] = p.cpu
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		var busy int64
		for i, v := range f[1:] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			if i >= 8 { // guest, guest_nice are included in user and nice
				break
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			busy += n
		}
		s.machine = time.Duration(busy * int64(time.Second) / clockTicks())
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			s.loadavg = strings.Join(f[:3], " ")
		}
	}
	return s
}

// cpuBreakdown is the CPU time spent between two snapshots, by process.
type cpuBreakdown struct {
	wall      time.Duration
	processes map[string]time.Duration
	operator  time.Duration
	machine   time.Duration
	loadavg   string // at the end
}

func breakdown(a, b cpuSnapshot, operatorCPU time.Duration) cpuBreakdown {
	d := cpuBreakdown{wall: b.at.Sub(a.at), processes: map[string]time.Duration{}, operator: operatorCPU,
		machine: b.machine - a.machine, loadavg: b.loadavg}
	for name, t := range b.processes {
		if t0, ok := a.processes[name]; ok {
			d.processes[name] = t - t0
		}
	}
	return d
}

// String is e.g. "wall 25s, 2 CPUs busy 78%: operator 2.8s, kube-apiserver 20.1s, etcd 3.0s, ..., other processes 10.2s".
func (d cpuBreakdown) String() string {
	short := map[string]string{"kube-apiserver": "apiserver", "kube-controller-manager": "kcm", "kube-scheduler": "scheduler", "kwok-controller": "kwok"}
	parts := []string{fmt.Sprintf("operator %.1fs", d.operator.Seconds())}
	ours := d.operator
	for _, name := range append(append([]string{}, components...), "bench") {
		t, ok := d.processes[name]
		if !ok {
			continue
		}
		ours += t
		if s, ok := short[name]; ok {
			name = s
		}
		parts = append(parts, fmt.Sprintf("%s %.1fs", name, t.Seconds()))
	}
	parts = append(parts, fmt.Sprintf("everything else on the machine %.1fs", max(0, d.machine-ours).Seconds()))
	capacity := d.wall * time.Duration(numCPU())
	busy := 0.0
	if capacity > 0 {
		busy = 100 * float64(d.machine) / float64(capacity)
	}
	return fmt.Sprintf("CPU over %.0fs of wall time (%d CPUs %.0f%% busy, load average %s): %s",
		d.wall.Seconds(), numCPU(), busy, d.loadavg, strings.Join(parts, ", "))
}

// numCPU is the number of CPUs the machine has (not limited to the process's affinity).
func numCPU() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}
