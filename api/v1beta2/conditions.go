package v1beta2

// Condition types of SparkApplicationStatus.Conditions. They restate the application state in the
// standard form that kubectl wait, Argo and Kueue understand.
const (
	// ConditionSubmitted is True while the current attempt has a driver pod.
	ConditionSubmitted = "Submitted"
	// ConditionRunning is True while the driver of the current attempt runs.
	ConditionRunning = "Running"
	// ConditionSucceeded is True once the application COMPLETED.
	ConditionSucceeded = "Succeeded"
	// ConditionFailed is True once the application FAILED, with the error in its message.
	ConditionFailed = "Failed"
	// ConditionSuspended is True while the application is SUSPENDED.
	ConditionSuspended = "Suspended"
	// ConditionDriverPodDisruptionBudget is present when spec.driverPodDisruptionBudget is true: True
	// while a PodDisruptionBudget keeps the driver from voluntary eviction, False (reason
	// DisabledInOperator or CreateFailed) when none does, with why in its message.
	ConditionDriverPodDisruptionBudget = "DriverPodDisruptionBudget"
	// ConditionQuotaExceeded is True while a running application has fewer executors than it asked
	// for and a ResourceQuota of its namespace has no room for one more; its message names the
	// quota, the resource and the shortfall.
	ConditionQuotaExceeded = "QuotaExceeded"
	// ConditionDriverScheduled is True once the driver pod of the current attempt is bound to a
	// node, and False while it waits for a scheduler or a queue (a batch scheduler holding an
	// incomplete gang, a queue over capacity, no node with room): its reason and message are the
	// scheduler's (the pod's PodScheduled condition), and its lastTransitionTime says since when.
	// Waiting is not failing: no timeout ends the wait unless one is configured
	// (--driver-start-timeout, AnnotationDriverStartTimeout).
	ConditionDriverScheduled = "DriverScheduled"
	// ConditionInfrastructureFailure is present from the end of an attempt whose driver was lost to
	// the infrastructure (evicted, preempted, its node gone) until the next attempt is submitted:
	// True when that attempt is restarted without consuming a retry, False when it is not (restart
	// policy Never, or the bound on such restarts reached), with the cause as its reason (Evicted,
	// Preempted, NodeLost, NodeShutdown, PodGarbageCollected) and what happened in its message.
	ConditionInfrastructureFailure = "InfrastructureFailure"
)

// Condition types of ScheduledSparkApplicationStatus.Conditions.
const (
	// ConditionScheduleValid is False while the schedule or time zone cannot be parsed.
	ConditionScheduleValid = "ScheduleValid"
)
