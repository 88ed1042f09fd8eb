// Command pprofoperator is the spark-operator command (cmd/spark-operator) with net/http/pprof and
// expvar (/debug/vars, the runtime's MemStats) served on the address in $SPARKOP_BENCH_PPROF_ADDR, for
// profiling the operator under load with `go run ./hack/bench -pprof` without changing the operator
// itself.
package main

import (
	_ "expvar" // registers /debug/vars (memstats) on http.DefaultServeMux
	"fmt"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"runtime"

	"github.com/sparkop/spark-operator/internal/operatorcmd"
)

// memProfileRate is one heap profile sample per this many bytes allocated. The runtime's default,
// 512 KiB, leaves a heap of a few tens of MB with a few dozen samples, too coarse to tell the cached
// objects apart; this costs a little more CPU per allocation.
const memProfileRate = 16 << 10

func init() {
	runtime.MemProfileRate = memProfileRate
}

func main() {
	if addr := os.Getenv("SPARKOP_BENCH_PPROF_ADDR"); addr != "" {
		go func() {
			if err := http.ListenAndServe(addr, nil); err != nil {
				fmt.Fprintln(os.Stderr, "pprof:", err)
			}
		}()
	}
	if err := operatorcmd.NewRootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
