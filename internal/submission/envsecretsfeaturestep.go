package submission

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// envSecretsStep is EnvSecretsFeatureStep: spark.kubernetes.driver.secretKeyRef.<ENV>=<secret>:<key>.
func (b *driverBuilder) envSecretsStep() error {
	env, err := secretKeyRefEnv(b.conf, prefixDriverSecretKeyRef)
	b.container.Env = append(b.container.Env, env...)
	return err
}

func secretKeyRefEnv(conf Conf, prefix string) ([]corev1.EnvVar, error) {
	var env []corev1.EnvVar
	for _, e := range conf.withPrefix(prefix) {
		name, key, ok := strings.Cut(e.value, ":")
		if !ok || strings.Contains(key, ":") || name == "" || key == "" {
			return nil, fieldError("spec.sparkConf", "%s%s=%q must be <secret name>:<key>", prefix, e.key, e.value)
		}
		env = append(env, corev1.EnvVar{Name: e.key, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key},
		}})
	}
	return env, nil
}
