package submission

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Object is a Kubernetes object the submitter renders.
type Object interface {
	metav1.Object
	runtime.Object
}

// DriverPodName is the driver pod's name: spec.driver.podName, else sparkConf
// spark.kubernetes.driver.pod.name, else "<application name>-driver", as in Kubeflow (and as Airflow
// expects). It is the same for every attempt, so a new attempt starts only once the previous driver
// pod is gone.
func DriverPodName(app *v1beta2.SparkApplication) string {
	if p := app.Spec.Driver.PodName; p != nil && *p != "" {
		return *p
	}
	if p := app.Spec.SparkConf[keyDriverPodName]; p != "" {
		return p
	}
	return app.Name + "-driver"
}

// names are the names of one submission's objects.
type names struct {
	prefix            string // spark-submit's resourceNamePrefix: "<app>-<uniqueID>"
	driverPod         string
	driverService     string
	confConfigMap     string
	metricsConfigMap  string
	metricsVolumeName string
}

func newNames(app *v1beta2.SparkApplication, sub Submission) names {
	prefix := resourceNamePrefix(app.Name, sub.uniqueID)
	svc := prefix + "-driver-svc"
	if len(svc) > maxDNSLabelLength {
		// Spark's own fallback (DriverServiceFeatureStep): "spark-<uniqueID>-driver-svc".
		svc = "spark-" + sub.uniqueID + "-driver-svc"
	}
	return names{
		prefix:            prefix,
		driverPod:         DriverPodName(app),
		driverService:     svc,
		confConfigMap:     "spark-drv-" + sub.uniqueID + "-conf-map",
		metricsConfigMap:  shortenName(prefix, "-prom-conf", 253),
		metricsVolumeName: shortenName(app.Name, "-prom-conf-vol", maxDNSLabelLength),
	}
}

// driverBuilder applies Spark's driver feature steps (KubernetesDriverBuilder) in Spark's order, then
// what Kubeflow's webhook added, to one pod.
type driverBuilder struct {
	app   *v1beta2.SparkApplication
	sub   Submission
	opts  Options
	conf  Conf
	names names

	pod       *corev1.Pod
	container corev1.Container
	labels    map[string]string
	res       Resources
	// templateText is the executor pod template as YAML, for confConfigMap.
	templateText string
	// hostFromPodIP: no driver Service; spark.driver.host is the pod IP (serviceStep).
	hostFromPodIP bool
}

func (b *driverBuilder) build() (*Resources, error) {
	b.names = newNames(b.app, b.sub)
	b.res.Conf = b.conf
	b.res.sparkVersion = b.app.Spec.SparkVersion
	if err := b.initialPod(); err != nil {
		return nil, err
	}
	steps := []func() error{
		b.basicStep,
		b.credentialsStep,
		b.serviceStep,
		b.mountSecretsStep,
		b.envSecretsStep,
		b.mountVolumesStep,
		b.commandStep,
		b.hadoopConfStep,
		b.executorTemplateStep,
		b.localDirsStep,
		b.confVolumeStep,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	// spark-submit appends the Spark container after the template's other containers.
	b.pod.Spec.Containers = append(b.pod.Spec.Containers, b.container)
	spark := len(b.pod.Spec.Containers) - 1
	if err := customizePod(b.pod, spark, b.app, roleDriver, b.opts, b.names); err != nil {
		return nil, err
	}
	if err := b.monitoring(spark); err != nil {
		return nil, err
	}
	b.pod.OwnerReferences = []metav1.OwnerReference{ApplicationOwner(b.app)}
	b.res.DriverPod = b.pod
	b.res.ConfConfigMap = b.confConfigMap()
	b.res.ExecutorTemplateConfigMap = b.res.ConfConfigMap
	return &b.res, nil
}

// initialPod starts from spec.driver.template when given, taking the Spark container out of it (the
// one named spark-kubernetes-driver, else the first) as Spark's selectSparkContainer does.
func (b *driverBuilder) initialPod() error {
	b.pod = &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	if t := b.app.Spec.Driver.Template; t != nil {
		b.pod.ObjectMeta = *t.ObjectMeta.DeepCopy()
		b.pod.Spec = *t.Spec.DeepCopy()
	}
	b.container, b.pod.Spec.Containers = takeSparkContainer(b.pod.Spec.Containers, driverContainerName)
	b.pod.Name = b.names.driverPod
	b.pod.Namespace = b.app.Namespace
	b.pod.GenerateName = ""
	b.pod.ResourceVersion = ""
	b.pod.UID = ""
	return nil
}

// takeSparkContainer removes the container named name (else the first) from containers and returns it
// with the rest; with no containers it returns an empty container.
func takeSparkContainer(containers []corev1.Container, name string) (corev1.Container, []corev1.Container) {
	if len(containers) == 0 {
		return corev1.Container{}, nil
	}
	idx := 0
	for i := range containers {
		if containers[i].Name == name {
			idx = i
			break
		}
	}
	c := containers[idx]
	rest := append(append([]corev1.Container{}, containers[:idx]...), containers[idx+1:]...)
	return c, rest
}

// confVolumeStep is what Client.run adds: SPARK_CONF_DIR and the spark.properties ConfigMap volume.
func (b *driverBuilder) confVolumeStep() error {
	b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "SPARK_CONF_DIR", Value: sparkConfDir})
	b.container.VolumeMounts = append(b.container.VolumeMounts, corev1.VolumeMount{Name: sparkConfVolumeDriver, MountPath: sparkConfDir})
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: sparkConfVolumeDriver, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: b.names.confConfigMap},
			Items:                []corev1.KeyToPath{{Key: PropertiesFileName, Path: PropertiesFileName, Mode: ptr.To[int32](420)}},
		},
	}})
	return nil
}

