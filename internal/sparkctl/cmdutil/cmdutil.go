// Package cmdutil holds what sparkctl's command packages share: the Complete/Validate/Run shape of
// a command (Runner, RunE), the exit code of an error (ExitError) and the Spark container of a pod.
package cmdutil

import (
	"context"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
)

// Container names Spark gives the driver and executor containers.
const (
	DriverContainer   = "spark-kubernetes-driver"
	ExecutorContainer = "spark-kubernetes-executor"
)

// SparkContainer picks the Spark container of a driver or executor pod: the one Spark names, else the
// only one, else (driver) the last one, which is where spark-submit puts it, or (executor) the first.
func SparkContainer(pod *corev1.Pod, driver bool) string {
	want := ExecutorContainer
	if driver {
		want = DriverContainer
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == want {
			return c.Name
		}
	}
	if !driver {
		for _, c := range pod.Spec.Containers {
			if c.Name == "executor" {
				return c.Name
			}
		}
	}
	switch {
	case len(pod.Spec.Containers) == 0:
		return ""
	case driver:
		return pod.Spec.Containers[len(pod.Spec.Containers)-1].Name
	default:
		return pod.Spec.Containers[0].Name
	}
}

// Runner is a command's kubectl-style options: Complete them from the arguments, Validate them, Run.
type Runner interface {
	Complete(cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// RunE is the cobra RunE of a command whose options are o.
func RunE(o Runner) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(cmd, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// ExitError is an error that carries a specific exit code (lint uses it); sparkctl.Execute returns Code.
type ExitError struct {
	// Code is the process exit code.
	Code int
	// Err is the error printed.
	Err error
}

// Error returns the message of Err.
func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *ExitError) Unwrap() error { return e.Err }
