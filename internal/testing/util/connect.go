package util

import (
	"fmt"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
)

// GetConnect reads SparkConnect ns/name, failing the test on error.
func GetConnect(t testing.TB, c client.Client, ns, name string) *v1alpha1.SparkConnect {
	t.Helper()
	return get(t, c, ns, name, &v1alpha1.SparkConnect{})
}

// WaitForConnectState waits until SparkConnect ns/name is in state and returns it as read then. On
// timeout the failure names the last state, its conditions and executors.
func WaitForConnectState(t testing.TB, c client.Client, ns, name string, state v1alpha1.SparkConnectState) *v1alpha1.SparkConnect {
	t.Helper()
	newConnect := func() *v1alpha1.SparkConnect { return &v1alpha1.SparkConnect{} }
	return WaitForObject(t, c, ns, name, fmt.Sprintf("SparkConnect %s to be %q", name, state), newConnect, func(conn *v1alpha1.SparkConnect) (bool, string) {
		return conn.Status.State == state, fmt.Sprintf("state %q, conditions %+v, executors %v", conn.Status.State, conn.Status.Conditions, conn.Status.Executors)
	})
}
