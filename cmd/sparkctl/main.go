// Command sparkctl creates, follows and manages Spark applications run by the Spark operator
// (sparkoperator.k8s.io/v1beta2). Built or installed under the name kubectl-sparkapp, it is also the
// kubectl plugin `kubectl sparkapp`:
//
//	go build -o bin/sparkctl ./cmd/sparkctl
//	go build -o ~/.local/bin/kubectl-sparkapp ./cmd/sparkctl   # then: kubectl sparkapp list
//
// See docs/sparkctl.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sparkop/spark-operator/internal/sparkctl"
)

func main() {
	// Ctrl-C (or SIGTERM) cancels the command's context: uploads are aborted and rolled back, and
	// follow, watch and forward end cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	code := sparkctl.Execute(ctx, sparkctl.NewRootCommand(os.Args[0], streams), os.Args[1:])
	stop()
	os.Exit(code)
}
