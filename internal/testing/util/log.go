package util

import (
	"os"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// EnvVerbose is the environment variable that makes Logger log everything (any value).
const EnvVerbose = "TEST_VERBOSE"

// EnvKlogVerbosity is the environment variable that makes Logger log down to V(10), for suites
// that also route client-go's klog output (at that -v) into it.
const EnvKlogVerbosity = "TEST_KLOG_V"

// Logger is the logger for controllers running in a test binary: zap to standard error, errors
// only, or everything down to V(2) when $TEST_VERBOSE is set, V(10) when $TEST_KLOG_V is. Suites set
// it in TestMain through Main, or with ctrl.SetLogger(util.Logger()).
func Logger() logr.Logger {
	level := zapcore.Level(2)
	if os.Getenv(EnvVerbose) != "" {
		level = -2
	}
	if os.Getenv(EnvKlogVerbosity) != "" {
		level = -10
	}
	return zap.New(zap.WriteTo(os.Stderr), zap.Level(level))
}
