package submission

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
	b.pod.OwnerReferences = []metav1.OwnerReference{applicationOwner(b.app)}
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
	for _, prefix := range []string{prefixNodeSelector, prefixDriverNodeSelector} {
		for _, e := range conf.withPrefix(prefix) {
			b.pod.Spec.NodeSelector = mergeMaps(b.pod.Spec.NodeSelector, map[string]string{e.key: e.value})
		}
	}
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
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	cpu := firstNonEmpty(conf[keyDriverRequestCores], conf[keyDriverCores], defaultCores)
	q, err := resource.ParseQuantity(cpu)
	if err != nil {
		return fieldError("spec.driver.cores", "CPU request %q is not a quantity: %v", cpu, err)
	}
	c.Resources.Requests[corev1.ResourceCPU] = q
	if l := conf[keyDriverLimitCores]; l != "" {
		q, err := resource.ParseQuantity(l)
		if err != nil {
			return fieldError("spec.driver.coreLimit", "%q is not a CPU quantity: %v", l, err)
		}
		c.Resources.Limits[corev1.ResourceCPU] = q
	}

	memMiB, err := parseSparkMemory(firstNonEmpty(conf[keyDriverMemory], defaultMemory), "m")
	if err != nil {
		return fieldError("spec.driver.memory", "%v", err)
	}
	defaultFactor := jvmMemoryOverheadFactor
	if t := appType(&b.app.Spec); t == v1beta2.SparkApplicationTypePython || t == v1beta2.SparkApplicationTypeR {
		defaultFactor = nonJVMMemoryOverheadFactor
	}
	if f := conf[keyMemoryOverheadFactor]; f != "" {
		if defaultFactor, err = strconv.ParseFloat(f, 64); err != nil || defaultFactor <= 0 {
			return fieldError("spec.memoryOverheadFactor", "%q is not a positive number", f)
		}
	}
	factor := defaultFactor
	if f := conf[keyDriverOverheadFactor]; f != "" {
		if factor, err = strconv.ParseFloat(f, 64); err != nil || factor <= 0 {
			return fieldError("spec.sparkConf", "%s=%q is not a positive number", keyDriverOverheadFactor, f)
		}
	}
	var explicit *int64
	if o := conf[keyDriverMemoryOverhead]; o != "" {
		v, err := parseSparkMemory(o, "m")
		if err != nil {
			return fieldError("spec.driver.memoryOverhead", "%v", err)
		}
		explicit = &v
	}
	minMiB := int64(minMemoryOverheadMiB)
	if m := conf[keyDriverMinOverhead]; m != "" && b.versionAtLeast(4, 0) {
		if minMiB, err = parseSparkMemory(m, "m"); err != nil {
			return fieldError("spec.sparkConf", "%s: %v", keyDriverMinOverhead, err)
		}
	}
	total := memMiB + memoryOverheadMiB(memMiB, factor, explicit, minMiB)
	mem := resource.MustParse(strconv.FormatInt(total, 10) + "Mi")
	c.Resources.Requests[corev1.ResourceMemory] = mem
	c.Resources.Limits[corev1.ResourceMemory] = mem
	b.conf[keyMemoryOverheadFactor] = javaDouble(defaultFactor)

	// Custom resources: spark.driver.resource.<name>.{amount,vendor} -> limits["<vendor>/<name>"].
	amounts := map[string]string{}
	vendors := map[string]string{}
	for _, e := range conf.withPrefix("spark.driver.resource.") {
		name, prop, ok := strings.Cut(e.key, ".")
		if !ok {
			continue
		}
		switch prop {
		case "amount":
			amounts[name] = e.value
		case "vendor":
			vendors[name] = e.value
		}
	}
	for _, name := range sortedKeys(amounts) {
		vendor := vendors[name]
		if vendor == "" {
			return fieldError("spec.sparkConf", "spark.driver.resource.%s.vendor is required when spark.driver.resource.%s.amount is set", name, name)
		}
		q, err := resource.ParseQuantity(amounts[name])
		if err != nil {
			return fieldError("spec.sparkConf", "spark.driver.resource.%s.amount %q is not a quantity", name, amounts[name])
		}
		c.Resources.Limits[corev1.ResourceName(vendor+"/"+name)] = q
	}
	return nil
}

