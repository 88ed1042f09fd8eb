package submission

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// basicStep is Spark's BasicDriverFeatureStep: image, ports, env, resources, labels, annotations,
// restart policy, node selector, pull secrets, scheduler name.
func (b *driverBuilder) basicStep() error {
	c := &b.container
	conf := b.conf
	image := conf[keyDriverImage]
	if image == "" {
		image = conf[keyImage]
	}
	if image == "" {
		return fieldError("spec.image", "is required (or spec.driver.image): Spark needs a container image for the driver")
	}
	if c.Name == "" {
		c.Name = driverContainerName
	}
	c.Image = b.substituteVersion(image)
	c.ImagePullPolicy = corev1.PullPolicy(conf[keyPullPolicy])
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
	}

	driverPort, err := intConf(conf, keyDriverPort, defaultDriverPort)
	if err != nil {
		return err
	}
	bmPort, err := intConf(conf, keyDriverBlockManagerPort, 0)
	if err != nil {
		return err
	}
	if bmPort == 0 {
		if bmPort, err = intConf(conf, keyBlockManagerPort, defaultBlockManagerPort); err != nil {
			return err
		}
		if bmPort == 0 {
			bmPort = defaultBlockManagerPort
		}
	}
	uiPort, err := intConf(conf, keyUIPort, defaultUIPort)
	if err != nil {
		return err
	}
	c.Ports = append(c.Ports,
		corev1.ContainerPort{Name: "driver-rpc-port", ContainerPort: int32(driverPort), Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "blockmanager", ContainerPort: int32(bmPort), Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "spark-ui", ContainerPort: int32(uiPort), Protocol: corev1.ProtocolTCP},
	)
	if b.versionAtLeast(4, 1) {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: "spark-connect", ContainerPort: 15002, Protocol: corev1.ProtocolTCP})
	}

	c.Env = append(c.Env,
		corev1.EnvVar{Name: "SPARK_USER", Value: b.opts.sparkUser(b.app)},
		corev1.EnvVar{Name: "SPARK_APPLICATION_ID", Value: b.sub.AppID},
	)
	for _, e := range conf.withPrefix(prefixDriverEnv) {
		c.Env = append(c.Env, corev1.EnvVar{Name: e.key, Value: e.value})
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: "SPARK_DRIVER_BIND_ADDRESS", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"},
	}})

	if err := b.resources(); err != nil {
		return err
	}

	// Labels: custom ones first, Spark's preset ones overwrite them.
	b.labels = map[string]string{}
	for _, e := range conf.withPrefix(prefixDriverLabel) {
		if b.versionAtLeast(4, 0) {
			e.value = strings.ReplaceAll(strings.ReplaceAll(e.value, "{{APP_ID}}", b.sub.AppID), "{{EXECUTOR_ID}}", "")
		}
		b.labels[e.key] = e.value
	}
	b.labels[v1beta2.LabelSparkVersion] = b.app.Spec.SparkVersion
	b.labels[v1beta2.LabelSparkAppSelector] = b.sub.AppID
	b.labels[v1beta2.LabelSparkAppName] = sparkAppNameLabel(conf[keyAppName])
	b.labels[v1beta2.LabelSparkRole] = v1beta2.SparkRoleDriver
	b.pod.Labels = mergeMaps(b.pod.Labels, b.labels)
	for _, e := range conf.withPrefix(prefixDriverAnnotation) {
		v := strings.ReplaceAll(strings.ReplaceAll(e.value, "{{APP_ID}}", b.sub.AppID), "{{EXECUTOR_ID}}", "")
		b.pod.Annotations = mergeMaps(b.pod.Annotations, map[string]string{e.key: v})
	}

	b.pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	addNodeSelector(b.pod, conf, driverKeys)
	for s := range strings.SplitSeq(conf[keyPullSecrets], ",") {
		if s = strings.TrimSpace(s); s != "" {
			b.pod.Spec.ImagePullSecrets = append(b.pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
	}
	if name := firstNonEmpty(conf[keyDriverSchedulerName], conf[keySchedulerName]); name != "" {
		b.pod.Spec.SchedulerName = name
	}

	b.conf[keyDriverPodName] = b.names.driverPod
	b.conf[keyAppID] = b.sub.AppID
	b.conf[keySubmitInDriver] = "true"
	return nil
}

// resources sets the Spark container's CPU and memory: request cpu = request.cores or cores, limit
// cpu = limit.cores when set, and request memory = limit memory = memory + overhead, where overhead =
// spark.driver.memoryOverhead or max(factor x memory, minimum) (BasicDriverFeatureStep).
func (b *driverBuilder) resources() error {
	conf := b.conf
	c := &b.container
	initResources(c)
	if err := setCPU(c, conf, driverKeys); err != nil {
		return err
	}
	var defaultFactor float64
	total, err := memoryWithOverheadMiB(conf, driverKeys, b.app.Spec.SparkVersion, func() (float64, error) {
		defaultFactor = jvmMemoryOverheadFactor
		if t := appType(&b.app.Spec); t == v1beta2.SparkApplicationTypePython || t == v1beta2.SparkApplicationTypeR {
			defaultFactor = nonJVMMemoryOverheadFactor
		}
		var err error
		if f := conf[keyMemoryOverheadFactor]; f != "" {
			if defaultFactor, err = strconv.ParseFloat(f, 64); err != nil || defaultFactor <= 0 {
				return 0, fieldError("spec.memoryOverheadFactor", "%q is not a positive number", f)
			}
		}
		factor := defaultFactor
		if f := conf[keyDriverOverheadFactor]; f != "" {
			if factor, err = strconv.ParseFloat(f, 64); err != nil || factor <= 0 {
				return 0, fieldError("spec.sparkConf", "%s=%q is not a positive number", keyDriverOverheadFactor, f)
			}
		}
		return factor, nil
	})
	if err != nil {
		return err
	}
	setMemory(c, total)
	b.conf[keyMemoryOverheadFactor] = javaDouble(defaultFactor)

	// Custom resources: spark.driver.resource.<name>.{amount,vendor} -> limits["<vendor>/<name>"].
	return addCustomResources(c, conf, driverKeys, true)
}
