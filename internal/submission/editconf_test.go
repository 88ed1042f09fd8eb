package submission

import (
	"strings"
	"testing"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestSparkInternal: "spark-internal" names one of Spark's own classes (the Connect server, the
// Thrift server): accepted as the main application file, passed to the driver as is, not in spark.jars;
// EditConf rewrites spark.properties.
func TestSparkInternal(t *testing.T) {
	app := wrappers.MakeSparkApplication("srv", "default").Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.MainApplicationFile = ptrString(SparkInternalResource)
	}).Obj()
	res, err := Render(app, NewSubmission("uid", "r", 1, app.CreationTimestamp.Time), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(res.DriverPod.Spec.Containers[0].Args, " "); !strings.HasSuffix(args, " spark-internal") && !strings.Contains(args, " spark-internal ") {
		t.Errorf("driver args %q", args)
	}
	if strings.Contains(res.Conf["spark.jars"], SparkInternalResource) {
		t.Errorf("spark.jars = %q", res.Conf["spark.jars"])
	}
	res.EditConf(func(c Conf) { c["spark.test.edited"] = "yes" })
	if !strings.Contains(res.ConfConfigMap.Data[PropertiesFileName], "spark.test.edited=yes") {
		t.Errorf("spark.properties not rewritten:\n%s", res.ConfConfigMap.Data[PropertiesFileName])
	}
}

func ptrString(s string) *string { return &s }
