package submission

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Spark configuration keys the submitter reads or writes.
const (
	keyMaster                  = "spark.master"
	keyDeployMode              = "spark.submit.deployMode"
	keyAppName                 = "spark.app.name"
	keyAppID                   = "spark.app.id"
	keySubmitTime              = "spark.app.submitTime"
	keyJars                    = "spark.jars"
	keyFiles                   = "spark.files"
	keyArchives                = "spark.archives"
	keyPyFiles                 = "spark.submit.pyFiles"
	keyPackages                = "spark.jars.packages"
	keyExcludes                = "spark.jars.excludes"
	keyRepositories            = "spark.jars.repositories"
	keyIvy                     = "spark.jars.ivy"
	keyNamespace               = "spark.kubernetes.namespace"
	keyImage                   = "spark.kubernetes.container.image"
	keyDriverImage             = "spark.kubernetes.driver.container.image"
	keyExecutorImage           = "spark.kubernetes.executor.container.image"
	keyPullPolicy              = "spark.kubernetes.container.image.pullPolicy"
	keyPullSecrets             = "spark.kubernetes.container.image.pullSecrets"
	keyPythonVersion           = "spark.kubernetes.pyspark.pythonVersion"
	keyMemoryOverheadFactor    = "spark.kubernetes.memoryOverheadFactor"
	keyWaitAppCompletion       = "spark.kubernetes.submission.waitAppCompletion"
	keyDriverPodName           = "spark.kubernetes.driver.pod.name"
	keySubmitInDriver          = "spark.kubernetes.submitInDriver"
	keyResourceType            = "spark.kubernetes.resource.type"
	keyDriverHost              = "spark.driver.host"
	keyDriverPort              = "spark.driver.port"
	keyDriverBlockManagerPort  = "spark.driver.blockManager.port"
	keyBlockManagerPort        = "spark.blockManager.port"
	keyDriverBindAddress       = "spark.driver.bindAddress"
	keyUIPort                  = "spark.ui.port"
	keyDriverCores             = "spark.driver.cores"
	keyDriverMemory            = "spark.driver.memory"
	keyDriverMemoryOverhead    = "spark.driver.memoryOverhead"
	keyDriverOverheadFactor    = "spark.driver.memoryOverheadFactor"
	keyDriverMinOverhead       = "spark.driver.minMemoryOverhead"
	keyDriverRequestCores      = "spark.kubernetes.driver.request.cores"
	keyDriverLimitCores        = "spark.kubernetes.driver.limit.cores"
	keyDriverSA                = "spark.kubernetes.authenticate.driver.serviceAccountName"
	keyDriverJavaOptions       = "spark.driver.extraJavaOptions"
	keyDriverMaster            = "spark.kubernetes.driver.master"
	keyExecutorInstances       = "spark.executor.instances"
	keyExecutorCores           = "spark.executor.cores"
	keyExecutorMemory          = "spark.executor.memory"
	keyExecutorMemoryOverhead  = "spark.executor.memoryOverhead"
	keyExecutorRequestCores    = "spark.kubernetes.executor.request.cores"
	keyExecutorLimitCores      = "spark.kubernetes.executor.limit.cores"
	keyExecutorSA              = "spark.kubernetes.authenticate.executor.serviceAccountName"
	keyExecutorJavaOptions     = "spark.executor.extraJavaOptions"
	keyExecutorDeleteOnTerm    = "spark.kubernetes.executor.deleteOnTermination"
	keyExecutorTemplateFile    = "spark.kubernetes.executor.podTemplateFile"
	keyExecutorTemplateName    = "spark.kubernetes.executor.podTemplateContainerName"
	keyDriverTemplateName      = "spark.kubernetes.driver.podTemplateContainerName"
	keyLocalDir                = "spark.local.dir"
	keyLocalDirsTmpfs          = "spark.kubernetes.local.dirs.tmpfs"
	keyPySparkPython           = "spark.pyspark.python"
	keyPySparkDriverPython     = "spark.pyspark.driver.python"
	keyHadoopConfigMapName     = "spark.kubernetes.hadoop.configMapName"
	keyDriverSchedulerName     = "spark.kubernetes.driver.scheduler.name"
	keySchedulerName           = "spark.kubernetes.scheduler.name"
	keyDAEnabled               = "spark.dynamicAllocation.enabled"
	keyDAInitial               = "spark.dynamicAllocation.initialExecutors"
	keyDAMin                   = "spark.dynamicAllocation.minExecutors"
	keyDAMax                   = "spark.dynamicAllocation.maxExecutors"
	keyDAShuffleTracking       = "spark.dynamicAllocation.shuffleTracking.enabled"
	keyDAShuffleTrackingTO     = "spark.dynamicAllocation.shuffleTracking.timeout"
	keyDriverServiceIPFamilies = "spark.kubernetes.driver.service.ipFamilies"
	keyDriverServiceIPPolicy   = "spark.kubernetes.driver.service.ipFamilyPolicy"
	keyMetricsNamespace        = "spark.metrics.namespace"
	keyMetricsConf             = "spark.metrics.conf"

	prefixDriverLabel         = "spark.kubernetes.driver.label."
	prefixExecutorLabel       = "spark.kubernetes.executor.label."
	prefixDriverAnnotation    = "spark.kubernetes.driver.annotation."
	prefixExecutorAnnotation  = "spark.kubernetes.executor.annotation."
	prefixDriverSvcLabel      = "spark.kubernetes.driver.service.label."
	prefixDriverSvcAnnotation = "spark.kubernetes.driver.service.annotation."
	prefixDriverEnv           = "spark.kubernetes.driverEnv."
	prefixExecutorEnv         = "spark.executorEnv."
	prefixDriverSecrets       = "spark.kubernetes.driver.secrets."
	prefixExecutorSecrets     = "spark.kubernetes.executor.secrets."
	prefixDriverSecretKeyRef  = "spark.kubernetes.driver.secretKeyRef."
	prefixExecSecretKeyRef    = "spark.kubernetes.executor.secretKeyRef."
	prefixDriverVolumes       = "spark.kubernetes.driver.volumes."
	prefixExecutorVolumes     = "spark.kubernetes.executor.volumes."
	prefixNodeSelector        = "spark.kubernetes.node.selector."
	prefixDriverNodeSelector  = "spark.kubernetes.driver.node.selector."
	prefixHadoop              = "spark.hadoop."
)

