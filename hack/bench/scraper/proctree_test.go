package scraper

import (
	"os"
	"os/exec"
	"testing"
)

func TestChildCPUAndTree(t *testing.T) {
	// A child that burns a little CPU, then exits and is waited for: its CPU lands in cutime/cstime.
	before, err := ChildCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	after, err := ChildCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("children's CPU %s -> %s: the child's CPU is missing", before, after)
	}
	// A running child is in the tree and its RSS counts.
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	if d := Descendants(os.Getpid(), ParentOf()); len(d) < 2 || d[0] != os.Getpid() {
		t.Errorf("descendants %v: want this process and the sleep", d)
	}
	self, _ := ReadProc(os.Getpid())
	if tree := TreeRSS(os.Getpid()); tree <= self.RSS {
		t.Errorf("tree RSS %d not above this process's %d", tree, self.RSS)
	}
}
