package lint

import (
	"testing"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestLintBatchScheduler: batch scheduler settings that would have no effect, or be refused, are
// reported; the handled schedulers are not.
func TestLintBatchScheduler(t *testing.T) {
	dir := t.TempDir()
	opts := func(queue, priority *string) func(*wrappers.SparkApplicationWrapper) {
		return func(w *wrappers.SparkApplicationWrapper) {
			w.Spec(func(s *v1beta2.SparkApplicationSpec) {
				s.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Queue: queue, PriorityClassName: priority}
			})
		}
	}
	both := func(fs ...func(*wrappers.SparkApplicationWrapper)) func(*wrappers.SparkApplicationWrapper) {
		return func(w *wrappers.SparkApplicationWrapper) {
			for _, f := range fs {
				f(w)
			}
		}
	}
	scheduler := func(name string) func(*wrappers.SparkApplicationWrapper) {
		return func(w *wrappers.SparkApplicationWrapper) { w.BatchScheduler(name) }
	}
	for name, tc := range map[string]struct {
		mod   func(*wrappers.SparkApplicationWrapper)
		kube  []string
		want  *expect
		clean bool
	}{
		"volcano with queue":          {mod: both(scheduler("volcano"), opts(wrappers.Ptr("q"), wrappers.Ptr("high"))), clean: true},
		"yunikorn with queue":         {mod: both(scheduler("yunikorn"), opts(wrappers.Ptr("root.a"), nil)), clean: true},
		"kube scheduler given":        {mod: scheduler("sp"), kube: []string{"sp"}, clean: true},
		"unknown scheduler":           {mod: scheduler("sp"), want: &expect{severityWarning, "spec.batchScheduler", `"sp" is not a batch scheduler the operator handles`}},
		"options without a scheduler": {mod: opts(wrappers.Ptr("q"), nil), want: &expect{severityWarning, "spec.batchSchedulerOptions", "set without spec.batchScheduler"}},
		"coscheduling with a queue":   {mod: both(scheduler("sp"), opts(wrappers.Ptr("q"), nil)), kube: []string{"sp"}, want: &expect{severityError, "spec.batchSchedulerOptions", "no meaning for the coscheduling scheduler"}},
		"yunikorn priority class":     {mod: both(scheduler("yunikorn"), opts(nil, wrappers.Ptr("high"))), want: &expect{severityWarning, "priorityClassName", "not read by YuniKorn"}},
		"start timeout typo": {mod: func(w *wrappers.SparkApplicationWrapper) {
			w.Annotation(v1beta2.AnnotationDriverStartTimeout, "ten minutes")
		},
			want: &expect{severityError, v1beta2.AnnotationDriverStartTimeout, "is not a duration"}},
		"start timeout": {mod: func(w *wrappers.SparkApplicationWrapper) { w.Annotation(v1beta2.AnnotationDriverStartTimeout, "2h") }, clean: true},
		"ready timeout typo": {mod: func(w *wrappers.SparkApplicationWrapper) {
			w.Annotation(v1beta2.AnnotationDriverReadyTimeout, "-5m")
		},
			want: &expect{severityError, v1beta2.AnnotationDriverReadyTimeout, "is not a duration"}},
		"executor start timeout typo": {mod: func(w *wrappers.SparkApplicationWrapper) {
			w.Annotation(v1beta2.AnnotationExecutorStartTimeout, "soon")
		},
			want: &expect{severityError, v1beta2.AnnotationExecutorStartTimeout, "is not a duration"}},
		"ready and executor start timeouts": {mod: func(w *wrappers.SparkApplicationWrapper) {
			w.Annotation(v1beta2.AnnotationDriverReadyTimeout, "10m").Annotation(v1beta2.AnnotationExecutorStartTimeout, " 0 ")
		}, clean: true},
	} {
		t.Run(name, func(t *testing.T) {
			findings := lintYAML(t, dir, util.SparkPiYAML(t, tc.mod), tc.kube...)
			if tc.clean {
				for _, f := range findings {
					if f.Severity != severityInfo {
						t.Errorf("unexpected finding %+v", f)
					}
				}
				return
			}
			if !hasFinding(findings, *tc.want) {
				t.Errorf("findings %+v lack %+v", findings, *tc.want)
			}
		})
	}
}