// confConfigMap is the submission's one ConfigMap: spark.properties plus the data key
// spark.kubernetes.namespace, as Client.run builds the driver's conf ConfigMap, and the executor pod
// template under podspec-configmap-key (executorTemplateStep). It is immutable, as spark-submit makes
// both of its ConfigMaps.
func (b *driverBuilder) confConfigMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      b.names.confConfigMap,
			Namespace: b.app.Namespace,
			Labels:    operatorObjectLabels(b.app, b.sub),
		},
		Immutable: ptr.To(true),
		Data: map[string]string{
			PropertiesFileName: propertiesText(b.conf, "Java properties built from Kubernetes config map with name: "+b.names.confConfigMap),
			keyNamespace:       b.app.Namespace,
			podTemplateKey:     b.templateText,
		},
	}
}

// operatorObjectLabels label the Services and ConfigMaps of an attempt, so the operator can find
// (and its cache can select) exactly its own objects.
func operatorObjectLabels(app *v1beta2.SparkApplication, sub Submission) map[string]string {
	return map[string]string{
		v1beta2.LabelAppName:                app.Name,
		v1beta2.LabelCreatedBySparkOperator: "true",
		v1beta2.LabelSubmissionID:           sub.ID,
	}
}

// ApplicationOwner is the controller owner reference from an object of the application (its driver
// pod, a batch scheduler's objects, the driver PodDisruptionBudget) to the SparkApplication, with
// blockOwnerDeletion.
func ApplicationOwner(app *v1beta2.SparkApplication) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1beta2.GroupVersion.String(),
		Kind:               "SparkApplication",
		Name:               app.Name,
		UID:                app.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// OwnDriverResources sets on each object the owner reference spark-submit gives the resources it
// creates after the driver pod: {v1, Pod, name, uid, controller: true}, replacing any other.
func OwnDriverResources(pod *corev1.Pod, objs ...Object) {
	ref := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: ptr.To(true)}
	for _, o := range objs {
		o.SetOwnerReferences([]metav1.OwnerReference{ref})
	}
}

// substituteVersion replaces {{SPARK_VERSION}} in an image name (Spark 4.1+, SPARK-52902).
func (b *driverBuilder) substituteVersion(image string) string {
	return strings.ReplaceAll(image, "{{SPARK_VERSION}}", b.app.Spec.SparkVersion)
}

func (b *driverBuilder) versionAtLeast(major, minor int) bool {
	return sparkVersionAtLeast(b.app.Spec.SparkVersion, major, minor)
}
