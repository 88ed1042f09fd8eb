package sparkctl

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// BuildVersion is the sparkctl version, set at build time with
// -ldflags "-X github.com/sparkop/spark-operator/internal/sparkctl.BuildVersion=v1.2.3"; when empty,
// the module version from the build information is used.
var BuildVersion = ""

// Version returns the sparkctl version.
func Version() string {
	if BuildVersion != "" {
		return BuildVersion
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

func newVersionCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the sparkctl version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(streams.Out, Version())
		},
	}
}
