package kubernetes

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha2 "k8s.io/api/scheduling/v1alpha2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

func render(t *testing.T, app *v1beta2.SparkApplication) *submission.Resources {
	t.Helper()
	res, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 1, time.Unix(1700000000, 0)), submission.Options{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return res
}

func TestExecutorGangSize(t *testing.T) {
	cases := []struct {
		name    string
		conf    submission.Conf
		want    int32
		wantErr string // the FieldError's field
	}{
		{name: "instances", conf: submission.Conf{keyExecutorInstances: "3"}, want: 3},
		{name: "Spark's default", conf: submission.Conf{}, want: 2},
		{name: "no executors", conf: submission.Conf{keyExecutorInstances: "0"}, want: 0},
		{name: "instances not a number", conf: submission.Conf{keyExecutorInstances: "x"}, wantErr: "spec.executor.instances"},
		{name: "dynamic allocation: the minimum", conf: submission.Conf{keyDAEnabled: "true", keyDAMin: "2", "spark.dynamicAllocation.initialExecutors": "5", keyExecutorInstances: "4"}, want: 2},
		{name: "dynamic allocation, TRUE", conf: submission.Conf{keyDAEnabled: "TRUE", keyDAMin: "1"}, want: 1},
		{name: "dynamic allocation without a minimum", conf: submission.Conf{keyDAEnabled: "true"}, wantErr: "spec.dynamicAllocation.minExecutors"},
		{name: "dynamic allocation, minimum 0", conf: submission.Conf{keyDAEnabled: "true", keyDAMin: "0"}, wantErr: "spec.dynamicAllocation.minExecutors"},
		{name: "dynamic allocation off", conf: submission.Conf{keyDAEnabled: "false", keyDAMin: "0", keyExecutorInstances: "4"}, want: 4},
		{name: "maxPendingPods below the gang", conf: submission.Conf{keyExecutorInstances: "4", keyMaxPendingPods: "3"}, wantErr: "spec.sparkConf[spark.kubernetes.allocation.maxPendingPods]"},
		{name: "maxPendingPods equal to the gang", conf: submission.Conf{keyExecutorInstances: "4", keyMaxPendingPods: "4"}, want: 4},
		{name: "maxPendingPods not a number", conf: submission.Conf{keyExecutorInstances: "4", keyMaxPendingPods: "many"}, wantErr: "spec.sparkConf[spark.kubernetes.allocation.maxPendingPods]"},
		{name: "maxPendingPods without executors", conf: submission.Conf{keyExecutorInstances: "0", keyMaxPendingPods: "0"}, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExecutorGangSize(tc.conf)
			if tc.wantErr != "" {
				var fe *submission.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.wantErr {
					t.Fatalf("ExecutorGangSize = %d, %v; want a FieldError on %s", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ExecutorGangSize = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	base := wrappers.MakeSparkApplication("pi", "ns").BatchScheduler(Name)
	withTemplateGroup := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{SchedulingGroup: &corev1.PodSchedulingGroup{PodGroupName: ptr.To("mine")}}}
	cases := []struct {
		field string
		app   *v1beta2.SparkApplication
	}{
		{"spec.batchSchedulerOptions.queue", base.Clone().Spec(func(s *v1beta2.SparkApplicationSpec) {
			s.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Queue: ptr.To("default")}
		}).Obj()},
		{"spec.batchSchedulerOptions.priorityClassName", base.Clone().Spec(func(s *v1beta2.SparkApplicationSpec) {
			s.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{PriorityClassName: ptr.To("high")}
		}).Obj()},
		{"spec.batchSchedulerOptions.resources", base.Clone().Spec(func(s *v1beta2.SparkApplicationSpec) {
			s.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{Resources: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}}
		}).Obj()},
		{"spec.driver.template.spec.schedulingGroup", base.Clone().DriverTemplate(withTemplateGroup).Obj()},
		{"spec.executor.template.spec.schedulingGroup", base.Clone().Executor(func(e *v1beta2.ExecutorSpec) { e.Template = &v1beta2.PodTemplate{PodTemplateSpec: *withTemplateGroup} }).Obj()},
		{"spec.dynamicAllocation.minExecutors", base.Clone().Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = nil }).DynamicAllocation(-1, 2, 10).Obj()},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			res := render(t, tc.app)
			err := Validate(tc.app, res.Conf)
			var fe *submission.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("Validate = %v; want a FieldError on %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), `"kubernetes"`) {
				t.Errorf("the message %q does not name the batch scheduler", err)
			}
			if objs, err := Objects(tc.app, res); err == nil || objs != nil {
				t.Errorf("Objects = %v, %v; want Validate's error", objs, err)
			}
		})
	}
	// An empty batchSchedulerOptions is no request at all.
	app := base.Clone().Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.BatchSchedulerOptions = &v1beta2.BatchSchedulerConfiguration{}
	}).Obj()
	if err := Validate(app, render(t, app).Conf); err != nil {
		t.Errorf("Validate with empty batchSchedulerOptions = %v", err)
	}
}

