package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteTableCreatesAppendsAndReplaces(t *testing.T) {
	tbl := Table{Begin: "<!-- begin -->", End: "<!-- end -->", Header: []string{"| date | command | result |", "|---|---|---|"}, Title: "# Benchmarks\n\n"}
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	row := func(cmd, result string) string { return "| 2026-01-01 00:00 | `" + cmd + "` | " + result + " |" }
	if err := tbl.Write(path, row("go run ./hack/bench -n 1", "a")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Write(path, row("go run ./hack/bench -n 2", "b")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Write(path, row("go run ./hack/bench -n 1", "c")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"# Benchmarks", tbl.Begin, tbl.End, tbl.Header[0],
		row("go run ./hack/bench -n 1", "c") + "\n" + row("go run ./hack/bench -n 2", "b") + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "| a |") || strings.Count(text, tbl.Header[0]) != 1 {
		t.Errorf("row not replaced or header repeated:\n%s", text)
	}

	// Text around the table is kept.
	if err := os.WriteFile(path, []byte("# Notes\n\nbefore\n\n"+tbl.Begin+"\n"+tbl.End+"\n\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Write(path, row("x", "y")); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if text := string(data); !strings.HasPrefix(text, "# Notes\n\nbefore\n\n") || !strings.HasSuffix(text, "\nafter\n") || !strings.Contains(text, row("x", "y")) {
		t.Errorf("surrounding text changed:\n%s", text)
	}
}

func TestWriteRowsReplacesAGroup(t *testing.T) {
	tbl := Table{Begin: "<!-- begin -->", End: "<!-- end -->", Header: []string{"| date | command | client |", "|---|---|---|"}}
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	row := func(cmd, client string) string { return "| d | `" + cmd + "` | " + client + " |" }
	for _, group := range [][]string{
		{row("a", "1"), row("a", "2")},
		{row("b", "1")},
		{row("a", "3")},
	} {
		if err := tbl.WriteRows(path, group); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := tbl.Begin + "\n" + strings.Join(tbl.Header, "\n") + "\n" + row("a", "3") + "\n" + row("b", "1") + "\n" + tbl.End
	if !strings.Contains(string(data), want) {
		t.Errorf("got:\n%s\nwant:\n%s", data, want)
	}
}

func TestQuantiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	q := NewQuantiles(d, 2)
	if q.P50 != 50*time.Millisecond || q.P90 != 90*time.Millisecond || q.P99 != 99*time.Millisecond || q.Max != 100*time.Millisecond {
		t.Errorf("got %+v", q)
	}
	if got, want := q.String(), "50/90/99 ms (2 missing)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := NewQuantiles(nil, 0).String(); got != "n/a" {
		t.Errorf("empty: %q", got)
	}
}

func TestCommandLineQuotes(t *testing.T) {
	got := CommandLine("go run ./hack/bench", []string{"-n", "10", "-operator-flags", "--a=1 --b=2", "-kill-leader-after", "50%"})
	if want := "go run ./hack/bench -n 10 -operator-flags '--a=1 --b=2' -kill-leader-after 50%"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
