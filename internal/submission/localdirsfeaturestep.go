package submission

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// localDirsStep is LocalDirsFeatureStep: volumes mounted as spark-local-dir-* are the local dirs;
// otherwise spark.local.dir (or /var/data/spark-<id>) gets emptyDir volumes.
func (b *driverBuilder) localDirsStep() error {
	var dirs []string
	for _, m := range b.container.VolumeMounts {
		if strings.HasPrefix(m.Name, localDirVolumePrefix) {
			dirs = append(dirs, m.MountPath)
		}
	}
	if len(dirs) == 0 {
		local := b.conf[keyLocalDir]
		if local == "" {
			local = "/var/data/spark-" + b.sub.ID
		}
		medium := corev1.StorageMediumDefault
		if strings.EqualFold(b.conf[keyLocalDirsTmpfs], "true") {
			medium = corev1.StorageMediumMemory
		}
		for i, d := range strings.Split(local, ",") {
			name := fmt.Sprintf("%s%d", localDirVolumePrefix, i+1)
			b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: medium}}})
			b.container.VolumeMounts = append(b.container.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: d})
			dirs = append(dirs, d)
		}
	}
	b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "SPARK_LOCAL_DIRS", Value: strings.Join(dirs, ",")})
	return nil
}