func TestObjects(t *testing.T) {
	app := wrappers.MakeSparkApplication("pi", "team-a").UID("0b4d6f1e-0000-4000-8000-000000000001").BatchScheduler(Name).ExecutorInstances(3).Obj()
	owner := metav1.OwnerReference{
		APIVersion: "sparkoperator.k8s.io/v1beta2", Kind: "SparkApplication", Name: "pi",
		UID: app.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
	res := render(t, app)
	id := res.DriverPod.Labels["sparkoperator.k8s.io/submission-id"]
	suffix := strings.ReplaceAll(id, "-", "")[:8]
	labels := map[string]string{"sparkoperator.k8s.io/app-name": "pi", "sparkoperator.k8s.io/created-by-spark-operator": "true", "sparkoperator.k8s.io/submission-id": id}
	gang := schedulingv1alpha2.PodGroupSchedulingPolicy{Gang: &schedulingv1alpha2.GangSchedulingPolicy{MinCount: 3}}
	objs, err := Objects(app, res)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		&schedulingv1alpha2.Workload{
			TypeMeta:   metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1alpha2", Kind: "Workload"},
			ObjectMeta: metav1.ObjectMeta{Name: "spark-pi-" + suffix, Namespace: "team-a", Labels: labels, OwnerReferences: []metav1.OwnerReference{owner}},
			Spec: schedulingv1alpha2.WorkloadSpec{
				ControllerRef:     &schedulingv1alpha2.TypedLocalObjectReference{APIGroup: "sparkoperator.k8s.io", Kind: "SparkApplication", Name: "pi"},
				PodGroupTemplates: []schedulingv1alpha2.PodGroupTemplate{{Name: "executors", SchedulingPolicy: gang}},
			},
		},
		&schedulingv1alpha2.PodGroup{
			TypeMeta:   metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1alpha2", Kind: "PodGroup"},
			ObjectMeta: metav1.ObjectMeta{Name: "spark-pi-" + suffix + "-executors", Namespace: "team-a", Labels: labels, OwnerReferences: []metav1.OwnerReference{owner}},
			Spec: schedulingv1alpha2.PodGroupSpec{
				PodGroupTemplateRef: &schedulingv1alpha2.PodGroupTemplateReference{Workload: &schedulingv1alpha2.WorkloadPodGroupTemplateReference{
					WorkloadName: "spark-pi-" + suffix, PodGroupTemplateName: "executors",
				}},
				SchedulingPolicy: gang,
			},
		},
	}
	got := make([]any, len(objs))
	for i, o := range objs {
		got[i] = o
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Objects (-want +got):\n%s", diff)
	}

	// Another attempt, another pair: the objects are immutable, so a resubmission must not find the
	// old ones.
	again, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 2, time.Unix(1700000000, 0)), submission.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if WorkloadName(app, again) == WorkloadName(app, res) || ExecutorPodGroupName(app, again) == ExecutorPodGroupName(app, res) {
		t.Errorf("attempts 1 and 2 share names %s, %s", WorkloadName(app, res), ExecutorPodGroupName(app, res))
	}
}

func TestObjectsWithoutExecutors(t *testing.T) {
	// spec.executor.instances 0 means "not set" (1 executor, as Kueue writes it back); no executors is
	// spark.executor.instances=0 in sparkConf.
	app := wrappers.MakeSparkApplication("pi", "ns").BatchScheduler(Name).Executor(func(e *v1beta2.ExecutorSpec) { e.Instances = nil }).
		SparkConf("spark.executor.instances", "0").Obj()
	res := render(t, app)
	objs, err := Objects(app, res)
	if err != nil || objs != nil {
		t.Fatalf("Objects = %v, %v; want none", objs, err)
	}
	pod := &corev1.Pod{}
	if err := MutateExecutorTemplate(app, res, pod); err != nil || pod.Spec.SchedulingGroup != nil {
		t.Fatalf("MutateExecutorTemplate = %v, group %v; want the template left alone", err, pod.Spec.SchedulingGroup)
	}
}

