// Command golangci-lint is golangci-lint (pinned by this module's go.mod) with kube-api-linter
// compiled in as the module plugin "kubeapilinter", the same binary `golangci-lint custom` would
// produce, built from the Go module proxy alone. `make lint` builds it into bin/golangci-lint
// (hack/build-golangci-lint.sh) and runs it with the repository's .golangci.yml.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/golangci/golangci-lint/v2/pkg/commands"
	"github.com/golangci/golangci-lint/v2/pkg/exitcodes"

	// Registers kube-api-linter as the module plugin "kubeapilinter" (linters.settings.custom),
	// with its linters (the root package imports both the plugin and the linters' registration).
	_ "sigs.k8s.io/kube-api-linter"
)

func main() {
	info := commands.BuildInfo{Version: "unknown", Commit: "?", Date: "(unknown)", GoVersion: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/golangci/golangci-lint/v2" {
				info.Version = strings.TrimPrefix(dep.Version, "v") + "-sparkop"
			}
		}
	}
	if err := commands.Execute(info); err != nil {
		_, _ = fmt.Fprintf(os.Stderr, "The command is terminated due to an error: %v\n", err)
		os.Exit(exitcodes.Failure)
	}
}
