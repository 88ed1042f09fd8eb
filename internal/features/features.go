// Package features holds the operator's feature gates, named and parsed as Kubeflow's Spark operator
// names them (pkg/features there), with k8s.io/component-base/featuregate: `--feature-gates
// PartialRestart=true,LoadSparkDefaults=true`. An unknown gate or a value other than true/false makes
// the flag's parsing fail, naming the gate.
//
// What each gate does here, and how it differs from Kubeflow, is in docs/kubeflow-compatibility.md.
package features

import (
	"github.com/spf13/pflag"
	"k8s.io/component-base/featuregate"
)

const (
	// PartialRestart (feature gate): a change of only the executor's priorityClassName, nodeSelector, tolerations,
	// affinity or schedulerName does not restart a running application (no INVALIDATING); the new
	// values are used from the next submission on. Kubeflow alpha since v2.5.0, default off.
	PartialRestart featuregate.Feature = "PartialRestart"

	// LoadSparkDefaults (feature gate): the operator reads the spark-defaults.conf of its own Spark configuration
	// directory ($SPARK_CONF_DIR, else $SPARK_HOME/conf) at start and applies its properties to every
	// submission as the lowest-precedence defaults, as Kubeflow's spark-submit does with
	// --load-spark-defaults. Kubeflow alpha since v2.5.0, default off.
	LoadSparkDefaults featuregate.Feature = "LoadSparkDefaults"

	// DefaultTimeToLive (feature gate): --default-time-to-live-seconds applies to terminated applications without
	// spec.timeToLiveSeconds. In Kubeflow (alpha, after v2.5.0) it is off by default and the flag needs
	// it; here it is on by default, so the flag alone works, and turning it off while the flag is set
	// is refused at start.
	DefaultTimeToLive featuregate.Feature = "DefaultTimeToLive"

	// RestSubmitter (feature gate): Kubeflow's REST submission service (alpha, after v2.5.0). Accepted for
	// compatibility; it changes nothing here, as submission is native (no spark-submit JVM to offload).
	RestSubmitter featuregate.Feature = "RestSubmitter"
)

// specs are the gates with their defaults: Kubeflow's (alpha, off), except DefaultTimeToLive (on).
var specs = map[featuregate.Feature]featuregate.FeatureSpec{
	PartialRestart:    {Default: false, PreRelease: featuregate.Alpha},
	LoadSparkDefaults: {Default: false, PreRelease: featuregate.Alpha},
	DefaultTimeToLive: {Default: true, PreRelease: featuregate.Beta},
	RestSubmitter:     {Default: false, PreRelease: featuregate.Alpha},
}

// New returns a fresh gate set holding the operator's gates at their defaults. Each command owns its
// own set, so that tests parsing several command lines never share state.
func New() featuregate.MutableFeatureGate {
	g := featuregate.NewFeatureGate()
	if err := g.Add(specs); err != nil {
		panic(err) // the specs above are constant and valid
	}
	return g
}

// AddFlag registers --feature-gates on fs, setting g.
func AddFlag(g featuregate.MutableFeatureGate, fs *pflag.FlagSet) {
	g.AddFlag(fs)
}
