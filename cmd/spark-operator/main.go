// Command spark-operator runs the Spark operator's controller and offers offline tools (render).
package main

import (
	"os"

	"github.com/sparkop/spark-operator/internal/operatorcmd"
)

func main() {
	if err := operatorcmd.NewRootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
