package scheduledsparkapplication

import "github.com/sparkop/spark-operator/api/v1beta2"

// adoptSchedule takes over the schedule of a ScheduledSparkApplication whose status another controller
// wrote: Kubeflow's records when it last started a run (status.lastRun) but neither
// status.lastScheduleTime nor status.observedGeneration, which this controller always writes. The
// scheduled times up to Kubeflow's last run were served by it, so that run's time becomes the
// reference from which due and missed times are counted; without it they would be counted from the
// creation, and the run Kubeflow already started would be started again.
func adoptSchedule(st *v1beta2.ScheduledSparkApplicationStatus) {
	if st.ObservedGeneration == 0 && st.LastScheduleTime.IsZero() && !st.LastRun.IsZero() {
		st.LastScheduleTime = st.LastRun
	}
}
