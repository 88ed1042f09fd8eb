package operatorcmd

import (
	"runtime/debug"
	"testing"

	"github.com/go-logr/logr"
)

// TestSetMemoryLimitRespectsEnvironment: a GOMEMLIMIT or AUTOMEMLIMIT=off in the environment leaves
// the runtime's memory limit as the runtime set it.
func TestSetMemoryLimitRespectsEnvironment(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	for _, env := range [][2]string{{"GOMEMLIMIT", "123MiB"}, {"AUTOMEMLIMIT", "off"}} {
		t.Run(env[0], func(t *testing.T) {
			t.Setenv(env[0], env[1])
			setMemoryLimit(logr.Discard())
			if got := debug.SetMemoryLimit(-1); got != before {
				t.Errorf("memory limit %d after setMemoryLimit with %s=%s, want %d", got, env[0], env[1], before)
			}
		})
	}
}

// TestSetMemoryLimitBadRatio: an AUTOMEMLIMIT that is not a ratio is logged, never fatal.
func TestSetMemoryLimitBadRatio(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	t.Setenv("AUTOMEMLIMIT", "lots")
	setMemoryLimit(logr.Discard())
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("memory limit %d after a bad AUTOMEMLIMIT, want %d", got, before)
	}
}