func TestLongNames(t *testing.T) {
	long := strings.Repeat("a", 250)
	app := wrappers.MakeSparkApplication(long, "ns").Obj()
	res := &submission.Resources{DriverPod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
		"sparkoperator.k8s.io/submission-id": "0b4d6f1e-0000-4000-8000-000000000001",
	}}}}
	for _, name := range []string{WorkloadName(app, res), ExecutorPodGroupName(app, res)} {
		if len(name) > 253 {
			t.Errorf("%q is %d characters, more than 253", name, len(name))
		}
	}
	if !strings.HasSuffix(ExecutorPodGroupName(app, res), "-0b4d6f1e-executors") || !strings.HasSuffix(WorkloadName(app, res), "-0b4d6f1e") {
		t.Errorf("names %q and %q", WorkloadName(app, res), ExecutorPodGroupName(app, res))
	}
	other := wrappers.MakeSparkApplication(long[:249]+"b", "ns").Obj()
	if ExecutorPodGroupName(app, res) == ExecutorPodGroupName(other, res) {
		t.Errorf("two long names give the same PodGroup %q", ExecutorPodGroupName(app, res))
	}
}

// TestMutateExecutorTemplate puts the group on the rendered template as the driver will read it: the
// YAML in the executor pod template ConfigMap, decoded, mutated and encoded again.
func TestMutateExecutorTemplate(t *testing.T) {
	app := wrappers.MakeSparkApplication("pi", "ns").BatchScheduler(Name).ExecutorInstances(2).Obj()
	res := render(t, app)
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(res.ExecutorTemplateConfigMap.Data[submission.PodTemplateKey]), pod); err != nil {
		t.Fatal(err)
	}
	before := pod.DeepCopy()
	if err := MutateExecutorTemplate(app, res, pod); err != nil {
		t.Fatal(err)
	}
	want := before.DeepCopy()
	want.Spec.SchedulingGroup = &corev1.PodSchedulingGroup{PodGroupName: ptr.To(ExecutorPodGroupName(app, res))}
	want.Spec.SchedulerName = "" // the render put "kubernetes" there: kube-scheduler's default profile instead
	if diff := cmp.Diff(want, pod); diff != "" {
		t.Errorf("MutateExecutorTemplate changed more than the group (-want +got):\n%s", diff)
	}
	out, err := yaml.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "schedulingGroup:\n    podGroupName: "+ExecutorPodGroupName(app, res)+"\n") {
		t.Errorf("the template YAML has no schedulingGroup:\n%s", out)
	}

	driver := res.DriverPod.DeepCopy()
	MutateDriverPod(app, driver)
	wantDriver := res.DriverPod.DeepCopy()
	wantDriver.Spec.SchedulerName = ""
	if diff := cmp.Diff(wantDriver, driver); diff != "" {
		t.Errorf("MutateDriverPod changed more than the scheduler name (-want +got):\n%s", diff)
	}
}

// TestSchedulerName: the pods keep a scheduler name of their own, and only "kubernetes" is undone.
func TestSchedulerName(t *testing.T) {
	app := wrappers.MakeSparkApplication("pi", "ns").BatchScheduler(Name).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.Driver.SchedulerName = ptr.To("gang-profile")
		s.Executor.SchedulerName = ptr.To("gang-profile")
	}).Obj()
	res := &submission.Resources{Conf: submission.Conf{keyExecutorInstances: "2"}}
	for _, tc := range []struct{ in, want string }{{"kubernetes", "gang-profile"}, {"other", "other"}, {"", ""}} {
		driver, exec := &corev1.Pod{}, &corev1.Pod{}
		driver.Spec.SchedulerName, exec.Spec.SchedulerName = tc.in, tc.in
		MutateDriverPod(app, driver)
		if err := MutateExecutorTemplate(app, res, exec); err != nil {
			t.Fatal(err)
		}
		if driver.Spec.SchedulerName != tc.want || exec.Spec.SchedulerName != tc.want {
			t.Errorf("schedulerName %q: driver %q, executor %q; want %q", tc.in, driver.Spec.SchedulerName, exec.Spec.SchedulerName, tc.want)
		}
	}
}
