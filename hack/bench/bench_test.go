package main

import (
	"strings"
	"testing"
)

func TestKillThreshold(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  bool
	}{
		{"", 0, false}, {"50%", 500, false}, {"100%", 1000, false}, {"250", 250, false},
		{"0%", 0, true}, {"101%", 0, true}, {"0", 0, true}, {"1001", 0, true}, {"x", 0, true},
	} {
		got, err := (&options{n: 1000, killLeaderAfter: tc.in}).killThreshold()
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%q: got %d, %v", tc.in, got, err)
		}
	}
}

func TestOperatorEnvFlag(t *testing.T) {
	o, err := parseFlags([]string{"-operator-env", "GOMEMLIMIT=250MiB  GOGC=50"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(o.operatorEnv); len(got) != 2 || got[0] != "GOMEMLIMIT=250MiB" || got[1] != "GOGC=50" {
		t.Errorf("operator environment %q", got)
	}
	if got := envPrefix(o.operatorEnv); got != "GOMEMLIMIT=250MiB GOGC=50 " {
		t.Errorf("envPrefix = %q", got)
	}
	for _, bad := range []string{"GOGC", "=50", "GOGC=50 x"} {
		if _, err := parseFlags([]string{"-operator-env", bad}); err == nil {
			t.Errorf("-operator-env %q accepted", bad)
		}
	}
}

func TestMemStats(t *testing.T) {
	m, err := parseMemStats([]byte(`{"cmdline":["x"],"memstats":{"HeapAlloc":10485760,"HeapInuse":20971520,"HeapIdle":8388608,"HeapReleased":4194304,"StackInuse":1048576,"Sys":52428800,"NextGC":31457280,"NumGC":7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.held() != 46<<20 {
		t.Errorf("held = %d", m.held())
	}
	want := "heap objects 10.0 MiB, heap in use 20.0 MiB, heap idle not released 4.0 MiB, stacks 1.0 MiB, held from the OS 46.0 MiB, next GC at 30.0 MiB, 7 GCs"
	if got := m.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
}
