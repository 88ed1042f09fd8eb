package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/report"
)

// result is what a chaos run found.
type result struct {
	build     string
	settled   bool
	faultsEnd time.Time
	duration  time.Duration

	apps     int            // applications created (the load, canaries)
	outcomes map[string]int // final state by kind, e.g. "complete COMPLETED"
	faults   []*fault

	lost, neverTerminal, notDeleted []string
	doubleDriver, tooManyAttempts   []string
	stuck, falselyFailed            []string
	wrongOutcome                    []string // not a violation of "loses nothing", reported
	operatorExits                   int
	controlPlaneRestarts            string // components that exited on their own and were restarted
	details                         []string
}

// check judges the run from the tracks, the final list of applications and the faults.
func check(o *options, tracks map[string]appTrack, apps map[string]v1beta2.SparkApplication, faults []*fault, sup *supervisor) *result {
	r := &result{outcomes: map[string]int{}, faults: faults}
	keys := make([]string, 0, len(tracks))
	for k := range tracks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		a := tracks[key]
		if !a.created {
			continue
		}
		r.apps++
		app, exists := apps[key]
		if a.deleted {
			r.outcomes[string(a.kind)+" deleted"]++
			if exists {
				r.notDeleted = append(r.notDeleted, key)
			}
			// Its driver ran, so the attempt checks still apply below.
		} else if !exists {
			r.lost = append(r.lost, key)
			continue
		}
		state := app.Status.AppState.State
		if !a.deleted {
			r.outcomes[string(a.kind)+" "+stateName(state)]++
			if !terminal(state) {
				r.neverTerminal = append(r.neverTerminal, fmt.Sprintf("%s (%s)", key, state))
			}
		}
		if a.doubleDriver {
			r.doubleDriver = append(r.doubleDriver, key)
		}
		if exists {
			if allowed := a.kind.maxAttempts() + a.disruptions; app.Status.ExecutionAttempts > allowed {
				r.tooManyAttempts = append(r.tooManyAttempts, fmt.Sprintf("%s (%d attempts, %d allowed)", key, app.Status.ExecutionAttempts, allowed))
			}
		}
		if !a.deleted && terminal(state) {
			failed := state != v1beta2.ApplicationStateCompleted
			switch {
			case a.kind.expectsSuccess() && failed && a.disruptions == 0:
				r.falselyFailed = append(r.falselyFailed, fmt.Sprintf("%s (%s: %s)", key, state, shorten(app.Status.AppState.ErrorMessage)))
			case a.kind == kindFailRetry && !failed && a.disruptions == 0:
				r.wrongOutcome = append(r.wrongOutcome, fmt.Sprintf("%s (%s)", key, state))
			}
		}
		if s := stuckIn(o, a, tracks, faults); s != "" {
			r.stuck = append(r.stuck, key+" "+s)
		}
	}
	for _, f := range faults {
		r.operatorExits += f.exits
	}
	for _, list := range []struct {
		name string
		keys []string
	}{{"lost", r.lost}, {"never terminal", r.neverTerminal}, {"deleted but still present", r.notDeleted},
		{"two drivers at once", r.doubleDriver}, {"too many attempts", r.tooManyAttempts}, {"stuck", r.stuck},
		{"falsely FAILED", r.falselyFailed}, {"fail-retry applications that completed", r.wrongOutcome}} {
		if len(list.keys) > 0 {
			r.details = append(r.details, fmt.Sprintf("%s: %s", list.name, firstFew(list.keys)))
		}
	}
	for _, f := range faults {
		d, ok := f.recovery()
		rec := "not recovered within the bound"
		if ok {
			rec = fmt.Sprintf("recovered in %.1fs", d.Seconds())
		}
		if f.err != nil {
			rec = "error: " + f.err.Error()
		}
		r.details = append(r.details, fmt.Sprintf("fault %s at %s (%s): %s; operator exits %d", f.kind, f.start.Format("15:04:05"), f.detail, rec, f.exits))
	}
	return r
}

// stuckIn says how an application held a non-terminal state longer than its policy and the faults
// active meanwhile explain while others overtook it, or "": another application that entered the
// same state later left it earlier by more than that allowance. A backlog the operator works through
// in order (a loaded machine, a new leader's first pass over every application) is slow, not stuck;
// an application left behind is stuck. SUSPENDED waits for the user and is not judged.
func stuckIn(o *options, a appTrack, all map[string]appTrack, faults []*fault) string {
	for i, h := range a.history {
		if terminal(h.state) || h.state == v1beta2.ApplicationStateSuspended || i == len(a.history)-1 {
			continue
		}
		from, to := h.at, a.history[i+1].at
		allowed := o.slack
		switch h.state {
		case v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateRunning:
			allowed += 3 * o.runDuration
		case v1beta2.ApplicationStatePendingRerun:
			allowed += time.Second
		}
		for _, f := range faults {
			end := f.recovered
			if end.IsZero() {
				end = f.end.Add(o.recoveryBound)
			}
			if f.start.Before(to) && end.After(from) {
				allowed += end.Sub(f.start)
			}
		}
		if to.Sub(from) <= allowed {
			continue
		}
		for _, b := range all {
			for j, g := range b.history {
				if g.state != h.state || j == len(b.history)-1 || !g.at.After(from) {
					continue
				}
				if left := b.history[j+1].at; left.Add(allowed).Before(to) {
					return fmt.Sprintf("(%s for %.0fs, %.0fs explained, overtaken by one that entered %.0fs later and left %.0fs earlier)",
						stateName(h.state), to.Sub(from).Seconds(), allowed.Seconds(), g.at.Sub(from).Seconds(), to.Sub(left).Seconds())
				}
			}
		}
	}
	return ""
}