// Defaults the Kubeflow operator applied through its defaulting webhook and that we apply at
// submission instead, only when neither the spec nor sparkConf sets them.
const (
	defaultCores     = "1"
	defaultMemory    = "1g"
	defaultInstances = "1"
	// defaultIvyDir is where spark.jars.ivy points when spark.jars.packages is set and spark.jars.ivy is
	// not: the stock image's $HOME (/home/spark) is read-only, so Ivy's default ~/.ivy2 fails.
	defaultIvyDir = "/tmp/.ivy2"
)

// Default Spark ports, as in Spark's Config.scala.
const (
	defaultDriverPort       = 7078
	defaultBlockManagerPort = 7079
	defaultUIPort           = 4040
)

// Paths inside the driver pod, as in Spark's Constants.scala.
const (
	sparkConfDir            = "/opt/spark/conf"
	sparkConfVolumeDriver   = "spark-conf-volume-driver"
	podTemplateVolume       = "pod-template-volume"
	podTemplateMountPath    = "/opt/spark/pod-template"
	podTemplateFileName     = "pod-spec-template.yml"
	podTemplateKey          = PodTemplateKey
	driverContainerName     = "spark-kubernetes-driver"
	executorContainerName   = "spark-kubernetes-executor"
	pythonRunnerClass       = "org.apache.spark.deploy.PythonRunner"
	rRunnerClass            = "org.apache.spark.deploy.RRunner"
	sparkInternalResource   = "spark-internal"
	kueueLabelPrefix        = "kueue.x-k8s.io/"
	defaultMetricsConfPath  = "/etc/metrics/conf"
	defaultMetricsPropsFile = defaultMetricsConfPath + "/metrics.properties"
)

