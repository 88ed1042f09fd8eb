package wrappers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// DefaultSchedule is the schedule of the application MakeScheduledSparkApplication builds.
const DefaultSchedule = "@every 30s"

// ScheduledSparkApplicationWrapper wraps a ScheduledSparkApplication under construction.
type ScheduledSparkApplicationWrapper struct {
	v1beta2.ScheduledSparkApplication
}

// MakeScheduledSparkApplication returns a valid ScheduledSparkApplication named name in namespace
// ns that runs the MakeSparkApplication spec every 30 seconds. concurrencyPolicy and the history
// limits are left empty, so the API server's defaults apply (Allow, 1, 1).
func MakeScheduledSparkApplication(name, ns string) *ScheduledSparkApplicationWrapper {
	return &ScheduledSparkApplicationWrapper{v1beta2.ScheduledSparkApplication{
		TypeMeta:   typeMeta("ScheduledSparkApplication"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1beta2.ScheduledSparkApplicationSpec{
			Schedule: DefaultSchedule,
			Template: BaseSpec(),
		},
	}}
}

// Obj returns the wrapped ScheduledSparkApplication.
func (w *ScheduledSparkApplicationWrapper) Obj() *v1beta2.ScheduledSparkApplication {
	return &w.ScheduledSparkApplication
}

// Clone returns a deep copy of the wrapper.
func (w *ScheduledSparkApplicationWrapper) Clone() *ScheduledSparkApplicationWrapper {
	return &ScheduledSparkApplicationWrapper{*w.ScheduledSparkApplication.DeepCopy()}
}

// Label adds a metadata label (copied to the runs).
func (w *ScheduledSparkApplicationWrapper) Label(k, v string) *ScheduledSparkApplicationWrapper {
	w.Labels = setKey(w.Labels, k, v)
	return w
}

// Spec calls f on the spec, for changes without a dedicated method.
func (w *ScheduledSparkApplicationWrapper) Spec(f func(*v1beta2.ScheduledSparkApplicationSpec)) *ScheduledSparkApplicationWrapper {
	f(&w.ScheduledSparkApplication.Spec)
	return w
}

// Schedule sets spec.schedule.
func (w *ScheduledSparkApplicationWrapper) Schedule(s string) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.Schedule = s
	return w
}

// TimeZone sets spec.timeZone.
func (w *ScheduledSparkApplicationWrapper) TimeZone(tz string) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.TimeZone = tz
	return w
}

// ConcurrencyPolicy sets spec.concurrencyPolicy.
func (w *ScheduledSparkApplicationWrapper) ConcurrencyPolicy(p v1beta2.ConcurrencyPolicy) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.ConcurrencyPolicy = p
	return w
}

// Suspend sets spec.suspend.
func (w *ScheduledSparkApplicationWrapper) Suspend(s bool) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.Suspend = Ptr(s)
	return w
}

// HistoryLimits sets spec.successfulRunHistoryLimit and spec.failedRunHistoryLimit.
func (w *ScheduledSparkApplicationWrapper) HistoryLimits(successful, failed int32) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.SuccessfulRunHistoryLimit = Ptr(successful)
	w.ScheduledSparkApplication.Spec.FailedRunHistoryLimit = Ptr(failed)
	return w
}

// StartingDeadlineSeconds sets spec.startingDeadlineSeconds.
func (w *ScheduledSparkApplicationWrapper) StartingDeadlineSeconds(s int64) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.StartingDeadlineSeconds = Ptr(s)
	return w
}

// Template replaces spec.template with the spec of app (a deep copy).
func (w *ScheduledSparkApplicationWrapper) Template(app *SparkApplicationWrapper) *ScheduledSparkApplicationWrapper {
	w.ScheduledSparkApplication.Spec.Template = *app.SparkApplication.Spec.DeepCopy()
	return w
}

// TemplateSpec calls f on spec.template.
func (w *ScheduledSparkApplicationWrapper) TemplateSpec(f func(*v1beta2.SparkApplicationSpec)) *ScheduledSparkApplicationWrapper {
	f(&w.ScheduledSparkApplication.Spec.Template)
	return w
}

// ScheduleState sets status.scheduleState.
func (w *ScheduledSparkApplicationWrapper) ScheduleState(s v1beta2.ScheduleState) *ScheduledSparkApplicationWrapper {
	w.Status.ScheduleState = s
	return w
}

// LastRun sets status.lastRun and status.lastRunName.
func (w *ScheduledSparkApplicationWrapper) LastRun(t metav1.Time, name string) *ScheduledSparkApplicationWrapper {
	w.Status.LastRun = t
	w.Status.LastRunName = name
	return w
}

// NextRun sets status.nextRun.
func (w *ScheduledSparkApplicationWrapper) NextRun(t metav1.Time) *ScheduledSparkApplicationWrapper {
	w.Status.NextRun = t
	return w
}
