// Command pprofoperator is the spark-operator command (cmd/spark-operator) with net/http/pprof served
// on the address in $SPARKOP_BENCH_PPROF_ADDR, for profiling the operator under load with
// `go run ./hack/bench -pprof` without changing the operator itself.
package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"

	"github.com/sparkop/spark-operator/internal/operatorcmd"
)

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
