//go:build tools

// Package kueue pins Kueue's controller manager, built into bin/kueue by hack/build-kueue.sh for the
// Kueue end-to-end suite (test/kueue, make e2e-kueue). It is a module of its own so that Kueue's
// dependency versions never touch the operator's go.mod nor hack/tools (the shared control plane).
package kueue

import _ "sigs.k8s.io/kueue/cmd/kueue"
