package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConcurrencyPolicy says what to do when a scheduled run is due while an earlier run is unfinished.
// +kubebuilder:validation:Enum=Allow;Forbid;Replace
type ConcurrencyPolicy string

// Concurrency policies, as in Kubeflow v1beta2 and Kubernetes CronJob.
const (
	// ConcurrencyAllow starts the new run beside the unfinished one.
	ConcurrencyAllow ConcurrencyPolicy = "Allow"
	// ConcurrencyForbid skips the new run while an earlier one is unfinished.
	ConcurrencyForbid ConcurrencyPolicy = "Forbid"
	// ConcurrencyReplace deletes the unfinished run and starts the new one.
	ConcurrencyReplace ConcurrencyPolicy = "Replace"
)

// ScheduleState is the state of a ScheduledSparkApplication.
type ScheduleState string

// Schedule states, as in Kubeflow v1beta2. Unlike Kubeflow, FailedValidation is left as soon as the
// schedule is fixed.
const (
	ScheduleStateNew              ScheduleState = ""
	ScheduleStateValidating       ScheduleState = "Validating"
	ScheduleStateScheduled        ScheduleState = "Scheduled"
	ScheduleStateFailedValidation ScheduleState = "FailedValidation"
)

// ScheduledSparkApplication runs a SparkApplication on a cron schedule.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=scheduledsparkapp,singular=scheduledsparkapplication
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=https://github.com/kubeflow/spark-operator/pull/1298"
// +kubebuilder:printcolumn:JSONPath=.spec.schedule,name=Schedule,type=string
// +kubebuilder:printcolumn:JSONPath=.spec.timeZone,name=TimeZone,type=string
// +kubebuilder:printcolumn:JSONPath=.spec.suspend,name=Suspend,type=boolean
// +kubebuilder:printcolumn:JSONPath=.status.lastRun,name=Last Run,type=date
// +kubebuilder:printcolumn:JSONPath=.status.lastRunName,name=Last Run Name,type=string
// +kubebuilder:printcolumn:JSONPath=.metadata.creationTimestamp,name=Age,type=date
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label: at most 63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit"
type ScheduledSparkApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the schedule and the application to run.
	// +required
	Spec ScheduledSparkApplicationSpec `json:"spec"`
	// status is the observed state, written by the operator.
	// +optional
	Status ScheduledSparkApplicationStatus `json:"status,omitempty"`
}

// ScheduledSparkApplicationList is a list of ScheduledSparkApplications.
//
// +kubebuilder:object:root=true
type ScheduledSparkApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScheduledSparkApplication `json:"items"`
}

// ScheduledSparkApplicationSpec is a schedule and the SparkApplication it runs.
type ScheduledSparkApplicationSpec struct {
	// schedule is a standard five-field cron expression ("0 * * * *"), optionally prefixed with
	// "CRON_TZ=<zone> ", or a descriptor such as "@hourly" or "@every 5m".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^\s*((CRON_)?TZ=\S+\s+)?(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|@every\s+\S+|\S+(\s+\S+){4})\s*$`
	// +required
	Schedule string `json:"schedule"`
	// timeZone is the IANA time zone of the schedule, e.g. "Europe/Paris"; the default is the
	// operator's local time zone.
	// +optional
	TimeZone string `json:"timeZone,omitempty"`
	// template is the spec of each run.
	// +required
	Template SparkApplicationSpec `json:"template"`
	// suspend stops new runs from being started; runs already started go on.
	// +optional
	Suspend *bool `json:"suspend,omitempty"`
	// concurrencyPolicy says what to do when a run is due while an earlier run is unfinished.
	// +kubebuilder:default=Allow
	// +optional
	ConcurrencyPolicy ConcurrencyPolicy `json:"concurrencyPolicy,omitempty"`
	// successfulRunHistoryLimit is how many successful runs to keep.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=1
	// +optional
	SuccessfulRunHistoryLimit *int32 `json:"successfulRunHistoryLimit,omitempty"`
	// failedRunHistoryLimit is how many failed runs to keep.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=1
	// +optional
	FailedRunHistoryLimit *int32 `json:"failedRunHistoryLimit,omitempty"`
	// startingDeadlineSeconds bounds how late a missed run may still be started (as in CronJob); runs
	// missed by more are skipped and reported in the status. When unset, only the most recent missed
	// run is started.
	// +kubebuilder:validation:Minimum=0
	// +optional
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty"`
}

// ScheduledSparkApplicationStatus is the observed state of a ScheduledSparkApplication.
type ScheduledSparkApplicationStatus struct {
	// lastRun is when the last run was started.
	// +optional
	LastRun metav1.Time `json:"lastRun,omitempty"`
	// nextRun is when the next run is due.
	// +optional
	NextRun metav1.Time `json:"nextRun,omitempty"`
	// lastScheduleTime is the scheduled time of the last scheduled run started or deliberately
	// skipped; missed runs are counted from it.
	// +optional
	LastScheduleTime metav1.Time `json:"lastScheduleTime,omitempty"`
	// lastTriggerToken is the last sparkoperator.k8s.io/trigger-run annotation value acted on.
	// +optional
	LastTriggerToken string `json:"lastTriggerToken,omitempty"`
	// lastRunName is the name of the SparkApplication of the last run.
	// +optional
	LastRunName string `json:"lastRunName,omitempty"`
	// pastSuccessfulRunNames are the kept successful runs, newest first.
	// +optional
	PastSuccessfulRunNames []string `json:"pastSuccessfulRunNames,omitempty"`
	// pastFailedRunNames are the kept failed runs, newest first.
	// +optional
	PastFailedRunNames []string `json:"pastFailedRunNames,omitempty"`
	// scheduleState is the state of the schedule.
	// +optional
	ScheduleState ScheduleState `json:"scheduleState,omitempty"`
	// reason says why the schedule is not running, when it is not.
	// +optional
	Reason string `json:"reason,omitempty"`
	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are the standard conditions.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
