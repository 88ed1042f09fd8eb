package submission

// SparkInternalResource is the main application file that names no jar: the main class is one of
// Spark's own (spark-submit's SparkLauncher.NO_RESOURCE, as start-thriftserver.sh passes it). The
// SparkConnect controller submits org.apache.spark.sql.connect.service.SparkConnectServer with it.
const SparkInternalResource = sparkInternalResource

// EditConf lets edit change the Spark configuration after Render (e.g. the pod label properties of a
// resource other than a SparkApplication) and writes the result back into ConfConfigMap's
// spark.properties, so that the driver reads the edited conf. The driver pod and the executor pod
// template are not re-rendered: edit only properties that the driver reads at run time.
func (r *Resources) EditConf(edit func(conf Conf)) {
	edit(r.Conf)
	r.ConfConfigMap.Data[PropertiesFileName] = propertiesText(r.Conf, "Java properties built from Kubernetes config map with name: "+r.ConfConfigMap.Name)
}
