package v1beta2

import (
	"fmt"
	"strings"
	"time"
)

// Labels and annotations that Kubeflow's operator sets, and that Airflow, Kueue and users select on.
const (
	// LabelAppName is the SparkApplication name, on every pod, Service and ConfigMap of it.
	LabelAppName = "sparkoperator.k8s.io/app-name"
	// LabelLaunchedBySparkOperator marks driver and executor pods launched by the operator ("true").
	LabelLaunchedBySparkOperator = "sparkoperator.k8s.io/launched-by-spark-operator"
	// LabelSubmissionID is status.submissionID of the attempt an object belongs to.
	LabelSubmissionID = "sparkoperator.k8s.io/submission-id"
	// LabelMutatedBySparkOperator is set on pods Kubeflow's webhook mutated; we build pods whole and
	// set it for compatibility.
	LabelMutatedBySparkOperator = "sparkoperator.k8s.io/mutated-by-spark-operator"
	// LabelCreatedBySparkOperator marks Services, Ingresses and ConfigMaps the operator created.
	LabelCreatedBySparkOperator = "sparkoperator.k8s.io/created-by-spark-operator"
	// LabelScheduledAppName is the ScheduledSparkApplication that created a run.
	LabelScheduledAppName = "sparkoperator.k8s.io/scheduled-app-name"

	// LabelSparkAppSelector is Spark's application id label (spark.app.id).
	LabelSparkAppSelector = "spark-app-selector"
	// LabelSparkRole is "driver" or "executor".
	LabelSparkRole = "spark-role"
	// LabelSparkAppName is Spark's sanitised application name label.
	LabelSparkAppName = "spark-app-name"
	// LabelSparkVersion is the Spark version label.
	LabelSparkVersion = "spark-version"
	// LabelSparkExecID is the executor id label Spark sets on executor pods.
	LabelSparkExecID = "spark-exec-id"

	// SparkRoleDriver and SparkRoleExecutor are the values of LabelSparkRole.
	SparkRoleDriver   = "driver"
	SparkRoleExecutor = "executor"
)

// Annotations the operator acts on.
const (
	// AnnotationRerun, set on a SparkApplication to a new value (any unique token, e.g. a timestamp),
	// stops its current attempt if any and submits it again with fresh attempt counters, as a spec
	// change would. `sparkctl rerun` sets it.
	AnnotationRerun = "sparkoperator.k8s.io/rerun"
	// AnnotationTriggerRun, set on a ScheduledSparkApplication to a new value, starts one run now;
	// each value starts at most one run. `sparkctl trigger` sets it.
	AnnotationTriggerRun = "sparkoperator.k8s.io/trigger-run"
	// AnnotationScheduledTime is the scheduled time (RFC 3339) of a run of a ScheduledSparkApplication.
	AnnotationScheduledTime = "sparkoperator.k8s.io/scheduled-time"
	// AnnotationDriverStartTimeout, set on a SparkApplication to a Go duration ("30m", "2h"), fails
	// an attempt whose driver pod stays Pending (unscheduled, or its containers not started) that
	// long, overriding the operator's --driver-start-timeout; "0" waits without limit. A value that
	// is not a duration fails the submission with a message naming the annotation.
	AnnotationDriverStartTimeout = "sparkoperator.k8s.io/driver-start-timeout"
	// AnnotationExecutorDecommissioning, set to "true" on a SparkApplication, turns on Spark's
	// graceful executor decommissioning: an executor whose pod is deleted or evicted (a node drain)
	// first moves its shuffle files and cached blocks to the other executors, so no finished map
	// stage is computed again. The operator defaults spark.decommission.enabled,
	// spark.storage.decommission.{enabled,shuffleBlocks.enabled,rddBlocks.enabled} to true and
	// spark.storage.decommission.replicationReattemptInterval to 5s (sparkConf wins), and gives the
	// executor pods a terminationGracePeriodSeconds of 60 unless spec.executor sets one. A value
	// other than "true" or "false" fails the submission with a message naming the annotation.
	AnnotationExecutorDecommissioning = "sparkoperator.k8s.io/executor-decommissioning"
	// AnnotationDriverReadyTimeout, set on a SparkApplication to a Go duration ("10m"), fails an
	// attempt whose driver pod has not been Ready (its PodReady condition True) that long after it
	// was created; unset or "0" waits without limit. A value that is not a duration fails the
	// submission with a message naming the annotation.
	AnnotationDriverReadyTimeout = "sparkoperator.k8s.io/driver-ready-timeout"
	// AnnotationExecutorStartTimeout, set on a SparkApplication to a Go duration ("10m"), fails a
	// RUNNING attempt none of whose executor pods has run that long after the driver started running
	// (executors Pending for lack of room, an unpullable executor image); unset or "0" waits without
	// limit. A value that is not a duration fails the submission with a message naming the annotation.
	AnnotationExecutorStartTimeout = "sparkoperator.k8s.io/executor-start-timeout"
)

// TimeoutAnnotations are the annotations whose value is a timeout (ParseTimeoutAnnotation).
var TimeoutAnnotations = []string{AnnotationDriverStartTimeout, AnnotationDriverReadyTimeout, AnnotationExecutorStartTimeout}

// ParseTimeoutAnnotation reads the timeout annotation key of annotations: a Go duration such as "30m"
// or "2h" (spaces around it allowed), or "0" for no limit. set says whether the annotation is there;
// a value that is not a non-negative duration is an error naming the annotation.
func ParseTimeoutAnnotation(annotations map[string]string, key string) (d time.Duration, set bool, err error) {
	v, ok := annotations[key]
	if !ok {
		return 0, false, nil
	}
	if strings.TrimSpace(v) == "0" {
		return 0, true, nil
	}
	d, err = time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, true, fmt.Errorf("annotation %s: %q is not a duration such as 30m or 2h (0 waits without limit)", key, v)
	}
	return d, true, nil
}
