package submission

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// commandStep is DriverCommandFeatureStep: the driver's arguments to the image entrypoint,
// "driver [--proxy-user U] --properties-file /opt/spark/conf/spark.properties --class C <resource> <args>".
func (b *driverBuilder) commandStep() error {
	spec := &b.app.Spec
	resourceFile := *spec.MainApplicationFile
	var mainClass, resourceType string
	switch appType(spec) {
	case v1beta2.SparkApplicationTypePython:
		mainClass, resourceType = pythonRunnerClass, "python"
		pyspark := b.conf[keyPySparkPython]
		driverPython := firstNonEmpty(b.conf[keyPySparkDriverPython], pyspark)
		if pyspark != "" {
			b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "PYSPARK_PYTHON", Value: pyspark})
		}
		if driverPython != "" {
			b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "PYSPARK_DRIVER_PYTHON", Value: driverPython})
		}
	case v1beta2.SparkApplicationTypeR:
		mainClass, resourceType = rRunnerClass, "r"
	default:
		if spec.MainClass == nil || *spec.MainClass == "" {
			return fieldError("spec.mainClass", "is required for %s applications (spark-submit's --class)", appType(spec))
		}
		mainClass, resourceType = *spec.MainClass, "java"
	}
	args := []string{"driver"}
	if b.hostFromPodIP {
		args = append(args, "--conf", driverHostFromPodIP)
	}
	if spec.ProxyUser != nil && *spec.ProxyUser != "" {
		args = append(args, "--proxy-user", *spec.ProxyUser)
	}
	args = append(args, "--properties-file", sparkConfDir+"/"+PropertiesFileName, "--class", mainClass, resourceFile)
	args = append(args, spec.Arguments...)
	b.container.Args = append(b.container.Args, args...)
	b.conf[keyResourceType] = resourceType
	return nil
}
