package submission

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/magiconair/properties"
)

// SparkDefaultsFile is where spark-submit looks for its defaults (Spark's
// Utils.getDefaultPropertiesFile): $SPARK_CONF_DIR/spark-defaults.conf, else
// $SPARK_HOME/conf/spark-defaults.conf; "" when neither variable is set. getenv is os.Getenv in the
// operator.
func SparkDefaultsFile(getenv func(string) string) string {
	if dir := getenv("SPARK_CONF_DIR"); dir != "" {
		return filepath.Join(dir, "spark-defaults.conf")
	}
	if home := getenv("SPARK_HOME"); home != "" {
		return filepath.Join(home, "conf", "spark-defaults.conf")
	}
	return ""
}

// LoadSparkDefaults reads a spark-defaults.conf (Java properties, UTF-8, as Spark reads it: values
// trimmed, no ${} expansion) and returns its spark.* properties; spark-submit ignores the others. A
// missing file returns nil and no error, as spark-submit skips it.
//
// The LoadSparkDefaults feature gate makes the operator load the file at start and apply it to every
// submission through Options.SparkDefaults.
func LoadSparkDefaults(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	if info, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) || (err == nil && info.IsDir()) {
		return nil, nil
	}
	l := &properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range p.Keys() {
		if !strings.HasPrefix(k, "spark.") {
			continue
		}
		v, _ := p.Get(k)
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// applySparkDefaults puts the defaults into conf before anything else is set, so that the
// application's sparkConf and everything the operator sets take precedence, as --conf arguments do
// over spark-defaults.conf in spark-submit. The driver pod name is never taken from the defaults.
func applySparkDefaults(conf Conf, defaults map[string]string) {
	for k, v := range defaults {
		if k == keyDriverPodName {
			continue
		}
		conf[k] = v
	}
}
