package submission

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// localDirVolumePrefix marks volumes that Spark uses as local (scratch) directories.
const localDirVolumePrefix = "spark-local-dir-"

// Volume types of spark.kubernetes.{driver,executor}.volumes.<type>.<name>.*, as in Spark's
// KubernetesVolumeUtils.
const (
	volumeTypeHostPath = "hostPath"
	volumeTypePVC      = "persistentVolumeClaim"
	volumeTypeEmptyDir = "emptyDir"
	volumeTypeNFS      = "nfs"
)

// localDirVolumesConf passes the volumes mounted under spark-local-dir-* names as Spark volume
// properties, as Kubeflow does, so that Spark uses them as local directories instead of creating its
// own emptyDir. Other volumes are added to the pods directly (customize.go).
func localDirVolumesConf(conf Conf, prefix, field string, volumes []corev1.Volume, mounts []corev1.VolumeMount) error {
	byName := map[string]*corev1.Volume{}
	for i := range volumes {
		byName[volumes[i].Name] = &volumes[i]
	}
	for _, m := range mounts {
		if !strings.HasPrefix(m.Name, localDirVolumePrefix) {
			continue
		}
		v, ok := byName[m.Name]
		if !ok {
			return fieldError(field, "volumeMount %q refers to no volume in spec.volumes", m.Name)
		}
		var typ string
		opts := map[string]string{}
		switch {
		case v.EmptyDir != nil:
			typ = volumeTypeEmptyDir
			if v.EmptyDir.Medium != "" {
				opts["medium"] = string(v.EmptyDir.Medium)
			}
			if v.EmptyDir.SizeLimit != nil {
				opts["sizeLimit"] = v.EmptyDir.SizeLimit.String()
			}
		case v.HostPath != nil:
			typ = volumeTypeHostPath
			opts["path"] = v.HostPath.Path
			if v.HostPath.Type != nil && *v.HostPath.Type != "" {
				opts["type"] = string(*v.HostPath.Type)
			}
		case v.NFS != nil:
			typ = volumeTypeNFS
			opts["path"] = v.NFS.Path
			opts["server"] = v.NFS.Server
			if v.NFS.ReadOnly {
				opts["readOnly"] = "true"
			}
		case v.PersistentVolumeClaim != nil:
			typ = volumeTypePVC
			opts["claimName"] = v.PersistentVolumeClaim.ClaimName
			if v.PersistentVolumeClaim.ReadOnly {
				opts["readOnly"] = "true"
			}
		default:
			return fieldError("spec.volumes", "volume %q is used as a Spark local directory, which must be an emptyDir, hostPath, nfs or persistentVolumeClaim volume", v.Name)
		}
		base := prefix + typ + "." + v.Name + "."
		conf[base+"mount.path"] = m.MountPath
		if m.SubPath != "" {
			conf[base+"mount.subPath"] = m.SubPath
		}
		if m.ReadOnly {
			conf[base+"mount.readOnly"] = "true"
		}
		for k, val := range opts {
			conf[base+"options."+k] = val
		}
	}
	return nil
}

// sparkVolume is one volume parsed from spark.kubernetes.<role>.volumes.<type>.<name>.*.
type sparkVolume struct {
	typ, name string
	props     map[string]string
}

// parseSparkVolumes parses the volume properties under prefix, as Spark's
// KubernetesVolumeUtils.parseVolumesWithPrefix, into volumes and mounts sorted by name (Spark's order is
// that of a hash set). Errors name the property: unknown type, missing mount.path or required option,
// duplicate mount path.
func parseSparkVolumes(conf Conf, prefix string) ([]corev1.Volume, []corev1.VolumeMount, error) {
	found := map[string]*sparkVolume{}
	var order []string
	for _, e := range conf.withPrefix(prefix) {
		parts := strings.SplitN(e.key, ".", 3)
		if len(parts) < 3 {
			return nil, nil, fmt.Errorf("property %s%s is not of the form <type>.<name>.<option>", prefix, e.key)
		}
		id := parts[0] + "." + parts[1]
		v, ok := found[id]
		if !ok {
			v = &sparkVolume{typ: parts[0], name: parts[1], props: map[string]string{}}
			found[id] = v
			order = append(order, id)
		}
		v.props[parts[2]] = e.value
	}
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	paths := map[string]string{}
	for _, id := range order {
		v := found[id]
		where := prefix + id
		path := v.props["mount.path"]
		if path == "" {
			return nil, nil, fmt.Errorf("%s.mount.path is required", where)
		}
		if other, dup := paths[path]; dup {
			return nil, nil, fmt.Errorf("%s.mount.path %q is also the mount path of %s", where, path, other)
		}
		paths[path] = where
		readOnly, _ := strconv.ParseBool(v.props["mount.readOnly"])
		mount := corev1.VolumeMount{Name: v.name, MountPath: path, ReadOnly: readOnly, SubPath: v.props["mount.subPath"], SubPathExpr: v.props["mount.subPathExpr"]}
		vol := corev1.Volume{Name: v.name}
		switch v.typ {
		case volumeTypeHostPath:
			if v.props["options.path"] == "" {
				return nil, nil, fmt.Errorf("%s.options.path is required", where)
			}
			hp := &corev1.HostPathVolumeSource{Path: v.props["options.path"]}
			if t := v.props["options.type"]; t != "" {
				ht := corev1.HostPathType(t)
				hp.Type = &ht
			}
			vol.HostPath = hp
		case volumeTypePVC:
			if v.props["options.claimName"] == "" {
				return nil, nil, fmt.Errorf("%s.options.claimName is required", where)
			}
			ro, _ := strconv.ParseBool(v.props["options.readOnly"])
			vol.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.props["options.claimName"], ReadOnly: ro}
		case volumeTypeEmptyDir:
			ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(v.props["options.medium"])}
			if s := v.props["options.sizeLimit"]; s != "" {
				q, err := resource.ParseQuantity(s)
				if err != nil {
					return nil, nil, fmt.Errorf("%s.options.sizeLimit %q is not a quantity: %v", where, s, err)
				}
				ed.SizeLimit = &q
			}
			vol.EmptyDir = ed
		case volumeTypeNFS:
			if v.props["options.path"] == "" || v.props["options.server"] == "" {
				return nil, nil, fmt.Errorf("%s.options.path and options.server are required", where)
			}
			ro, _ := strconv.ParseBool(v.props["options.readOnly"])
			vol.NFS = &corev1.NFSVolumeSource{Path: v.props["options.path"], Server: v.props["options.server"], ReadOnly: ro}
		default:
			return nil, nil, fmt.Errorf("%s: volume type %q is not one of hostPath, persistentVolumeClaim, emptyDir, nfs", where, v.typ)
		}
		volumes = append(volumes, vol)
		mounts = append(mounts, mount)
	}
	return volumes, mounts, nil
}
