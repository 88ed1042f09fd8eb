package submission

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

func TestSparkDefaultsFile(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := SparkDefaultsFile(env(map[string]string{"SPARK_CONF_DIR": "/c", "SPARK_HOME": "/h"})); got != "/c/spark-defaults.conf" {
		t.Errorf("SPARK_CONF_DIR: %s", got)
	}
	if got := SparkDefaultsFile(env(map[string]string{"SPARK_HOME": "/h"})); got != "/h/conf/spark-defaults.conf" {
		t.Errorf("SPARK_HOME: %s", got)
	}
	if got := SparkDefaultsFile(env(nil)); got != "" {
		t.Errorf("neither: %q", got)
	}
}

// TestLoadSparkDefaults: the file is read as Spark reads it, and its properties rank below the
// application's sparkConf and the operator's own settings.
func TestLoadSparkDefaults(t *testing.T) {
	if d, err := LoadSparkDefaults(filepath.Join(t.TempDir(), "missing.conf")); d != nil || err != nil {
		t.Fatalf("missing file: %v %v", d, err)
	}
	path := filepath.Join(t.TempDir(), "spark-defaults.conf")
	text := "# platform defaults\nspark.eventLog.enabled   true\nspark.eventLog.dir=s3a://logs/${user}  \n" +
		"spark.executor.memory 4g\nspark.kubernetes.namespace elsewhere\nspark.kubernetes.driver.pod.name fixed\nnot.spark x\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := LoadSparkDefaults(path)
	if err != nil {
		t.Fatal(err)
	}
	if d["spark.eventLog.enabled"] != "true" || d["spark.eventLog.dir"] != "s3a://logs/${user}" || d["not.spark"] != "" {
		t.Fatalf("parsed %v", d)
	}
	app := wrappers.MakeSparkApplication("pi", "default").SparkConf("spark.eventLog.enabled", "false").
		Executor(func(e *v1beta2.ExecutorSpec) { m := "2g"; e.Memory = &m }).Obj()
	conf, err := buildConf(app, NewSubmission("uid", "r", 1, app.CreationTimestamp.Time), Options{SparkDefaults: d})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"spark.eventLog.enabled":     "false",              // sparkConf wins
		"spark.eventLog.dir":         "s3a://logs/${user}", // only in the defaults
		"spark.executor.memory":      "2g",                 // the spec wins
		"spark.kubernetes.namespace": "default",            // the operator's setting wins
	} {
		if conf[k] != want {
			t.Errorf("%s = %q, want %q", k, conf[k], want)
		}
	}
	if conf[keyDriverPodName] == "fixed" {
		t.Errorf("the driver pod name came from the defaults")
	}
}
