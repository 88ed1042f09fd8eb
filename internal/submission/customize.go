package submission

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// role is the driver or the executors.
type role string

const (
	roleDriver   role = "driver"
	roleExecutor role = "executor"
)

// podSpecOf returns the role's part of the spec and its field path.
func podSpecOf(app *v1beta2.SparkApplication, r role) (*v1beta2.SparkPodSpec, string) {
	if r == roleDriver {
		return &app.Spec.Driver.SparkPodSpec, "spec.driver"
	}
	return &app.Spec.Executor.SparkPodSpec, "spec.executor"
}

// Volume names and paths Kubeflow's webhook uses for the application's Spark and Hadoop ConfigMaps.
const (
	sparkConfigMapVolume = "spark-configmap-volume"
	sparkConfigMapPath   = "/etc/spark/conf"
	hadoopConfigMapVol   = "hadoop-configmap-volume"
	hadoopConfigMapPath  = "/etc/hadoop/conf"
)

// customizePod applies to a pod what Kubeflow's pod-mutating webhook applied to driver and executor
// pods (section 3 of the Kubeflow reference, in its order), so the pods are complete when created and
// no webhook is needed: env, envFrom, Spark/Hadoop ConfigMaps, configMaps, volumes, ports, host
// network, host aliases, init containers, sidecars, DNS config, priority class, scheduler name, node
// selector, affinity, tolerations, memory limit, GPU, monitoring, security contexts, grace period,
// lifecycle and process namespace sharing. spark is the index of the Spark container. It also sets
// enableServiceLinks: false unless opts.DisableServiceLinks.
func customizePod(pod *corev1.Pod, spark int, app *v1beta2.SparkApplication, r role, opts Options, n names) error {
	ps, field := podSpecOf(app, r)
	c := &pod.Spec.Containers[spark]
	spec := &app.Spec

	c.Env = append(c.Env, ps.Env...)
	c.EnvFrom = append(c.EnvFrom, ps.EnvFrom...)
	if spec.HadoopConfigMap != nil && *spec.HadoopConfigMap != "" {
		addConfigMapVolume(pod, c, hadoopConfigMapVol, *spec.HadoopConfigMap, hadoopConfigMapPath, false)
		setEnv(c, "HADOOP_CONF_DIR", hadoopConfigMapPath)
	}
	if spec.SparkConfigMap != nil && *spec.SparkConfigMap != "" {
		addConfigMapVolume(pod, c, sparkConfigMapVolume, *spec.SparkConfigMap, sparkConfigMapPath, false)
		setEnv(c, "SPARK_CONF_DIR", sparkConfigMapPath)
	}
	for _, cm := range ps.ConfigMaps {
		addConfigMapVolume(pod, c, configMapVolumeName(cm.Name), cm.Name, cm.Path, true)
	}
	if err := addUserVolumes(pod, c, spec.Volumes, ps.VolumeMounts, field); err != nil {
		return err
	}

	var ports []v1beta2.Port
	var lifecycle *corev1.Lifecycle
	var priorityClass *string
	if r == roleDriver {
		ports, lifecycle, priorityClass = spec.Driver.Ports, spec.Driver.Lifecycle, spec.Driver.PriorityClassName
	} else {
		ports, lifecycle, priorityClass = spec.Executor.Ports, spec.Executor.Lifecycle, spec.Executor.PriorityClassName
	}
	for _, p := range ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: corev1.Protocol(firstNonEmpty(p.Protocol, "TCP"))})
	}
	if ps.HostNetwork != nil && *ps.HostNetwork {
		pod.Spec.HostNetwork = true
		pod.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	}
	pod.Spec.HostAliases = append(pod.Spec.HostAliases, ps.HostAliases...)
	pod.Spec.InitContainers = append(pod.Spec.InitContainers, ps.InitContainers...)
	for _, s := range ps.Sidecars {
		if !hasContainer(pod.Spec.Containers, s) {
			pod.Spec.Containers = append(pod.Spec.Containers, s)
			c = &pod.Spec.Containers[spark] // the append may have moved the slice
		}
	}
	if ps.DNSConfig != nil {
		pod.Spec.DNSConfig = ps.DNSConfig.DeepCopy()
	}
	if priorityClass != nil && *priorityClass != "" {
		pod.Spec.PriorityClassName = *priorityClass
		pod.Spec.Priority = nil
		pod.Spec.PreemptionPolicy = nil
	}
	if spec.BatchScheduler != nil && *spec.BatchScheduler != "" {
		pod.Spec.SchedulerName = *spec.BatchScheduler
	} else if ps.SchedulerName != nil && *ps.SchedulerName != "" {
		pod.Spec.SchedulerName = *ps.SchedulerName
	}
	pod.Spec.NodeSelector = mergeMaps(pod.Spec.NodeSelector, ps.NodeSelector)
	if ps.Affinity != nil {
		pod.Spec.Affinity = ps.Affinity.DeepCopy()
	}
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, ps.Tolerations...)
	if err := setMemoryLimit(c, ps, field, r); err != nil {
		return err
	}
	if ps.GPU != nil {
		q := resource.NewQuantity(ps.GPU.Quantity, resource.DecimalSI)
		if c.Resources.Limits == nil {
			c.Resources.Limits = corev1.ResourceList{}
		}
		c.Resources.Limits[corev1.ResourceName(ps.GPU.Name)] = *q
	}
	addMonitoring(pod, c, app, r, n)
	if ps.SecurityContext != nil {
		c.SecurityContext = ps.SecurityContext.DeepCopy()
	}
	if ps.PodSecurityContext != nil {
		pod.Spec.SecurityContext = ps.PodSecurityContext.DeepCopy()
	}
	if ps.TerminationGracePeriodSeconds != nil {
		pod.Spec.TerminationGracePeriodSeconds = ptr.To(*ps.TerminationGracePeriodSeconds)
	}
	if lifecycle != nil {
		c.Lifecycle = lifecycle.DeepCopy()
	}
	if ps.ShareProcessNamespace != nil {
		pod.Spec.ShareProcessNamespace = ptr.To(*ps.ShareProcessNamespace)
	}
	if !opts.DisableServiceLinks {
		pod.Spec.EnableServiceLinks = ptr.To(false)
	}
	return nil
}

