package submission

import corev1 "k8s.io/api/core/v1"

// executorTemplateStep is PodTemplateConfigMapStep: the executor pod template mounted at
// /opt/spark/pod-template and named by spark.kubernetes.executor.podTemplateFile. Unlike spark-submit,
// which writes it into a ConfigMap of its own ("<prefix>-driver-podspec-conf-map"), the template is a
// key of the one ConfigMap of the submission (confConfigMap), mounted under the same volume name and
// path: one object fewer to create per application (docs/submission.md).
func (b *driverBuilder) executorTemplateStep() error {
	pod, text, err := executorTemplate(b.app, b.conf, b.opts, b.names)
	if err != nil {
		return err
	}
	b.res.ExecutorTemplate = pod
	b.templateText = text
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: podTemplateVolume, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: b.names.confConfigMap},
			Items:                []corev1.KeyToPath{{Key: podTemplateKey, Path: podTemplateFileName}},
		},
	}})
	b.container.VolumeMounts = append(b.container.VolumeMounts, corev1.VolumeMount{Name: podTemplateVolume, MountPath: podTemplateMountPath})
	b.conf[keyExecutorTemplateFile] = podTemplateMountPath + "/" + podTemplateFileName
	b.conf[keyExecutorTemplateName] = executorContainerName
	return nil
}
