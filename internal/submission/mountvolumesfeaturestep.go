package submission

import (
	"strings"
)

// mountVolumesStep is MountVolumesFeatureStep for spark.kubernetes.driver.volumes.*.
func (b *driverBuilder) mountVolumesStep() error {
	vols, mounts, err := parseSparkVolumes(b.conf, prefixDriverVolumes)
	if err != nil {
		return fieldError("spec.volumes", "%v", err)
	}
	for _, v := range vols {
		if v.PersistentVolumeClaim != nil && strings.Contains(v.PersistentVolumeClaim.ClaimName, "OnDemand") {
			return fieldError("spec.volumes", "volume %q: on-demand persistent volume claims are supported for executors only", v.Name)
		}
	}
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, vols...)
	b.container.VolumeMounts = append(b.container.VolumeMounts, mounts...)
	return nil
}
