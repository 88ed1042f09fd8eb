// Package harness is the command boilerplate hack/bench and hack/chaos share: flags, signal
// handling, exit codes and progress lines.
package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sparkop/spark-operator/hack/bench/report"
)

// Main runs a command named name ("bench"): it parses os.Args[1:] with parse, then calls run with a
// context cancelled on SIGINT or SIGTERM and the command line for the report ("go run ./hack/<name>
// <args>"), and exits: 0 after -h, 2 on a flag error ("<name>: <error>"), 1 when run fails
// ("<name>: FAILED: <error>"). It returns when run succeeds.
func Main[O any](name string, parse func(args []string) (O, error), run func(ctx context.Context, opts O, command string) error) {
	opts, err := parse(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, report.CommandLine("go run ./hack/"+name, os.Args[1:])); err != nil {
		fmt.Fprintf(os.Stderr, "%s: FAILED: %v\n", name, err)
		stop()
		os.Exit(1)
	}
}

// Logf returns a printer of progress lines on standard error: "<name>: <hh:mm:ss.mmm> <message>".
func Logf(name string) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s: %s %s\n", name, time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

// NewFlagSet returns the flag set of `go run ./hack/<name>`: errors are returned (flag.ContinueOnError)
// and -h prints "Usage: go run ./hack/<name> [flags]", about, and the flags.
func NewFlagSet(name, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./hack/%s [flags]\n\n%s\n\nFlags:\n", name, about)
		fs.PrintDefaults()
	}
	return fs
}

// OutPath is the file an -out flag names: out itself when absolute, else out under the repository
// root (root), so that a command run from any directory writes the same file.
func OutPath(root, out string) string {
	if filepath.IsAbs(out) {
		return out
	}
	return filepath.Join(root, out)
}
