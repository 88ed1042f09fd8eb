package batchscheduler_test

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/batchscheduler/volcano"
	"github.com/sparkop/spark-operator/internal/batchscheduler/yunikorn"
)

// TestResolve: which scheduler an application goes to, and what is said when its batchScheduler
// fields have no effect (Kubeflow: an unknown name with batch scheduling on fails the submission).
func TestResolve(t *testing.T) {
	on := registry(t)
	withDefault, err := batchscheduler.NewRegistry(yunikorn.Name, volcano.Scheduler{}, yunikorn.Scheduler{})
	if err != nil {
		t.Fatal(err)
	}
	var off *batchscheduler.Registry
	opts := &v1beta2.BatchSchedulerConfiguration{Queue: ptr.To("q")}
	for _, tc := range []struct {
		name      string
		r         *batchscheduler.Registry
		scheduler *string
		options   *v1beta2.BatchSchedulerConfiguration
		want      string // scheduler name
		notice    string // substring
		notFound  bool
	}{
		{name: "off, none", r: off},
		{name: "off, volcano", r: off, scheduler: ptr.To("volcano"), notice: "only sets the pods' schedulerName"},
		{name: "off, options", r: off, options: opts, notice: "spec.batchSchedulerOptions is ignored"},
		{name: "on, volcano", r: on, scheduler: ptr.To("volcano"), want: "volcano"},
		{name: "on, kube scheduler", r: on, scheduler: ptr.To("scheduler-plugins-scheduler"), want: "scheduler-plugins-scheduler"},
		{name: "on, unknown", r: on, scheduler: ptr.To("kueue"), notFound: true},
		{name: "on, none", r: on},
		{name: "on, options only", r: on, options: opts, notice: "no --default-batch-scheduler"},
		{name: "default", r: withDefault, want: "yunikorn"},
		{name: "default, explicit wins", r: withDefault, scheduler: ptr.To("volcano"), want: "volcano"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &v1beta2.SparkApplication{Spec: v1beta2.SparkApplicationSpec{BatchScheduler: tc.scheduler, BatchSchedulerOptions: tc.options}}
			s, notice, err := tc.r.Resolve(app)
			var nf *batchscheduler.NotHandledError
			if tc.notFound != errors.As(err, &nf) {
				t.Fatalf("err = %v", err)
			}
			if tc.notFound && !strings.Contains(err.Error(), "spec.batchScheduler") {
				t.Errorf("error %q does not name the field", err)
			}
			got := ""
			if s != nil {
				got = s.Name()
			}
			if got != tc.want {
				t.Errorf("scheduler = %q, want %q", got, tc.want)
			}
			if (tc.notice == "") != (notice == "") || !strings.Contains(notice, tc.notice) {
				t.Errorf("notice = %q, want one with %q", notice, tc.notice)
			}
		})
	}
	if _, err := batchscheduler.NewRegistry("nope", volcano.Scheduler{}); err == nil || !strings.Contains(err.Error(), "--default-batch-scheduler") {
		t.Errorf("unknown default: err = %v", err)
	}
	if _, err := batchscheduler.NewRegistry("", volcano.Scheduler{}, volcano.Scheduler{}); err == nil {
		t.Error("duplicate names accepted")
	}
}