// credentialsStep is DriverKubernetesCredentialsFeatureStep without uploaded credentials: the
// driver's service account.
func (b *driverBuilder) credentialsStep() error {
	if sa := b.conf[keyDriverSA]; sa != "" {
		b.pod.Spec.ServiceAccountName = sa
		b.pod.Spec.DeprecatedServiceAccount = sa
	}
	return nil
}

// serviceStep is DriverServiceFeatureStep: the headless Service the executors reach the driver
// through, and spark.driver.host/port. Without the Service (wantService) spark.driver.host is the
// driver's pod IP, given on the command line (commandStep), and the ports are set as with it.
func (b *driverBuilder) serviceStep() error {
	if _, ok := b.conf[keyDriverBindAddress]; ok {
		return fieldError("spec.sparkConf", "sparkConf key %q is not allowed: the driver binds to its pod IP", keyDriverBindAddress)
	}
	if _, ok := b.app.Spec.SparkConf[keyDriverHost]; ok {
		return fieldError("spec.sparkConf", "sparkConf key %q is not allowed: the operator points it at the driver's Service or pod IP", keyDriverHost)
	}
	driverPort, _ := intConf(b.conf, keyDriverPort, defaultDriverPort)
	bmPort, err := intConf(b.conf, keyDriverBlockManagerPort, defaultBlockManagerPort)
	if err != nil {
		return err
	}
	b.conf[keyDriverPort] = strconv.Itoa(driverPort)
	b.conf[keyDriverBlockManagerPort] = strconv.Itoa(bmPort)
	if !b.wantService() {
		b.hostFromPodIP = true
		return nil
	}
	uiPort, _ := intConf(b.conf, keyUIPort, defaultUIPort)

	svcLabels := map[string]string{v1beta2.LabelSparkAppSelector: b.sub.AppID}
	for _, e := range b.conf.withPrefix(prefixDriverSvcLabel) {
		svcLabels[e.key] = e.value
	}
	for k, v := range operatorObjectLabels(b.app, b.sub) {
		svcLabels[k] = v
	}
	var annotations map[string]string
	for _, e := range b.conf.withPrefix(prefixDriverSvcAnnotation) {
		annotations = mergeMaps(annotations, map[string]string{e.key: e.value})
	}
	policy := corev1.IPFamilyPolicy(firstNonEmpty(b.conf[keyDriverServiceIPPolicy], string(corev1.IPFamilyPolicySingleStack)))
	var families []corev1.IPFamily
	for f := range strings.SplitSeq(firstNonEmpty(b.conf[keyDriverServiceIPFamilies], string(corev1.IPv4Protocol)), ",") {
		families = append(families, corev1.IPFamily(strings.TrimSpace(f)))
	}
	ports := []corev1.ServicePort{
		{Name: "driver-rpc-port", Port: int32(driverPort), TargetPort: intOrString(driverPort)},
		{Name: "blockmanager", Port: int32(bmPort), TargetPort: intOrString(bmPort)},
		{Name: "spark-ui", Port: int32(uiPort), TargetPort: intOrString(uiPort)},
	}
	if b.versionAtLeast(4, 1) {
		ports = append(ports, corev1.ServicePort{Name: "spark-connect", Port: 15002, TargetPort: intOrString(15002)})
	}
	b.res.DriverService = &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        b.names.driverService,
			Namespace:   b.app.Namespace,
			Labels:      svcLabels,
			Annotations: annotations,
		},
		Spec: corev1.ServiceSpec{
			ClusterIP:      corev1.ClusterIPNone,
			IPFamilyPolicy: &policy,
			IPFamilies:     families,
			Selector:       mergeMaps(nil, b.labels),
			Ports:          ports,
		},
	}
	b.conf[keyDriverHost] = b.names.driverService + "." + b.app.Namespace + ".svc"
	return nil
}

