// Package version says which build of the operator and sparkctl is running.
package version

import "runtime/debug"

// Override is the version, set at build time with
// -ldflags "-X github.com/sparkop/spark-operator/internal/version.Override=v1.2.3" (both binaries
// read it); when empty, Get falls back to the build information.
var Override = ""

// Get returns Override when set, otherwise the main module's version from the build information
// (a tag such as v1.2.3, or a pseudo-version for a `go install` at a commit), otherwise "(devel)".
func Get() string {
	if Override != "" {
		return Override
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