// buildConf computes the Spark configuration that spark-submit would hold for app: what Kubeflow's
// argument builder passes with --conf and CLI flags (section 2 of the Kubeflow reference), what
// SparkSubmit adds for cluster mode, and the defaults Kubeflow's webhook applied. The feature steps
// (driver.go) read it and add the driver's system properties.
func buildConf(app *v1beta2.SparkApplication, sub Submission, opts Options) (Conf, error) {
	spec := &app.Spec
	conf := Conf{}
	applySparkDefaults(conf, opts.SparkDefaults)
	// User sparkConf first: every explicit operator setting below overrides it, as later --conf
	// arguments do in spark-submit. spark.kubernetes.driver.pod.name is taken separately.
	for k, v := range spec.SparkConf {
		if k == keyDriverPodName {
			continue
		}
		conf[k] = v
	}
	if ns, ok := spec.SparkConf[keyNamespace]; ok && ns != app.Namespace {
		return nil, fieldError("spec.sparkConf", "sparkConf key %q is not allowed: it is %q but the application is in namespace %q; remove it, the driver always runs in the application's namespace", keyNamespace, ns, app.Namespace)
	}
	for k, v := range spec.HadoopConf {
		conf[prefixHadoop+k] = v
	}

	// SparkSubmit (cluster mode).
	conf[keyMaster] = opts.masterURL()
	conf[keyDeployMode] = string(v1beta2.DeployModeCluster)
	conf[keyAppName] = app.Name
	conf[keySubmitTime] = strconv.FormatInt(sub.Time.UnixMilli(), 10)
	conf[keyNamespace] = app.Namespace
	conf[keyWaitAppCompletion] = "false"

	mainFile, err := mainApplicationFile(spec)
	if err != nil {
		return nil, err
	}
	jars := slices.Clone(spec.Deps.Jars)
	if (appType(spec) == v1beta2.SparkApplicationTypeJava || appType(spec) == v1beta2.SparkApplicationTypeScala) && mainFile != sparkInternalResource {
		// SparkSubmit appends a Java application's primary resource to spark.jars (not "spark-internal",
		// which names a class of Spark's own jars).
		jars = append(jars, mainFile)
	}
	if err := checkRemote("spec.deps.jars", spec.Deps.Jars); err != nil {
		return nil, err
	}
	for key, list := range map[string][]string{keyFiles: spec.Deps.Files, keyArchives: spec.Deps.Archives, keyPyFiles: spec.Deps.PyFiles} {
		if err := checkRemote("spec.deps."+depsField(key), list); err != nil {
			return nil, err
		}
	}
	setList(conf, keyJars, jars)
	setList(conf, keyFiles, spec.Deps.Files)
	setList(conf, keyArchives, spec.Deps.Archives)
	// spark.submit.pyFiles is always present, possibly empty, as SparkSubmit writes it.
	conf[keyPyFiles] = strings.Join(resolveURIs(spec.Deps.PyFiles), ",")
	setList(conf, keyPackages, spec.Deps.Packages)
	setList(conf, keyExcludes, spec.Deps.ExcludePackages)
	setList(conf, keyRepositories, spec.Deps.Repositories)
	if _, ok := conf[keyPackages]; ok {
		conf.setDefault(keyIvy, defaultIvyDir)
	}

	// Global options.
	if spec.Image != nil {
		conf[keyImage] = *spec.Image
	}
	if spec.ImagePullPolicy != nil {
		conf[keyPullPolicy] = *spec.ImagePullPolicy
	}
	if len(spec.ImagePullSecrets) > 0 {
		conf[keyPullSecrets] = strings.Join(spec.ImagePullSecrets, ",")
	}
	if spec.PythonVersion != nil {
		conf[keyPythonVersion] = *spec.PythonVersion
	}
	if spec.MemoryOverheadFactor != nil {
		conf[keyMemoryOverheadFactor] = *spec.MemoryOverheadFactor
	}
	for k, v := range spec.NodeSelector {
		conf[prefixNodeSelector+k] = v
	}
	conf[keyDriverPodName] = DriverPodName(app)

	if err := driverConf(conf, app, sub); err != nil {
		return nil, err
	}
	if err := executorConf(conf, app, sub); err != nil {
		return nil, err
	}
	if opts.UIProxyBase != "" {
		conf.setDefault("spark.ui.proxyBase", opts.UIProxyBase)
		conf.setDefault("spark.ui.proxyRedirectUri", "/")
	}
	dynamicAllocationConf(conf, spec)
	monitoringConf(conf, app)
	if on, err := decommissioning(app); err != nil {
		return nil, err
	} else if on {
		decommissionConf(conf)
	}
	return conf, nil
}

