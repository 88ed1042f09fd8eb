package sparkapplication

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// setConditions restates the application state as the standard conditions (Submitted, Running,
// Succeeded, Failed, Suspended), each with the state as its reason.
func setConditions(app *v1beta2.SparkApplication, now time.Time) {
	st := app.Status.AppState.State
	reason := string(st)
	if reason == "" {
		reason = "New"
	}
	in := func(states ...v1beta2.ApplicationStateType) metav1.ConditionStatus {
		for _, s := range states {
			if s == st {
				return metav1.ConditionTrue
			}
		}
		return metav1.ConditionFalse
	}
	set := func(typ string, status metav1.ConditionStatus, message string) {
		meta.SetStatusCondition(&app.Status.Conditions, metav1.Condition{
			Type: typ, Status: status, Reason: toConditionReason(reason), Message: message,
			ObservedGeneration: app.Generation, LastTransitionTime: metav1.NewTime(now),
		})
	}
	set(v1beta2.ConditionSubmitted, in(v1beta2.ApplicationStateSubmitted, v1beta2.ApplicationStateRunning,
		v1beta2.ApplicationStateSucceeding, v1beta2.ApplicationStateFailing, v1beta2.ApplicationStateUnknown), "")
	set(v1beta2.ConditionRunning, in(v1beta2.ApplicationStateRunning), "")
	set(v1beta2.ConditionSucceeded, in(v1beta2.ApplicationStateCompleted), "")
	failed := in(v1beta2.ApplicationStateFailed)
	msg := ""
	if failed == metav1.ConditionTrue {
		msg = app.Status.AppState.ErrorMessage
	}
	set(v1beta2.ConditionFailed, failed, msg)
	set(v1beta2.ConditionSuspended, in(v1beta2.ApplicationStateSuspended), "")
}

// toConditionReason turns a state such as SUBMISSION_FAILED into a condition reason (CamelCase, as
// metav1.Condition requires): SubmissionFailed.
func toConditionReason(state string) string {
	out := make([]byte, 0, len(state))
	upper := true
	for i := 0; i < len(state); i++ {
		c := state[i]
		switch {
		case c == '_':
			upper = true
		case upper:
			out = append(out, toUpper(c))
			upper = false
		default:
			out = append(out, toLower(c))
		}
	}
	return string(out)
}

func toUpper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 32
	}
	return c
}

func toLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}
