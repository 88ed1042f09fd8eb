package wrappers

import (
	"testing"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

func TestMakeSparkApplicationBase(t *testing.T) {
	app := MakeSparkApplication("pi", "ns").Obj()
	if app.Name != "pi" || app.Namespace != "ns" {
		t.Errorf("name/namespace = %s/%s, want ns/pi", app.Namespace, app.Name)
	}
	if app.APIVersion != "sparkoperator.k8s.io/v1beta2" || app.Kind != "SparkApplication" {
		t.Errorf("type meta = %+v", app.TypeMeta)
	}
	s := app.Spec
	if s.Type != v1beta2.SparkApplicationTypeScala || s.Mode != v1beta2.DeployModeCluster ||
		*s.Image != DefaultImage || s.SparkVersion != DefaultSparkVersion ||
		*s.MainApplicationFile != DefaultMainFile || *s.MainClass != DefaultMainClass {
		t.Errorf("base spec = %+v", s)
	}
	if *s.Driver.ServiceAccount != "spark" || *s.Executor.Instances != 1 || *s.Driver.Memory != "512m" {
		t.Errorf("base driver/executor = %+v / %+v", s.Driver, s.Executor)
	}
}

func TestCloneIsDeep(t *testing.T) {
	base := MakeSparkApplication("pi", "ns").SparkConf("a", "1")
	clone := base.Clone().SparkConf("a", "2").ExecutorInstances(5).DriverLabel("x", "y")
	if base.Obj().Spec.SparkConf["a"] != "1" || *base.Obj().Spec.Executor.Instances != 1 ||
		base.Obj().Spec.Driver.Labels != nil {
		t.Errorf("changing the clone changed the base: %+v", base.Obj().Spec)
	}
	if clone.Obj().Spec.SparkConf["a"] != "2" || *clone.Obj().Spec.Executor.Instances != 5 {
		t.Errorf("clone = %+v", clone.Obj().Spec)
	}
}

func TestFluentSetters(t *testing.T) {
	app := MakeSparkApplication("pi", "ns").
		Python().
		RestartPolicy(v1beta2.RestartPolicyOnFailure).OnFailureRetries(3, 10).OnSubmissionFailureRetries(2, 0).
		DynamicAllocation(1, -1, 4).
		EmptyDirVolume("spark-local-dir-1", "/tmp/spark").
		DriverIngress(8080, "web", "{{$appName}}.example.com").
		Name("other").Namespace("ns2").Label("l", "v").
		Obj()
	if app.Name != "other" || app.Namespace != "ns2" || app.Labels["l"] != "v" {
		t.Errorf("metadata = %+v", app.ObjectMeta)
	}
	if app.Spec.Type != v1beta2.SparkApplicationTypePython || app.Spec.MainClass != nil || *app.Spec.PythonVersion != "3" {
		t.Errorf("Python() = %+v", app.Spec)
	}
	rp := app.Spec.RestartPolicy
	if rp.Type != v1beta2.RestartPolicyOnFailure || *rp.OnFailureRetries != 3 || *rp.OnFailureRetryInterval != 10 ||
		*rp.OnSubmissionFailureRetries != 2 || rp.OnSubmissionFailureRetryInterval != nil {
		t.Errorf("restartPolicy = %+v", rp)
	}
	da := app.Spec.DynamicAllocation
	if !da.Enabled || *da.MinExecutors != 1 || da.InitialExecutors != nil || *da.MaxExecutors != 4 {
		t.Errorf("dynamicAllocation = %+v", da)
	}
	if len(app.Spec.Volumes) != 1 || len(app.Spec.Driver.VolumeMounts) != 1 || len(app.Spec.Executor.VolumeMounts) != 1 {
		t.Errorf("volumes = %+v", app.Spec.Volumes)
	}
	if len(app.Spec.DriverIngressOptions) != 1 || *app.Spec.DriverIngressOptions[0].ServicePort != 8080 {
		t.Errorf("driverIngressOptions = %+v", app.Spec.DriverIngressOptions)
	}
}

func TestMakeScheduledSparkApplication(t *testing.T) {
	tmpl := MakeSparkApplication("ignored", "ignored").ExecutorInstances(2)
	s := MakeScheduledSparkApplication("cron", "ns").Template(tmpl).
		ConcurrencyPolicy(v1beta2.ConcurrencyForbid).HistoryLimits(3, 4).Obj()
	if s.Spec.Schedule != DefaultSchedule || s.Kind != "ScheduledSparkApplication" {
		t.Errorf("scheduled = %+v", s)
	}
	if *s.Spec.Template.Executor.Instances != 2 || s.Spec.ConcurrencyPolicy != v1beta2.ConcurrencyForbid ||
		*s.Spec.SuccessfulRunHistoryLimit != 3 || *s.Spec.FailedRunHistoryLimit != 4 {
		t.Errorf("scheduled spec = %+v", s.Spec)
	}
	// The template is a copy.
	tmpl.ExecutorInstances(7)
	if *s.Spec.Template.Executor.Instances != 2 {
		t.Error("template shares memory with the application it was copied from")
	}
}
