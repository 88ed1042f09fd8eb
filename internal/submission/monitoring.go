package submission

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Prometheus JMX exporter defaults, as in Kubeflow's operator.
const (
	defaultPrometheusPort     = 8090
	defaultPrometheusPortName = "jmx-exporter"
	prometheusConfigKey       = "prometheus.yaml"
	metricsPropertiesKey      = "metrics.properties"
)

// defaultMetricsProperties enables Spark's JMX sink and JVM sources, which the JMX exporter reads.
const defaultMetricsProperties = `*.sink.jmx.class=org.apache.spark.metrics.sink.JmxSink
driver.source.jvm.class=org.apache.spark.metrics.source.JvmSource
executor.source.jvm.class=org.apache.spark.metrics.source.JvmSource
`

// defaultPrometheusConfig is the JMX exporter configuration used when spec.monitoring.prometheus sets
// neither configuration nor configFile: Spark's metrics become spark_driver_* / spark_executor_* series.
const defaultPrometheusConfig = `lowercaseOutputName: true
attrNameSnakeCase: true
rules:
  - pattern: metrics<name=(\S+)\.(\S+)\.driver\.(\S+)><>Value
    name: spark_driver_$3
    labels:
      app_namespace: "$1"
      app_id: "$2"
  - pattern: metrics<name=(\S+)\.(\S+)\.(\d+)\.(\S+)><>Value
    name: spark_executor_$4
    labels:
      app_namespace: "$1"
      app_id: "$2"
      executor_id: "$3"
  - pattern: metrics<name=(\S+)\.(\S+)\.driver\.(\S+)><>Count
    name: spark_driver_$3_count
    type: COUNTER
  - pattern: metrics<name=(\S+)\.(\S+)\.(\d+)\.(\S+)><>Count
    name: spark_executor_$4_count
    type: COUNTER
    labels:
      executor_id: "$3"
`

// monitoringConf adds the Spark properties of spec.monitoring: the metrics namespace and file, and the
// JMX exporter java agent for the roles whose metrics are exposed.
func monitoringConf(conf Conf, app *v1beta2.SparkApplication) {
	m := app.Spec.Monitoring
	if m == nil {
		return
	}
	conf[keyMetricsNamespace] = app.Namespace + "." + app.Name
	conf[keyMetricsConf] = metricsPropertiesFile(m)
	if m.Prometheus == nil {
		return
	}
	agent := "-javaagent:" + m.Prometheus.JmxExporterJar + "=" + strconv.Itoa(int(prometheusPort(m))) + ":" + prometheusConfigFile(m)
	for _, role := range []struct {
		expose bool
		key    string
	}{{m.ExposeDriverMetrics, keyDriverJavaOptions}, {m.ExposeExecutorMetrics, keyExecutorJavaOptions}} {
		if role.expose {
			conf[role.key] = strings.TrimSpace(conf[role.key] + " " + agent)
		}
	}
}

func metricsPropertiesFile(m *v1beta2.MonitoringSpec) string {
	if m.MetricsPropertiesFile != nil && *m.MetricsPropertiesFile != "" {
		return *m.MetricsPropertiesFile
	}
	return defaultMetricsPropsFile
}

func prometheusConfigFile(m *v1beta2.MonitoringSpec) string {
	if m.Prometheus.ConfigFile != nil && *m.Prometheus.ConfigFile != "" {
		return *m.Prometheus.ConfigFile
	}
	return defaultMetricsConfPath + "/" + prometheusConfigKey
}

func prometheusPort(m *v1beta2.MonitoringSpec) int32 {
	if m.Prometheus != nil && m.Prometheus.Port != nil {
		return *m.Prometheus.Port
	}
	return defaultPrometheusPort
}

// addMonitoring mounts the metrics ConfigMap at /etc/metrics/conf and declares the exporter port on the
// pods of a role whose metrics are exposed, with the prometheus.io scrape annotations.
func addMonitoring(pod *corev1.Pod, c *corev1.Container, app *v1beta2.SparkApplication, r role, n names) {
	m := app.Spec.Monitoring
	if m == nil || (r == roleDriver && !m.ExposeDriverMetrics) || (r == roleExecutor && !m.ExposeExecutorMetrics) {
		return
	}
	if needsMetricsConfigMap(m) {
		addConfigMapVolume(pod, c, n.metricsVolumeName, n.metricsConfigMap, defaultMetricsConfPath, false)
	}
	if m.Prometheus == nil {
		return
	}
	port := prometheusPort(m)
	name := defaultPrometheusPortName
	if m.Prometheus.PortName != nil && *m.Prometheus.PortName != "" {
		name = *m.Prometheus.PortName
	}
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP})
	pod.Annotations = mergeMaps(pod.Annotations, map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(int(port)),
		"prometheus.io/path":   "/metrics",
	})
}

// needsMetricsConfigMap says whether the operator ships metrics.properties or the exporter
// configuration itself (rather than files already in the image).
func needsMetricsConfigMap(m *v1beta2.MonitoringSpec) bool {
	ownProps := m.MetricsPropertiesFile == nil || *m.MetricsPropertiesFile == ""
	ownExporter := m.Prometheus != nil && (m.Prometheus.ConfigFile == nil || *m.Prometheus.ConfigFile == "")
	return ownProps || ownExporter
}

// monitoring adds the metrics ConfigMap to the resources when one is needed.
func (b *driverBuilder) monitoring(int) error {
	m := b.app.Spec.Monitoring
	if m == nil || !needsMetricsConfigMap(m) {
		return nil
	}
	data := map[string]string{}
	if m.MetricsPropertiesFile == nil || *m.MetricsPropertiesFile == "" {
		data[metricsPropertiesKey] = ptr.Deref(m.MetricsProperties, defaultMetricsProperties)
	}
	if m.Prometheus != nil && (m.Prometheus.ConfigFile == nil || *m.Prometheus.ConfigFile == "") {
		data[prometheusConfigKey] = ptr.Deref(m.Prometheus.Configuration, defaultPrometheusConfig)
	}
	b.res.MetricsConfigMap = &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      b.names.metricsConfigMap,
			Namespace: b.app.Namespace,
			Labels:    operatorObjectLabels(b.app, b.sub),
		},
		Data: data,
	}
	return nil
}
