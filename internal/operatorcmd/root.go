// Package operatorcmd holds the spark-operator command line: `controller` runs the operator,
// `render` prints what would be submitted, `version` prints the build version.
package operatorcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sparkop/spark-operator/internal/version"
)

// NewRootCommand returns the spark-operator command with its subcommands.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "spark-operator",
		Short:         "A Kubernetes operator for Apache Spark, compatible with sparkoperator.k8s.io/v1beta2",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newRenderCommand(), newVersionCommand())
	for _, add := range extraCommands {
		root.AddCommand(add())
	}
	return root
}

// extraCommands are subcommands registered by other files of this package (controller).
var extraCommands []func() *cobra.Command

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), version.Get())
		},
	}
}
