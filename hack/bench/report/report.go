// Package report writes the benchmarks' results: latency quantiles, the command line that reproduces
// a run, and a results table in a Markdown file whose rows are replaced when their command is run
// again.
package report

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// Quantiles are latency percentiles over the items that reached an event; Missing counts those that
// did not.
type Quantiles struct {
	P50, P90, P99, Max time.Duration
	Count, Missing     int
}

// NewQuantiles computes the nearest-rank percentiles of d (which it sorts).
func NewQuantiles(d []time.Duration, missing int) Quantiles {
	q := Quantiles{Count: len(d), Missing: missing}
	if len(d) == 0 {
		return q
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[max(0, int(math.Ceil(p*float64(len(d))))-1)] }
	q.P50, q.P90, q.P99, q.Max = at(0.50), at(0.90), at(0.99), d[len(d)-1]
	return q
}

// String is "p50/p90/p99 ms", or seconds when the p99 is 10 s or more, "n/a" when empty.
func (q Quantiles) String() string {
	if q.Count == 0 {
		return "n/a"
	}
	s := ""
	if q.P99 >= 10*time.Second {
		s = fmt.Sprintf("%.1f/%.1f/%.1f s", q.P50.Seconds(), q.P90.Seconds(), q.P99.Seconds())
	} else {
		s = fmt.Sprintf("%d/%d/%d ms", q.P50.Milliseconds(), q.P90.Milliseconds(), q.P99.Milliseconds())
	}
	if q.Missing > 0 {
		s += fmt.Sprintf(" (%d missing)", q.Missing)
	}
	return s
}

// CommandLine is how a run is reproduced, for a results table: prog (e.g. "go run ./hack/bench")
// followed by args, each quoted for a POSIX shell when needed.
func CommandLine(prog string, args []string) string {
	parts := []string{prog}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$|&;<>*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Table is a results table in a Markdown file, between the marker lines Begin and End (HTML
// comments), with the given Header lines (the header row and its separator). Title starts a file
// that does not exist yet. The command of a row is its second cell.
type Table struct {
	Begin, End string
	Header     []string
	Title      string
}

// Cells is a table row made of cells, with "|" in them escaped.
func Cells(cells ...string) string {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// Write puts row into the table in the Markdown file at path, replacing the row with the same
// command, creating the table (and the file) when missing; the text around the table is kept.
func (t Table) Write(path, row string) error { return t.WriteRows(path, []string{row}) }

// WriteRows is Write for a group of rows of one command (the command of rows[0]): every row of that
// command already in the table is removed and the group takes the place of the first of them (or
// goes at the end).
func (t Table) WriteRows(path string, group []string) error {
	if len(group) == 0 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(data)
	if text == "" {
		text = t.Title
	}
	begin, end := strings.Index(text, t.Begin), strings.Index(text, t.End)
	var rows []string
	if begin < 0 || end < begin {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + t.Begin + "\n" + t.End + "\n"
		begin, end = strings.Index(text, t.Begin), strings.Index(text, t.End)
	} else {
		for line := range strings.SplitSeq(text[begin+len(t.Begin):end], "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "|") && !slices.Contains(t.Header, line) {
				rows = append(rows, line)
			}
		}
	}
	cmd := RowCommand(group[0])
	var kept []string
	replaced := false
	for _, r := range rows {
		switch {
		case RowCommand(r) != cmd:
			kept = append(kept, r)
		case !replaced:
			kept, replaced = append(kept, group...), true
		}
	}
	if !replaced {
		kept = append(kept, group...)
	}
	rows = kept
	block := t.Begin + "\n" + strings.Join(t.Header, "\n") + "\n" + strings.Join(rows, "\n") + "\n"
	text = text[:begin] + block + text[end:]
	return os.WriteFile(path, []byte(text), 0o644)
}

// RowCommand is the command cell of a table row.
func RowCommand(row string) string {
	cells := strings.Split(row, " | ")
	if len(cells) < 2 {
		return ""
	}
	return cells[1]
}
