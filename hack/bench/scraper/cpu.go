package scraper

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/cluster"
)

// CPUSnapshot is the CPU time used so far by each process of interest (the control plane's
// components, the benchmark itself) and by the whole machine, to show where the time of a run went.
type CPUSnapshot struct {
	at        time.Time
	self      string
	processes map[string]time.Duration
	machine   time.Duration // busy time of all CPUs (/proc/stat), any process
	loadavg   string
}

// TakeCPUSnapshot reads the CPU time of the cluster's components (cluster.Components), of this
// process (named self, e.g. "bench") and of the machine.
func TakeCPUSnapshot(c *cluster.Cluster, self string) CPUSnapshot {
	s := CPUSnapshot{at: time.Now(), self: self, processes: map[string]time.Duration{}}
	for _, name := range cluster.Components {
		pid, err := c.PID(name)
		if err != nil {
			continue
		}
		if p, err := ReadProc(pid); err == nil {
			s.processes[name] = p.CPU
		}
	}
	if p, err := ReadProc(os.Getpid()); err == nil {
		s.processes[self] = p.CPU
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
		s.machine = time.Duration(busy * int64(time.Second) / ClockTicks())
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			s.loadavg = strings.Join(f[:3], " ")
		}
	}
	return s
}

// CPUBreakdown is the CPU time spent between two snapshots, by process.
type CPUBreakdown struct {
	wall      time.Duration
	processes map[string]time.Duration
	operator  time.Duration
	machine   time.Duration
	loadavg   string // at the end
	self      string
}

// Breakdown is the CPU time spent between snapshots a and b, with operatorCPU the operator's.
func Breakdown(a, b CPUSnapshot, operatorCPU time.Duration) CPUBreakdown {
	d := CPUBreakdown{wall: b.at.Sub(a.at), processes: map[string]time.Duration{}, operator: operatorCPU,
		machine: b.machine - a.machine, loadavg: b.loadavg, self: b.self}
	for name, t := range b.processes {
		if t0, ok := a.processes[name]; ok {
			d.processes[name] = t - t0
		}
	}
	return d
}

// String is e.g. "wall 25s, 2 CPUs busy 78%: operator 2.8s, kube-apiserver 20.1s, etcd 3.0s, ..., other processes 10.2s".
func (d CPUBreakdown) String() string {
	short := map[string]string{"kube-apiserver": "apiserver", "kube-controller-manager": "kcm", "kube-scheduler": "scheduler", "kwok-controller": "kwok"}
	parts := []string{fmt.Sprintf("operator %.1fs", d.operator.Seconds())}
	ours := d.operator
	for _, name := range append(append([]string{}, cluster.Components...), d.self) {
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
	capacity := d.wall * time.Duration(NumCPU())
	busy := 0.0
	if capacity > 0 {
		busy = 100 * float64(d.machine) / float64(capacity)
	}
	return fmt.Sprintf("CPU over %.0fs of wall time (%d CPUs %.0f%% busy, load average %s): %s",
		d.wall.Seconds(), NumCPU(), busy, d.loadavg, strings.Join(parts, ", "))
}

// NumCPU is the number of CPUs the machine has (not limited to the process's affinity).
func NumCPU() int {
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

// ProcStats are a process's CPU time and memory.
type ProcStats struct {
	CPU     time.Duration // utime + stime
	PeakRSS int64         // bytes (VmHWM, or ru_maxrss of an exited process)
	RSS     int64         // bytes (VmRSS; 0 once exited)
}

// ClockTicks is the kernel's USER_HZ (`getconf CLK_TCK`), the unit of utime and stime in /proc.
var ClockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
})

// ReadProc reads utime+stime from /proc/<pid>/stat and VmHWM and VmRSS from /proc/<pid>/status.
func ReadProc(pid int) (ProcStats, error) {
	var s ProcStats
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	s.CPU = time.Duration((utime + stime) * int64(time.Second) / ClockTicks())
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		f := strings.Fields(val) // "123456 kB"
		if len(f) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if key == "VmHWM" {
			s.PeakRSS = kb * 1024
		} else {
			s.RSS = kb * 1024
		}
	}
	return s, nil
}