// addUserVolumes adds the spec.volumes that the role's volumeMounts refer to, and the mounts. Mounts of
// spark-local-dir-* volumes are left out: Spark mounts those itself from its volume properties.
func addUserVolumes(pod *corev1.Pod, c *corev1.Container, volumes []corev1.Volume, mounts []corev1.VolumeMount, field string) error {
	byName := map[string]*corev1.Volume{}
	for i := range volumes {
		byName[volumes[i].Name] = &volumes[i]
	}
	added := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		added[v.Name] = true
	}
	for _, m := range mounts {
		if strings.HasPrefix(m.Name, localDirVolumePrefix) {
			continue
		}
		v, ok := byName[m.Name]
		if !ok {
			return fieldError(field+".volumeMounts", "volumeMount %q refers to no volume in spec.volumes", m.Name)
		}
		if !added[m.Name] {
			pod.Spec.Volumes = append(pod.Spec.Volumes, *v.DeepCopy())
			added[m.Name] = true
		}
		c.VolumeMounts = append(c.VolumeMounts, m)
	}
	return nil
}

func addConfigMapVolume(pod *corev1.Pod, c *corev1.Container, volume, configMap, path string, readOnly bool) {
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMap}},
	}})
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volume, MountPath: path, ReadOnly: readOnly})
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// configMapVolumeName is "<configmap>-vol", made a valid DNS label (dots replaced, shortened with a
// hash when too long) as Kubeflow's webhook does for dotted or long ConfigMap names.
func configMapVolumeName(configMap string) string {
	name := configMap + "-vol"
	if dnsLabel.MatchString(name) && len(name) <= maxDNSLabelLength {
		return name
	}
	base := strings.Trim(dashRuns.ReplaceAllString(nonNameChars.ReplaceAllString(strings.ToLower(configMap), "-"), "-"), "-")
	return shortenName(base, "-"+hashOf(configMap)+"-vol", maxDNSLabelLength)
}

// setEnv sets name in the container's environment, replacing an existing entry.
func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i] = corev1.EnvVar{Name: name, Value: value}
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}

func hasContainer(containers []corev1.Container, c corev1.Container) bool {
	for _, existing := range containers {
		if existing.Name == c.Name && existing.Image == c.Image {
			return true
		}
	}
	return false
}

// setMemoryLimit sets the Spark container's memory limit from memoryLimit (Spark "2g" or Kubernetes
// "2Gi" notation). For the driver the limit must not be below the request (memory + overhead). For
// executors Spark sets limit = request when it builds the pod and overwrites the template's value, so
// the limit is recorded in the template for reference only (docs/submission.md lists this).
func setMemoryLimit(c *corev1.Container, ps *v1beta2.SparkPodSpec, field string, r role) error {
	if ps.MemoryLimit == nil || *ps.MemoryLimit == "" {
		return nil
	}
	q, err := parseMemoryQuantity(*ps.MemoryLimit)
	if err != nil {
		return fieldError(field+".memoryLimit", "%v", err)
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	if req, ok := c.Resources.Requests[corev1.ResourceMemory]; ok && r == roleDriver && q.Cmp(req) < 0 {
		return fieldError(field+".memoryLimit", "%s is below the memory request %s (memory + overhead); raise memoryLimit or lower memory", *ps.MemoryLimit, req.String())
	}
	c.Resources.Limits[corev1.ResourceMemory] = q
	return nil
}

// parseMemoryQuantity accepts Kubernetes binary quantities ("2Gi") and Spark memory strings ("2g",
// "512m", "512M": binary units, so "2g" = 2Gi and "512m" is 512Mi, never milli-bytes); a bare number is
// bytes.
func parseMemoryQuantity(s string) (resource.Quantity, error) {
	if strings.HasSuffix(s, "i") {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return resource.Quantity{}, fmt.Errorf("%q is neither a Spark memory size (2g) nor a Kubernetes quantity (2Gi)", s)
		}
		return q, nil
	}
	b, err := parseSparkBytes(s, "b")
	if err != nil {
		return resource.Quantity{}, err
	}
	return *resource.NewQuantity(b, resource.BinarySI), nil
}

func intOrString(port int) intstr.IntOrString { return intstr.FromInt32(int32(port)) }
