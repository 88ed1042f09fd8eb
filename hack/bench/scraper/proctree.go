package scraper

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ChildCPU reads cutime+cstime of /proc/<pid>/stat: the CPU time of the process's children that it
// has waited for. Kubeflow's operator runs spark-submit (a shell script and two JVMs) as children and
// waits for each, so their CPU lands here once they exited; our operator has no children (0).
func ChildCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields, err := statFields(stat)
	// fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
	if err != nil || len(fields) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	cu, err1 := strconv.ParseInt(fields[13], 10, 64)
	cs, err2 := strconv.ParseInt(fields[14], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration((cu + cs) * int64(time.Second) / ClockTicks()), nil
}

// statFields are the fields of a /proc/<pid>/stat line after the command name, which is in
// parentheses and may contain spaces: fields[0] is field 3 (state), fields[1] field 4 (ppid).
func statFields(stat []byte) ([]string, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, errors.New("unexpected format")
	}
	return strings.Fields(string(stat[i+1:])), nil
}

// ParentOf returns the parent pid of every process in /proc.
func ParentOf() map[int]int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parents := make(map[int]int, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f, err := statFields(stat)
		if err != nil || len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			parents[pid] = ppid
		}
	}
	return parents
}

// Descendants returns root and every process below it, given each process's parent (ParentOf).
func Descendants(root int, parents map[int]int) []int {
	children := map[int][]int{}
	for pid, ppid := range parents {
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// TreeRSS is the summed VmRSS of root and its descendants, in bytes.
func TreeRSS(root int) int64 {
	var sum int64
	for _, pid := range Descendants(root, ParentOf()) {
		if s, err := ReadProc(pid); err == nil {
			sum += s.RSS
		}
	}
	return sum
}