// roleKeys are the sparkConf keys and spec fields of one role (driver or executors): what
// driverConf and executorConf write from the role's SparkPodSpec (podConf), and what the basic
// feature steps read back.
type roleKeys struct {
	cores, requestCores, limitCores string // spark.<role>.cores, spark.kubernetes.<role>.{request,limit}.cores
	memory, overhead, minOverhead   string // spark.<role>.memory, .memoryOverhead, .minMemoryOverhead
	image, serviceAccount           string // the container image, the pod's service account
	javaOptions                     string // spark.<role>.extraJavaOptions
	label, annotation, env          string // prefixes of the pod's labels, annotations and environment
	secrets, secretKeyRef           string // prefixes of mounted secrets and secret env vars
	volumes                         string // spark.kubernetes.<role>.volumes.
	nodeSelector                    string // spark.kubernetes.<role>.node.selector.
	resource                        string // spark.<role>.resource.
	field                           string // spec.driver or spec.executor, for errors
}

var (
	driverKeys = roleKeys{
		cores: keyDriverCores, requestCores: keyDriverRequestCores, limitCores: keyDriverLimitCores,
		memory: keyDriverMemory, overhead: keyDriverMemoryOverhead, minOverhead: keyDriverMinOverhead,
		image: keyDriverImage, serviceAccount: keyDriverSA, javaOptions: keyDriverJavaOptions,
		label: prefixDriverLabel, annotation: prefixDriverAnnotation, env: prefixDriverEnv,
		secrets: prefixDriverSecrets, secretKeyRef: prefixDriverSecretKeyRef, volumes: prefixDriverVolumes,
		nodeSelector: prefixDriverNodeSelector, resource: "spark.driver.resource.", field: "spec.driver",
	}
	executorKeys = roleKeys{
		cores: keyExecutorCores, requestCores: keyExecutorRequestCores, limitCores: keyExecutorLimitCores,
		memory: keyExecutorMemory, overhead: keyExecutorMemoryOverhead, minOverhead: keyExecutorMinOverhead,
		image: keyExecutorImage, serviceAccount: keyExecutorSA, javaOptions: keyExecutorJavaOptions,
		label: prefixExecutorLabel, annotation: prefixExecutorAnnotation, env: prefixExecutorEnv,
		secrets: prefixExecutorSecrets, secretKeyRef: prefixExecSecretKeyRef, volumes: prefixExecutorVolumes,
		nodeSelector: prefixExecNodeSelector, resource: prefixExecutorResource, field: "spec.executor",
	}
)

// podConf adds what the driver and the executors take alike from their part of the spec (ps), as
// Kubeflow's driverConfOption and executorConfOption do, in their order: the operator's labels,
// image, cores (default 1), core request and limit, memory (default 1g) and overhead, service
// account, Java options, labels, annotations, secret env vars, env vars and secrets (a secret's type
// sets its env var after the env vars). A reserved label is a *FieldError.
func podConf(conf Conf, app *v1beta2.SparkApplication, sub Submission, ps *v1beta2.SparkPodSpec, coreRequest, javaOptions *string, k roleKeys) error {
	for key, v := range operatorLabels(app, sub) {
		conf[k.label+key] = v
	}
	setIfGiven(conf, k.image, ps.Image)
	if ps.Cores != nil {
		conf[k.cores] = strconv.Itoa(int(*ps.Cores))
	} else {
		conf.setDefault(k.cores, defaultCores)
	}
	setIfGiven(conf, k.requestCores, coreRequest)
	setIfGiven(conf, k.limitCores, ps.CoreLimit)
	if ps.Memory != nil {
		conf[k.memory] = *ps.Memory
	} else {
		conf.setDefault(k.memory, defaultMemory)
	}
	setIfGiven(conf, k.overhead, ps.MemoryOverhead)
	setIfGiven(conf, k.serviceAccount, ps.ServiceAccount)
	setIfGiven(conf, k.javaOptions, javaOptions)
	if err := podLabelsConf(conf, k.label, k.field+".labels", app.Labels, ps.Labels); err != nil {
		return err
	}
	for key, v := range ps.Annotations {
		conf[k.annotation+key] = v
	}
	for env, ref := range ps.EnvSecretKeyRefs {
		conf[k.secretKeyRef+env] = ref.Name + ":" + ref.Key
	}
	for key, v := range ps.EnvVars {
		conf[k.env+key] = v
	}
	for _, s := range ps.Secrets {
		conf[k.secrets+s.Name] = s.Path
		switch s.Type {
		case v1beta2.SecretTypeGCPServiceAccount:
			conf[k.env+"GOOGLE_APPLICATION_CREDENTIALS"] = s.Path + "/key.json"
		case v1beta2.SecretTypeHadoopDelegationToken:
			conf[k.env+"HADOOP_TOKEN_FILE_LOCATION"] = s.Path + "/hadoop.token"
		}
	}
	return nil
}

