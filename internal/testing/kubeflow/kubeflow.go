// Package kubeflow locates the Kubeflow Spark Operator's releases in the Go module cache, for the
// tests that compare ours with them (flags, chart values, CRD admission of its examples). Kubeflow's
// files are read where `go mod download` puts them and are never copied into this repository.
package kubeflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// Module is the Go module path of the Kubeflow Spark Operator v2.
const Module = "github.com/kubeflow/spark-operator/v2"

// Versions are the Kubeflow releases ours is checked against, oldest first. Each test that reads
// Kubeflow's files runs over all of them, so a key, flag or example dropped or renamed between two
// releases is still accepted.
var Versions = []string{"v2.5.0", "v2.5.2"}

// Latest is the newest of Versions.
var Latest = Versions[len(Versions)-1]

var dirs sync.Map // version -> *dirResult

type dirResult struct {
	once sync.Once
	dir  string
	err  error
}

// ModuleDir returns the directory of Kubeflow's module at version (e.g. "v2.5.2") in the module
// cache, downloading it through the Go module proxy when it is not there yet. The download runs
// outside any module, so nothing is added to a go.mod or go.sum. The error carries `go mod
// download`'s message (no network and an empty cache, an unknown version). Results are cached per
// process.
func ModuleDir(version string) (string, error) {
	v, _ := dirs.LoadOrStore(version, &dirResult{})
	r := v.(*dirResult)
	r.once.Do(func() {
		cmd := exec.Command("go", "mod", "download", "-json", Module+"@"+version)
		cmd.Dir = os.TempDir()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var info struct{ Dir, Error string }
		if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
			r.err = fmt.Errorf("go mod download %s@%s: %v %s %s", Module, version, err, info.Error, stderr.String())
			return
		}
		r.dir = info.Dir
	})
	return r.dir, r.err
}

// MustModuleDir is ModuleDir, failing the test when the module cannot be had.
func MustModuleDir(t testing.TB, version string) string {
	t.Helper()
	dir, err := ModuleDir(version)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
