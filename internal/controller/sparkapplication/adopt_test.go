package sparkapplication

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

func TestAdoptAttempt(t *testing.T) {
	for _, tc := range []struct {
		name               string
		state              v1beta2.ApplicationStateType
		submissionID, hash string
		wantHash           bool
	}{
		{"Kubeflow's running attempt", v1beta2.ApplicationStateRunning, "0b7e5c4e-uuid", "", true},
		{"Kubeflow's submitted attempt", v1beta2.ApplicationStateSubmitted, "0b7e5c4e-uuid", "", true},
		{"Kubeflow's failing attempt", v1beta2.ApplicationStateFailing, "0b7e5c4e-uuid", "", true},
		{"ours, hash kept", v1beta2.ApplicationStateRunning, "ours", "abc", false},
		{"new application", v1beta2.ApplicationStateNew, "", "", false},
		{"pending rerun: the next submission records it", v1beta2.ApplicationStatePendingRerun, "0b7e5c4e-uuid", "", false},
		{"completed: a spec change submits it again", v1beta2.ApplicationStateCompleted, "0b7e5c4e-uuid", "", true},
		{"submission failed", v1beta2.ApplicationStateFailedSubmission, "0b7e5c4e-uuid", "", true},
		{"suspended: resuming records it", v1beta2.ApplicationStateSuspended, "0b7e5c4e-uuid", "", false},
	} {
		app := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Name: "pi", Generation: 3}}
		app.Status.AppState.State, app.Status.SubmissionID, app.Status.SubmittedSpecHash = tc.state, tc.submissionID, tc.hash
		s := &scope{app: app, log: klog.Background()}
		adoptAttempt(s)
		switch got := app.Status.SubmittedSpecHash; {
		case tc.wantHash && got != SpecHash(app):
			t.Errorf("%s: hash %q, want the spec's %q", tc.name, got, SpecHash(app))
		case !tc.wantHash && got != tc.hash:
			t.Errorf("%s: hash changed to %q", tc.name, got)
		}
	}
}

func TestAdoptAppID(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1beta2.LabelSparkAppSelector: "spark-123"}}}
	st := &v1beta2.SparkApplicationStatus{}
	adoptAppID(st, pod)
	if st.SparkApplicationID != "spark-123" {
		t.Errorf("empty id: got %q", st.SparkApplicationID)
	}
	st.SparkApplicationID = "spark-ours"
	adoptAppID(st, pod)
	if st.SparkApplicationID != "spark-ours" {
		t.Errorf("recorded id replaced: got %q", st.SparkApplicationID)
	}
}