// wantService says whether the driver gets its headless Service: always with Options.DriverService,
// otherwise only when the application sets one of the Service's keys (its labels, annotations or IP
// families), which would have no effect without it.
func (b *driverBuilder) wantService() bool {
	if b.opts.DriverService {
		return true
	}
	if _, ok := b.conf[keyDriverServiceIPFamilies]; ok {
		return true
	}
	if _, ok := b.conf[keyDriverServiceIPPolicy]; ok {
		return true
	}
	return len(b.conf.withPrefix(prefixDriverSvcLabel)) > 0 || len(b.conf.withPrefix(prefixDriverSvcAnnotation)) > 0
}

// driverHostFromPodIP is the driver argument that sets spark.driver.host to the pod IP: Kubernetes
// expands $(SPARK_DRIVER_BIND_ADDRESS), the pod IP from the downward API (basicStep), in args.
const driverHostFromPodIP = keyDriverHost + "=$(SPARK_DRIVER_BIND_ADDRESS)"

// mountSecretsStep is MountSecretsFeatureStep: spark.kubernetes.driver.secrets.<name>=<path>.
func (b *driverBuilder) mountSecretsStep() error {
	for _, e := range b.conf.withPrefix(prefixDriverSecrets) {
		vol := e.key + "-volume"
		b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: e.key}}})
		b.container.VolumeMounts = append(b.container.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: e.value})
	}
	return nil
}

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

// commandStep is DriverCommandFeatureStep: the driver's arguments to the image entrypoint,
// "driver [--proxy-user U] --properties-file /opt/spark/conf/spark.properties --class C <resource> <args>".
func (b *driverBuilder) commandStep() error {
	spec := &b.app.Spec
	resourceFile := *spec.MainApplicationFile
	var mainClass, resourceType string
	switch appType(spec) {
	case v1beta2.SparkApplicationTypePython:
		mainClass, resourceType = pythonRunnerClass, "python"
		pyspark := b.conf[keyPySparkPython]
		driverPython := firstNonEmpty(b.conf[keyPySparkDriverPython], pyspark)
		if pyspark != "" {
			b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "PYSPARK_PYTHON", Value: pyspark})
		}
		if driverPython != "" {
			b.container.Env = append(b.container.Env, corev1.EnvVar{Name: "PYSPARK_DRIVER_PYTHON", Value: driverPython})
		}
	case v1beta2.SparkApplicationTypeR:
		mainClass, resourceType = rRunnerClass, "r"
	default:
		if spec.MainClass == nil || *spec.MainClass == "" {
			return fieldError("spec.mainClass", "is required for %s applications (spark-submit's --class)", appType(spec))
		}
		mainClass, resourceType = *spec.MainClass, "java"
	}
	args := []string{"driver"}
	if b.hostFromPodIP {
		args = append(args, "--conf", driverHostFromPodIP)
	}
	if spec.ProxyUser != nil && *spec.ProxyUser != "" {
		args = append(args, "--proxy-user", *spec.ProxyUser)
	}
	args = append(args, "--properties-file", sparkConfDir+"/"+PropertiesFileName, "--class", mainClass, resourceFile)
	args = append(args, spec.Arguments...)
	b.container.Args = append(b.container.Args, args...)
	b.conf[keyResourceType] = resourceType
	return nil
}

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

// applicationOwner is the controller owner reference from a driver pod to its SparkApplication.
func applicationOwner(app *v1beta2.SparkApplication) metav1.OwnerReference {
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

// sparkVersionAtLeast compares the major.minor of a Spark version string ("3.5.3", "4.0.0-preview1").
// An unparsable version counts as 3.5, the oldest line the operator targets.
func sparkVersionAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	maj, min := 3, 5
	if len(parts) >= 2 {
		a, err1 := strconv.Atoi(parts[0])
		b, err2 := strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
		if err1 == nil && err2 == nil {
			maj, min = a, b
		}
	}
	return maj > major || (maj == major && min >= minor)
}

func intConf(conf Conf, key string, def int) (int, error) {
	v, ok := conf[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 65535 {
		return 0, fieldError("spec.sparkConf", "%s=%q is not a port number", key, v)
	}
	return n, nil
}

// javaDouble formats f as Java's Double.toString does for ordinary values: "0.1", "0.4", "1.0".
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// mergeMaps copies add into dst (allocating it when nil) and returns dst.
func mergeMaps(dst, add map[string]string) map[string]string {
	if len(add) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(add))
	}
	for k, v := range add {
		dst[k] = v
	}
	return dst
}