// setIfGiven sets conf[key] to *v when v is not nil.
func setIfGiven(conf Conf, key string, v *string) {
	if v != nil {
		conf[key] = *v
	}
}

// driverConf adds the driver options, as Kubeflow's driverConfOption does.
func driverConf(conf Conf, app *v1beta2.SparkApplication, sub Submission) error {
	d := &app.Spec.Driver
	if err := podConf(conf, app, sub, &d.SparkPodSpec, d.CoreRequest, d.JavaOptions, driverKeys); err != nil {
		return err
	}
	setIfGiven(conf, keyDriverMaster, d.KubernetesMaster)
	for k, v := range d.ServiceAnnotations {
		conf[prefixDriverSvcAnnotation+k] = v
	}
	for k, v := range d.ServiceLabels {
		conf[prefixDriverSvcLabel+k] = v
	}
	return localDirVolumesConf(conf, driverKeys.volumes, driverKeys.field+".volumeMounts", app.Spec.Volumes, d.VolumeMounts)
}

// executorConf adds the executor options, as Kubeflow's executorConfOption does.
func executorConf(conf Conf, app *v1beta2.SparkApplication, sub Submission) error {
	e := &app.Spec.Executor
	if err := podConf(conf, app, sub, &e.SparkPodSpec, e.CoreRequest, e.JavaOptions, executorKeys); err != nil {
		return err
	}
	// The schema stores instances: 1 when it is omitted (Kubeflow's webhook default, which Kueue
	// counts), so 1 and 0 (Kueue's write-back of an uncounted application) mean "not set": they
	// yield to sparkConf and to dynamic allocation, as an omitted field did for Kubeflow.
	if n := ptr.Deref(e.Instances, 0); n > 1 {
		conf[keyExecutorInstances] = strconv.Itoa(int(n))
	} else if !dynamicAllocationEnabled(&app.Spec) {
		conf.setDefault(keyExecutorInstances, defaultInstances)
	}
	if e.DeleteOnTermination != nil {
		conf[keyExecutorDeleteOnTerm] = strconv.FormatBool(*e.DeleteOnTermination)
	}
	return localDirVolumesConf(conf, executorKeys.volumes, executorKeys.field+".volumeMounts", app.Spec.Volumes, e.VolumeMounts)
}

// reservedLabels are the labels Spark sets itself; Spark refuses them as custom labels.
var reservedLabels = []string{
	v1beta2.LabelSparkAppSelector, v1beta2.LabelSparkRole, v1beta2.LabelSparkAppName,
	v1beta2.LabelSparkVersion, v1beta2.LabelSparkExecID, "spark-exec-resourceprofile-id",
}

// podLabelsConf passes the application's metadata labels and the role's labels as Spark label
// properties. The application's own kueue.x-k8s.io/* labels (queue-name, priority-class) stay off the
// pods: on a pod they would make Kueue's pod integration queue it as a workload of its own. The
// role's kueue.x-k8s.io/* labels are Kueue's admission writing per-pod-set labels into the spec
// (kueue.x-k8s.io/podset, which its topology ungater selects pods by), so they reach the pods.
func podLabelsConf(conf Conf, prefix, field string, appLabels, roleLabels map[string]string) error {
	for i, labels := range []map[string]string{appLabels, roleLabels} {
		for k, v := range labels {
			if i == 0 && strings.HasPrefix(k, kueueLabelPrefix) {
				continue
			}
			if slices.Contains(reservedLabels, k) {
				return fieldError(field, "label %q is set by Spark itself and cannot be given", k)
			}
			conf[prefix+k] = v
		}
	}
	return nil
}

// operatorLabels are the labels the operator puts on every driver and executor pod of an attempt.
func operatorLabels(app *v1beta2.SparkApplication, sub Submission) map[string]string {
	return map[string]string{
		v1beta2.LabelAppName:                 app.Name,
		v1beta2.LabelLaunchedBySparkOperator: "true",
		v1beta2.LabelMutatedBySparkOperator:  "true",
		v1beta2.LabelSubmissionID:            sub.ID,
	}
}

