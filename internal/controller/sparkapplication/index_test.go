package sparkapplication

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestUIObjectLabels: the cache selector of Services and Ingresses (UIObjectLabels) selects every UI
// object the controller creates, whatever labels the user adds, and not the driver's headless Service,
// which the controller never reads back.
func TestUIObjectLabels(t *testing.T) {
	sel := labels.SelectorFromSet(UIObjectLabels())
	app := wrappers.MakeSparkApplication("pi", "default").Obj()
	sub := submission.NewSubmission(app.UID, Revision(app), 1, time.Unix(0, 0))
	app.Status.SubmissionID = sub.ID

	for name, extra := range map[string]map[string]string{
		"no extra labels": nil,
		"user labels that try to override": {
			LabelComponent: "other", v1beta2.LabelCreatedBySparkOperator: "false", "team": "a",
		},
	} {
		if l := uiLabels(app, extra); !sel.Matches(labels.Set(l)) {
			t.Errorf("%s: UI object labels %v not selected by %v", name, l, sel)
		}
	}

	res, err := submission.Render(app, sub, submission.Options{DriverService: true})
	if err != nil {
		t.Fatal(err)
	}
	if l := res.DriverService.Labels; sel.Matches(labels.Set(l)) {
		t.Errorf("driver Service labels %v selected by %v; it is never read back and need not be cached", l, sel)
	}
}
