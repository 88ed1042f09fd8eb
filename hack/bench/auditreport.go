package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/audit"
	"github.com/sparkop/spark-operator/hack/bench/cluster"
	"github.com/sparkop/spark-operator/hack/bench/report"
)

// writeAuditPolicy writes audit.Policy into the run's directory (-audit) and returns its path, for
// cluster.Options.AuditPolicy.
func writeAuditPolicy(work string) (string, error) {
	path := filepath.Join(work, "audit-policy.yaml")
	return path, os.WriteFile(path, []byte(audit.Policy), 0o644)
}

// auditBreakdown is the writes per application by client and resource of a run with -audit.
type auditBreakdown struct {
	clients                []audit.ClientWrites
	all, withoutLeases     float64 // writes per application, all clients
	from, to               time.Time
	requests, applications int
}

// readAudit counts the writes in the cluster's audit log sent in [from, to), per application.
func readAudit(cl *cluster.Cluster, from, to time.Time, n int) (*auditBreakdown, error) {
	f, err := os.Open(cl.AuditLog())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err := audit.Parse(f, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log %s: %w", cl.AuditLog(), err)
	}
	all, noLeases := w.Total()
	return &auditBreakdown{clients: w.PerApp(n), all: float64(all) / float64(n), withoutLeases: float64(noLeases) / float64(n),
		from: from, to: to, requests: all, applications: n}, nil
}

// log prints the breakdown, one line per client.
func (a *auditBreakdown) log() {
	logf("API writes per application by client (audit log, %d writes over %.0fs): %.1f in all, %.1f without Lease renewals",
		a.requests, a.to.Sub(a.from).Seconds(), a.all, a.withoutLeases)
	for _, c := range a.clients {
		logf("  %s", c)
	}
}

// auditTable is the -out table of the breakdowns: one row per client of each -audit run.
var auditTable = report.Table{
	Begin: "<!-- bench audit: begin (written by hack/bench -audit -out; a run's rows are replaced when its command is run again) -->",
	End:   "<!-- bench audit: end -->",
	Header: []string{
		"| date | command | operator | client | writes per application | by resource (per application; a failed request's status code in parentheses) |",
		"|---|---|---|---|---|---|",
	},
}

// rows are the run's rows of auditTable: all clients, then each client with at least 0.05 writes per
// application, largest first.
func (a *auditBreakdown) rows(command, build string) []string {
	date := time.Now().Format("2006-01-02 15:04")
	rows := []string{report.Cells(date, "`"+command+"`", build, "all clients",
		fmt.Sprintf("%.1f (%.1f without Lease renewals)", a.all, a.withoutLeases), fmt.Sprintf("%d writes, %d applications", a.requests, a.applications))}
	for _, c := range a.clients {
		if c.Total < 0.05 {
			continue // e.g. the node controller's few writes in a whole run
		}
		rows = append(rows, report.Cells(date, "`"+command+"`", build, c.Client, fmt.Sprintf("%.1f", c.Total), c.ResourcesText()))
	}
	return rows
}
