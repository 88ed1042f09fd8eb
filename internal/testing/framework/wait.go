package framework

import (
	"testing"
	"time"
)

// PollInterval is how often WaitFor checks its condition.
const PollInterval = 100 * time.Millisecond

// WaitFor polls cond every PollInterval until it returns true or timeout passes; then it fails the
// test with what it waited for and the last description cond gave of what it saw.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() (ok bool, seen string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		time.Sleep(PollInterval)
	}
	tb.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
}
