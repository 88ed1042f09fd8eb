package scheduledsparkapplication

// Event reasons of the ScheduledSparkApplication controller.
const (
	ReasonRunStarted      = "ScheduledRunStarted"
	ReasonManualRun       = "ManualRunStarted"
	ReasonMissedSchedule  = "MissedSchedule"
	ReasonRunWaiting      = "ScheduledRunWaiting"
	ReasonRunReplaced     = "ScheduledRunReplaced"
	ReasonInvalidSchedule = "InvalidSchedule"
	ReasonRunDeleted      = "HistoryRunDeleted"
)
