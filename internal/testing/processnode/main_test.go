package processnode

import (
	"os"
	"testing"
)

// TestMain: the test binary is also the init of the containers that TestThreadsOutliveTheirChildren
// starts. The tests with an API server are in test/integration/processnode.
func TestMain(m *testing.M) {
	MaybeRunInit()
	os.Exit(m.Run())
}
