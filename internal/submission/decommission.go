package submission

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Spark's graceful executor decommissioning (docs/fault-tolerance.md, "Spark workloads"): with
// spark.decommission.enabled Spark gives each executor pod the preStop hook /opt/decom.sh, which
// sends the executor SIGPWR when the pod is deleted or evicted; with spark.storage.decommission.*
// the executor then moves its shuffle files and cached blocks to other executors before it exits,
// so a drained node costs no recomputation.
const (
	keyDecommissionEnabled     = "spark.decommission.enabled"
	keyStorageDecommission     = "spark.storage.decommission.enabled"
	keyDecommissionShuffle     = "spark.storage.decommission.shuffleBlocks.enabled"
	keyDecommissionRDD         = "spark.storage.decommission.rddBlocks.enabled"
	keyDecommissionReattempt   = "spark.storage.decommission.replicationReattemptInterval"
	defaultDecommissionRecheck = "5s"
	// DefaultDecommissionGracePeriodSeconds is the executor pods' terminationGracePeriodSeconds
	// under AnnotationExecutorDecommissioning when spec.executor.terminationGracePeriodSeconds is
	// not given: the hook, the migration and the executor's exit must fit in it, or the kubelet
	// kills the executor mid-migration. Measured (docs/fault-tolerance.md): an executor exits
	// 1-2 migration rechecks after SIGPWR, plus its JVM's shutdown; Kubernetes' default of 30 s is
	// shorter than one recheck at Spark's default interval of 30 s.
	DefaultDecommissionGracePeriodSeconds = 60
)

// decommissioning reports whether the application asks for graceful executor decommissioning
// with AnnotationExecutorDecommissioning; a value other than "true" or "false" is refused naming
// the annotation.
func decommissioning(app *v1beta2.SparkApplication) (bool, error) {
	v, ok := app.Annotations[v1beta2.AnnotationExecutorDecommissioning]
	if !ok {
		return false, nil
	}
	on, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fieldError("metadata.annotations["+v1beta2.AnnotationExecutorDecommissioning+"]", "%q is neither true nor false", v)
	}
	return on, nil
}

// decommissionConf turns on decommissioning with shuffle and cached-block migration, and a
// migration recheck of defaultDecommissionRecheck instead of Spark's 30 s, so that an executor
// exits soon after its blocks moved; what sparkConf sets wins.
func decommissionConf(conf Conf) {
	conf.setDefault(keyDecommissionEnabled, "true")
	conf.setDefault(keyStorageDecommission, "true")
	conf.setDefault(keyDecommissionShuffle, "true")
	conf.setDefault(keyDecommissionRDD, "true")
	conf.setDefault(keyDecommissionReattempt, defaultDecommissionRecheck)
}

// decommissionGracePeriod gives the executor pod template DefaultDecommissionGracePeriodSeconds
// unless the application or its template gave one.
func decommissionGracePeriod(pod *corev1.Pod) {
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		pod.Spec.TerminationGracePeriodSeconds = ptr.To[int64](DefaultDecommissionGracePeriodSeconds)
	}
}
