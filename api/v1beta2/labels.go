package v1beta2

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
)
