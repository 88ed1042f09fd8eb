package submission

import (
	corev1 "k8s.io/api/core/v1"
)

// mountSecretsStep is MountSecretsFeatureStep: spark.kubernetes.driver.secrets.<name>=<path>.
func (b *driverBuilder) mountSecretsStep() error {
	for _, e := range b.conf.withPrefix(prefixDriverSecrets) {
		vol := e.key + "-volume"
		b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: e.key}}})
		b.container.VolumeMounts = append(b.container.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: e.value})
	}
	return nil
}
