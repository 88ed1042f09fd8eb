package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteTableCreatesAppendsAndReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	row := func(cmd, result string) string { return "| 2026-01-01 00:00 | `" + cmd + "` | " + result + " |" }
	if err := writeTable(path, row("go run ./hack/bench -n 1", "a")); err != nil {
		t.Fatal(err)
	}
	if err := writeTable(path, row("go run ./hack/bench -n 2", "b")); err != nil {
		t.Fatal(err)
	}
	if err := writeTable(path, row("go run ./hack/bench -n 1", "c")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"# Benchmarks", tableBegin, tableEnd, tableHeader[0],
		row("go run ./hack/bench -n 1", "c") + "\n" + row("go run ./hack/bench -n 2", "b") + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "| a |") || strings.Count(text, tableHeader[0]) != 1 {
		t.Errorf("row not replaced or header repeated:\n%s", text)
	}

	// Text around the table is kept.
	if err := os.WriteFile(path, []byte("# Notes\n\nbefore\n\n"+tableBegin+"\n"+tableEnd+"\n\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeTable(path, row("x", "y")); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if text := string(data); !strings.HasPrefix(text, "# Notes\n\nbefore\n\n") || !strings.HasSuffix(text, "\nafter\n") || !strings.Contains(text, row("x", "y")) {
		t.Errorf("surrounding text changed:\n%s", text)
	}
}

func TestQuantiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	q := newQuantiles(d, 2)
	if q.p50 != 50*time.Millisecond || q.p90 != 90*time.Millisecond || q.p99 != 99*time.Millisecond || q.max != 100*time.Millisecond {
		t.Errorf("got %+v", q)
	}
	if got, want := q.String(), "50/90/99 ms (2 missing)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := newQuantiles(nil, 0).String(); got != "n/a" {
		t.Errorf("empty: %q", got)
	}
}

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

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.peakRSS <= 0 || s.rss <= 0 || s.cpu < 0 {
		t.Errorf("implausible: %+v", s)
	}
}

func TestScrapeParsing(t *testing.T) {
	l := parseLabels(`code="201",component="apiserver",resource="pods",subresource="",verb="POST"`)
	if l["code"] != "201" || l["resource"] != "pods" || l["verb"] != "POST" || l["subresource"] != "" {
		t.Errorf("got %v", l)
	}
	got := perApp(requestCounts{"POST pods": 10}, requestCounts{"POST pods": 30, "POST events": 60}, 10)
	if want := "8.0 in all: POST events 6.0, POST pods 2.0"; got != want {
		t.Errorf("perApp = %q, want %q", got, want)
	}
}

func TestCommandLineQuotes(t *testing.T) {
	got := commandLine([]string{"-n", "10", "-operator-flags", "--a=1 --b=2", "-kill-leader-after", "50%"})
	if want := "go run ./hack/bench -n 10 -operator-flags '--a=1 --b=2' -kill-leader-after 50%"; got != want {
		t.Errorf("got %q, want %q", got, want)
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
