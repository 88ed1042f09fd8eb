package submission

import corev1 "k8s.io/api/core/v1"

// hadoopConfStep is HadoopConfDriverFeatureStep for an existing ConfigMap
// (spark.kubernetes.hadoop.configMapName); the submitter has no HADOOP_CONF_DIR of its own.
func (b *driverBuilder) hadoopConfStep() error {
	name := b.conf[keyHadoopConfigMapName]
	if name == "" {
		return nil
	}
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: "hadoop-properties", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}},
	}})
	b.container.VolumeMounts = append(b.container.VolumeMounts, corev1.VolumeMount{Name: "hadoop-properties", MountPath: "/opt/hadoop/conf"})
	b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "HADOOP_CONF_DIR", Value: "/opt/hadoop/conf"})
	b.conf["spark.kubernetes.executor.hadoopConfigMapName"] = name
	return nil
}
