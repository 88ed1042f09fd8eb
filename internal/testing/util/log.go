package util

import (
	"os"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// EnvVerbose is the environment variable that makes Logger log everything (any value).
const EnvVerbose = "TEST_VERBOSE"

// Logger is the logger for controllers running in a test binary: zap to standard error, errors
// only, or everything down to V(2) when $TEST_VERBOSE is set. Suites set it in TestMain with
// ctrl.SetLogger(util.Logger()).
func Logger() logr.Logger {
	level := zapcore.Level(2)
	if os.Getenv(EnvVerbose) != "" {
		level = -2
	}
	return zap.New(zap.WriteTo(os.Stderr), zap.Level(level))
}