// dynamicAllocationConf adds dynamic allocation properties; shuffle tracking defaults to on, since
// Kubernetes has no external shuffle service.
func dynamicAllocationConf(conf Conf, spec *v1beta2.SparkApplicationSpec) {
	da := spec.DynamicAllocation
	if da == nil || !da.Enabled {
		return
	}
	conf[keyDAEnabled] = "true"
	if da.InitialExecutors != nil {
		conf[keyDAInitial] = strconv.Itoa(int(*da.InitialExecutors))
	}
	if da.MinExecutors != nil {
		conf[keyDAMin] = strconv.Itoa(int(*da.MinExecutors))
	}
	if da.MaxExecutors != nil {
		conf[keyDAMax] = strconv.Itoa(int(*da.MaxExecutors))
	}
	tracking := da.ShuffleTrackingEnabled == nil || *da.ShuffleTrackingEnabled
	conf[keyDAShuffleTracking] = strconv.FormatBool(tracking)
	if da.ShuffleTrackingTimeout != nil {
		conf[keyDAShuffleTrackingTO] = strconv.FormatInt(*da.ShuffleTrackingTimeout, 10)
	}
}

func dynamicAllocationEnabled(spec *v1beta2.SparkApplicationSpec) bool {
	if spec.DynamicAllocation != nil && spec.DynamicAllocation.Enabled {
		return true
	}
	return strings.EqualFold(spec.SparkConf[keyDAEnabled], "true")
}

// appType is the application type, Scala when unset (the schema default).
func appType(spec *v1beta2.SparkApplicationSpec) v1beta2.SparkApplicationType {
	if spec.Type == "" {
		return v1beta2.SparkApplicationTypeScala
	}
	return spec.Type
}

// mainApplicationFile returns the main resource as SparkSubmit resolves it. A file without scheme or
// with file: lives on the submitter's disk, which for an operator means nowhere useful: spark-submit
// would need spark.kubernetes.file.upload.path to upload it, and Kubeflow's operator fails the same way.
func mainApplicationFile(spec *v1beta2.SparkApplicationSpec) (string, error) {
	if spec.MainApplicationFile == nil || *spec.MainApplicationFile == "" {
		return "", fieldError("spec.mainApplicationFile", "is required")
	}
	f := *spec.MainApplicationFile
	if isSubmitterLocal(f) && f != sparkInternalResource {
		return "", fieldError("spec.mainApplicationFile", "%q is a file on the submitter's disk; use local://%s for a file in the image, or a remote URI (s3a://, gs://, https://), or upload it with sparkctl create --upload-to", f, strings.TrimPrefix(f, "file:"))
	}
	return f, nil
}

// checkRemote refuses dependencies that live on the submitter's disk (see mainApplicationFile).
func checkRemote(field string, uris []string) error {
	for _, u := range uris {
		if isSubmitterLocal(u) {
			return fieldError(field, "%q is a file on the submitter's disk; use local:// for a file in the image or a remote URI", u)
		}
	}
	return nil
}

func depsField(key string) string {
	switch key {
	case keyFiles:
		return "files"
	case keyArchives:
		return "archives"
	default:
		return "pyFiles"
	}
}

// isSubmitterLocal reports whether uri has no scheme or the file: scheme (Spark's Utils.isLocalUri
// counterpart for the submitter side).
func isSubmitterLocal(uri string) bool {
	u, err := url.Parse(strings.SplitN(uri, "#", 2)[0])
	if err != nil {
		return false
	}
	return u.Scheme == "" || u.Scheme == "file"
}

// resolveURIs mirrors Spark's Utils.resolveURIs for the URIs we accept (all have a scheme): unchanged.
func resolveURIs(uris []string) []string { return uris }

func setList(conf Conf, key string, values []string) {
	if len(values) > 0 {
		conf[key] = strings.Join(resolveURIs(values), ",")
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// FieldError is an application spec the submitter cannot turn into a driver. Field names the spec
// field (e.g. "spec.driver.memory"); the controller reports it as SUBMISSION_FAILED with this message.
type FieldError struct {
	Field  string
	Detail string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

func fieldError(field, format string, args ...any) error {
	return &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
}
