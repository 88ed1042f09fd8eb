package sparkapplication

// The Event reasons of the SparkApplication controller, in one place: Kubeflow's, exactly as its
// operator records them (Airflow, dashboards and alerts match on them), then ours.

// Event reasons, exactly as Kubeflow's operator records them. Like Kubeflow v2.5, a plain
// successful application gets three Events: Submitted, DriverRunning and DriverCompleted (Kubeflow
// defines SparkApplicationAdded and SparkApplicationCompleted too, but its controller never writes
// them for this lifecycle, and neither do we: docs/state-machine.md).
const (
	ReasonSubmitted        = "SparkApplicationSubmitted"
	ReasonSubmissionFailed = "SparkApplicationSubmissionFailed"
	ReasonFailed           = "SparkApplicationFailed"
	ReasonPendingRerun     = "SparkApplicationPendingRerun"
	ReasonInvalidated      = "SparkApplicationInvalidated"
	ReasonSuspending       = "SparkApplicationSuspending"
	ReasonSuspended        = "SparkApplicationSuspended"
	ReasonResuming         = "SparkApplicationResuming"
	ReasonTTLExpired       = "SparkApplicationTTLExpired"
	ReasonDriverNotFound   = "SparkDriverNotFound"
	ReasonDriverPending    = "SparkDriverPending"
	ReasonDriverRunning    = "SparkDriverRunning"
	ReasonDriverCompleted  = "SparkDriverCompleted"
	ReasonDriverFailed     = "SparkDriverFailed"
	ReasonDriverUnknown    = "SparkDriverUnknown"
	ReasonDriverTimeout    = "SparkDriverStartTimeout"
	ReasonDriverWaiting    = "SparkDriverWaiting"
	ReasonUIFailed         = "SparkUIServiceFailed"
	// ReasonTemplateFieldsDropped (ours) names the fields of a pod template that a v1
	// PodTemplateSpec does not have, which are dropped.
	ReasonTemplateFieldsDropped = "SparkTemplateFieldsDropped"

	// ReasonExecutorFieldsUpdated is the Event reason when the PartialRestart feature gate keeps a running
	// application running through a change of its executor scheduling fields (Kubeflow's reason).
	ReasonExecutorFieldsUpdated = "SparkApplicationWebhookFieldsUpdated"

	// ReasonExecutorQuotaExceeded is the Event reason of a running application whose executors a
	// ResourceQuota keeps from being created.
	ReasonExecutorQuotaExceeded = "SparkExecutorQuotaExceeded"

	// ReasonBatchSchedulerNotHandled is the Warning event of a submission whose spec.batchScheduler or
	// spec.batchSchedulerOptions has no effect (batchscheduler.Registry.Resolve says why).
	ReasonBatchSchedulerNotHandled = "SparkApplicationBatchSchedulerNotHandled"

	// ReasonDriverPDBDisabled is the Event reason of an application that sets
	// spec.driverPodDisruptionBudget while the operator runs without --enable-driver-pdb.
	ReasonDriverPDBDisabled = "SparkDriverPodDisruptionBudgetDisabled"

	// ReasonReconcilePanic is the reason of the Warning event recorded on an application whose reconcile
	// panicked. The operator does not crash: controller-runtime's RecoverPanic (set in SetupWithManager)
	// turns the panic into an error, logs it with its stack, counts it in
	// controller_runtime_reconcile_panics_total{controller="sparkapplication"}, and retries the
	// application with the controller's exponential back-off (5 ms doubling to 1000 s), never faster.
	ReasonReconcilePanic = "SparkApplicationReconcilePanic"

	// ReasonInfrastructureFailure is the Warning recorded when an attempt ends because its driver
	// was lost to the infrastructure; its message names the cause and whether the application is
	// restarted without consuming a retry (infrastructure.go).
	ReasonInfrastructureFailure = "SparkDriverInfrastructureFailure"

	// ReasonDriverForceDeleted is the Warning recorded when a driver pod stuck Terminating on a node
	// that is gone or not Ready is force-deleted (stuck.go).
	ReasonDriverForceDeleted = "SparkDriverForceDeleted"

	// ReasonDriverReadyTimeout and ReasonExecutorStartTimeout are the Warnings of the per-application
	// timeouts (timeouts.go).
	ReasonDriverReadyTimeout   = "SparkDriverReadyTimeout"
	ReasonExecutorStartTimeout = "SparkExecutorStartTimeout"
)