func stateName(s v1beta2.ApplicationStateType) string {
	if s == "" {
		return "new"
	}
	return string(s)
}

// recoveries is the recovery per kind of fault: "kind xN: canary median/max s, acting again
// median/max s".
func (r *result) recoveries() []string {
	var out []string
	for _, k := range faultKinds {
		var canary, acting []time.Duration
		n, missing := 0, 0
		for _, f := range r.faults {
			if f.kind != k {
				continue
			}
			n++
			if rec, ok := f.recovery(); ok && f.err == nil {
				canary = append(canary, rec)
			} else {
				missing++
			}
			if !f.acting.IsZero() && f.err == nil {
				acting = append(acting, f.acting.Sub(f.end))
			}
		}
		if n == 0 {
			continue
		}
		text := func(d []time.Duration) string {
			if len(d) == 0 {
				return "none"
			}
			q := report.NewQuantiles(d, 0)
			return fmt.Sprintf("%.1f/%.1f s", q.P50.Seconds(), q.Max.Seconds())
		}
		s := fmt.Sprintf("%s x%d: %s", k, n, text(canary))
		if missing > 0 {
			s += fmt.Sprintf(" (%d not within the bound)", missing)
		}
		s += ", acting again " + text(acting)
		out = append(out, s)
	}
	return out
}

// violations is the error message of a run that lost something, or "".
func (r *result) violations() string {
	var v []string
	add := func(name string, list []string) {
		if len(list) > 0 {
			v = append(v, fmt.Sprintf("%d %s", len(list), name))
		}
	}
	add("lost", r.lost)
	add("never terminal", r.neverTerminal)
	add("deleted but still present", r.notDeleted)
	add("with two drivers at once", r.doubleDriver)
	add("with too many attempts", r.tooManyAttempts)
	add("stuck", r.stuck)
	add("falsely FAILED", r.falselyFailed)
	for _, f := range r.faults {
		if f.err != nil {
			v = append(v, fmt.Sprintf("fault %s could not be injected: %v", f.kind, f.err))
		}
	}
	return strings.Join(v, "; ")
}

// checks is the correctness part of the summary.
func (r *result) checks() string {
	return fmt.Sprintf("lost or never terminal %d, two drivers or too many attempts %d, stuck %d, falsely FAILED %d",
		len(r.lost)+len(r.neverTerminal)+len(r.notDeleted), len(r.doubleDriver)+len(r.tooManyAttempts), len(r.stuck), len(r.falselyFailed))
}

func (r *result) outcomeText() string {
	keys := make([]string, 0, len(r.outcomes))
	for k := range r.outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.outcomes[k]))
	}
	return strings.Join(parts, ", ")
}

// line is the one-line summary.
func (r *result) line() string {
	return fmt.Sprintf("chaos: operator %s apps=%d faults=%d in %.0fs | %s | recovery median/max: %s | operator exits on its own %d | control plane restarted after exiting on its own: %s | outcomes: %s",
		r.build, r.apps, len(r.faults), r.duration.Seconds(), r.checks(), strings.Join(r.recoveries(), ", "), r.operatorExits, r.controlPlaneRestarts, r.outcomeText())
}

var chaosTable = report.Table{
	Begin: "<!-- chaos results: begin (written by hack/chaos -out; a row is replaced when its command is run again) -->",
	End:   "<!-- chaos results: end -->",
	Header: []string{
		"| date | command | operator | applications | faults | lost or never terminal | two drivers or too many attempts | stuck | falsely FAILED | recovery per fault, median/max (target 5 s) | operator exits on its own | outcomes |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|",
	},
	Title: "# Benchmarks\n\n",
}

func (r *result) row(command string) string {
	return report.Cells(
		time.Now().Format("2006-01-02 15:04"),
		"`"+command+"`",
		r.build,
		fmt.Sprint(r.apps),
		fmt.Sprint(len(r.faults)),
		fmt.Sprint(len(r.lost)+len(r.neverTerminal)+len(r.notDeleted)),
		fmt.Sprint(len(r.doubleDriver)+len(r.tooManyAttempts)),
		fmt.Sprint(len(r.stuck)),
		fmt.Sprint(len(r.falselyFailed)),
		strings.Join(r.recoveries(), "; "),
		fmt.Sprint(r.operatorExits),
		r.outcomeText(),
	)
}

func firstFew(list []string) string {
	if len(list) > 8 {
		return strings.Join(list[:8], ", ") + fmt.Sprintf(", ... (%d in all)", len(list))
	}
	return strings.Join(list, ", ")
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
