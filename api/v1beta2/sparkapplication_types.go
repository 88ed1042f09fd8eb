package v1beta2

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SparkApplicationType is the language of a Spark application: Java, Scala, Python or R.
// +kubebuilder:validation:Enum=Java;Python;Scala;R
type SparkApplicationType string

// Application types, as in Kubeflow v1beta2.
const (
	SparkApplicationTypeJava   SparkApplicationType = "Java"
	SparkApplicationTypeScala  SparkApplicationType = "Scala"
	SparkApplicationTypePython SparkApplicationType = "Python"
	SparkApplicationTypeR      SparkApplicationType = "R"
)

// DeployMode is spark-submit's --deploy-mode.
// +kubebuilder:validation:Enum=cluster;client
type DeployMode string

// Deploy modes. Only cluster mode is submitted by the operator; client mode is accepted by the schema
// for compatibility and reported as a submission failure with an explanation.
const (
	DeployModeCluster DeployMode = "cluster"
	DeployModeClient  DeployMode = "client"
	// DeployModeInClusterClient exists in Kubeflow's Go types but not in its CRD enum.
	DeployModeInClusterClient DeployMode = "in-cluster-client"
)

// RestartPolicyType says when an application is submitted again after it terminates.
// +kubebuilder:validation:Enum=Never;Always;OnFailure
type RestartPolicyType string

// Restart policy types, as in Kubeflow v1beta2.
const (
	RestartPolicyNever     RestartPolicyType = "Never"
	RestartPolicyOnFailure RestartPolicyType = "OnFailure"
	RestartPolicyAlways    RestartPolicyType = "Always"
)

// SecretType tells how a mounted secret is used: GCPServiceAccount also sets
// GOOGLE_APPLICATION_CREDENTIALS=<path>/key.json, HadoopDelegationToken sets
// HADOOP_TOKEN_FILE_LOCATION=<path>/hadoop.token, Generic only mounts it.
// +kubebuilder:validation:Enum=GCPServiceAccount;HadoopDelegationToken;Generic
type SecretType string

// Secret types, as in Kubeflow v1beta2.
const (
	SecretTypeGCPServiceAccount     SecretType = "GCPServiceAccount"
	SecretTypeHadoopDelegationToken SecretType = "HadoopDelegationToken"
	SecretTypeGeneric               SecretType = "Generic"
)

// SparkApplication is one Spark application run in cluster mode: the operator creates its driver
// pod, the driver creates its executors, and the status follows both.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sparkapp,singular=sparkapplication
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=https://github.com/kubeflow/spark-operator/pull/1298"
// +kubebuilder:printcolumn:JSONPath=.spec.suspend,name=Suspend,type=boolean
// +kubebuilder:printcolumn:JSONPath=.status.applicationState.state,name=Status,type=string
// +kubebuilder:printcolumn:JSONPath=.status.executionAttempts,name=Attempts,type=string
// +kubebuilder:printcolumn:JSONPath=.status.lastSubmissionAttemptTime,name=Start,type=string
// +kubebuilder:printcolumn:JSONPath=.status.terminationTime,name=Finish,type=string
// +kubebuilder:printcolumn:JSONPath=.metadata.creationTimestamp,name=Age,type=date
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label: at most 63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit"
type SparkApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired application.
	// +required
	Spec SparkApplicationSpec `json:"spec"`
	// status is the observed state, written by the operator.
	// +optional
	Status SparkApplicationStatus `json:"status,omitempty"`
}

// SparkApplicationList is a list of SparkApplications.
//
// +kubebuilder:object:root=true
type SparkApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SparkApplication `json:"items"`
}

// SparkApplicationSpec is what to run and how. Each field maps to a spark-submit option or conf key
// as the Kubeflow operator maps it (see docs/api.md for the table).
//
// +kubebuilder:validation:XValidation:rule="!has(self.nodeSelector) || size(self.nodeSelector) == 0 || ((!has(self.driver.nodeSelector) || size(self.driver.nodeSelector) == 0) && (!has(self.executor.nodeSelector) || size(self.executor.nodeSelector) == 0))",message="spec.nodeSelector cannot be used together with spec.driver.nodeSelector or spec.executor.nodeSelector",fieldPath=".nodeSelector"
// +kubebuilder:validation:XValidation:rule="!has(self.sparkConf) || !['spark.master','spark.kubernetes.driver.master','spark.kubernetes.container.image','spark.kubernetes.driver.container.image','spark.kubernetes.executor.container.image','spark.kubernetes.authenticate.driver.serviceAccountName','spark.kubernetes.authenticate.executor.serviceAccountName','spark.kubernetes.authenticate.oauthToken','spark.kubernetes.authenticate.oauthTokenFile','spark.kubernetes.authenticate.driver.oauthToken','spark.kubernetes.authenticate.driver.oauthTokenFile','spark.kubernetes.authenticate.executor.oauthToken','spark.kubernetes.authenticate.executor.oauthTokenFile'].exists(k, k in self.sparkConf)",message="sparkConf keys spark.master, spark.kubernetes.*.container.image, spark.kubernetes.driver.master, service account names and OAuth tokens are not allowed: use spec.image, spec.driver/executor.image and spec.driver/executor.serviceAccount instead",messageExpression="'sparkConf key ' + ['spark.master','spark.kubernetes.driver.master','spark.kubernetes.container.image','spark.kubernetes.driver.container.image','spark.kubernetes.executor.container.image','spark.kubernetes.authenticate.driver.serviceAccountName','spark.kubernetes.authenticate.executor.serviceAccountName','spark.kubernetes.authenticate.oauthToken','spark.kubernetes.authenticate.oauthTokenFile','spark.kubernetes.authenticate.driver.oauthToken','spark.kubernetes.authenticate.driver.oauthTokenFile','spark.kubernetes.authenticate.executor.oauthToken','spark.kubernetes.authenticate.executor.oauthTokenFile'].filter(k, k in self.sparkConf)[0] + ' is not allowed: use spec.image, spec.driver/executor.image and spec.driver/executor.serviceAccount instead; the operator sets spark.master and the credentials'",fieldPath=".sparkConf"
// +kubebuilder:validation:XValidation:rule="self.mode != 'client'",message="client mode is not supported by the operator; use cluster",fieldPath=".mode"
// +kubebuilder:validation:XValidation:rule="!has(self.executor.instances) || self.executor.instances != 0 || (has(self.suspend) && self.suspend) || (oldSelf.hasValue() && has(oldSelf.value().executor.instances) && oldSelf.value().executor.instances == 0)",message="executor.instances must be at least 1; 0 is accepted only together with suspend: true, as Kueue writes it when it evicts an application",fieldPath=".executor.instances",optionalOldSelf=true
type SparkApplicationSpec struct {
	// type is the application language: Java, Scala, Python or R.
	// +kubebuilder:default=Scala
	// +optional
	Type SparkApplicationType `json:"type,omitempty"`
	// sparkVersion is the Spark version of the image, e.g. "3.5.3"; it becomes the spark-version label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	SparkVersion string `json:"sparkVersion"`
	// mode is spark-submit's deploy mode; only cluster is run by the operator.
	// +kubebuilder:default=cluster
	// +optional
	Mode DeployMode `json:"mode,omitempty"`
	// proxyUser is spark-submit's --proxy-user.
	// +optional
	ProxyUser *string `json:"proxyUser,omitempty"`
	// image is the container image of the driver and executors, unless they set their own
	// (spark.kubernetes.container.image).
	// +kubebuilder:validation:MinLength=1
	// +optional
	Image *string `json:"image,omitempty"`
	// imagePullPolicy is spark.kubernetes.container.image.pullPolicy.
	// +kubebuilder:validation:Enum=Always;Never;IfNotPresent
	// +optional
	ImagePullPolicy *string `json:"imagePullPolicy,omitempty"`
	// imagePullSecrets names secrets for pulling the image (spark.kubernetes.container.image.pullSecrets).
	// +optional
	ImagePullSecrets []string `json:"imagePullSecrets,omitempty"`
	// mainClass is the entry point of a Java or Scala application (--class).
	// +optional
	MainClass *string `json:"mainClass,omitempty"`
	// mainApplicationFile is the application jar, Python or R file, e.g.
	// local:///opt/spark/examples/jars/spark-examples.jar.
	// +kubebuilder:validation:MinLength=1
	// +required
	MainApplicationFile *string `json:"mainApplicationFile"`
	// arguments are passed to the application after the main file.
	// +optional
	Arguments []string `json:"arguments,omitempty"`
	// sparkConf holds Spark configuration properties, each passed as --conf key=value.
	// +kubebuilder:validation:MaxProperties=4096
	// +optional
	SparkConf map[string]string `json:"sparkConf,omitempty"`
	// hadoopConf holds Hadoop configuration properties, each passed as --conf spark.hadoop.key=value.
	// +optional
	HadoopConf map[string]string `json:"hadoopConf,omitempty"`
	// sparkConfigMap names a ConfigMap of Spark configuration files, mounted at /etc/spark/conf with
	// SPARK_CONF_DIR pointing at it.
	// +optional
	SparkConfigMap *string `json:"sparkConfigMap,omitempty"`
	// hadoopConfigMap names a ConfigMap of Hadoop configuration files, mounted at /etc/hadoop/conf with
	// HADOOP_CONF_DIR pointing at it.
	// +optional
	HadoopConfigMap *string `json:"hadoopConfigMap,omitempty"`
	// volumes are pod volumes that driver and executor volumeMounts refer to. Volumes named
	// spark-local-dir-* become Spark local directories.
	// +optional
	Volumes []corev1.Volume `json:"volumes,omitempty"`
	// driver describes the driver pod.
	// +required
	Driver DriverSpec `json:"driver"`
	// executor describes the executor pods.
	// +required
	Executor ExecutorSpec `json:"executor"`
	// deps are dependencies fetched by the driver: jars, files, pyFiles, packages and archives.
	// +optional
	Deps Dependencies `json:"deps,omitempty"`
	// restartPolicy says when the application is submitted again.
	// +kubebuilder:default={type: Never}
	// +optional
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// nodeSelector applies to the driver and the executors (spark.kubernetes.node.selector.*). It
	// cannot be combined with driver.nodeSelector or executor.nodeSelector.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// failureRetries is kept for compatibility with Kubeflow, which also ignores it; use
	// restartPolicy.onFailureRetries.
	// +optional
	FailureRetries *int32 `json:"failureRetries,omitempty"`
	// retryInterval is kept for compatibility with Kubeflow, which also ignores it; use
	// restartPolicy.onFailureRetryInterval.
	// +optional
	RetryInterval *int64 `json:"retryInterval,omitempty"`
	// pythonVersion is spark.kubernetes.pyspark.pythonVersion ("2" or "3").
	// +kubebuilder:validation:Enum="2";"3"
	// +optional
	PythonVersion *string `json:"pythonVersion,omitempty"`
	// memoryOverheadFactor is spark.kubernetes.memoryOverheadFactor, e.g. "0.2"; the default is 0.1 for
	// JVM applications and 0.4 for Python and R.
	// +kubebuilder:validation:Pattern=`^([0-9]*[.])?[0-9]+$`
	// +optional
	MemoryOverheadFactor *string `json:"memoryOverheadFactor,omitempty"`
	// monitoring exposes driver and executor metrics to Prometheus.
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`
	// batchScheduler is the scheduler name for the driver and executor pods (e.g. volcano, yunikorn).
	// +optional
	BatchScheduler *string `json:"batchScheduler,omitempty"`
	// timeToLiveSeconds deletes the SparkApplication this many seconds after it terminates
	// (COMPLETED or FAILED); zero or less deletes it at once.
	// +optional
	TimeToLiveSeconds *int64 `json:"timeToLiveSeconds,omitempty"`
	// batchSchedulerOptions configure the batch scheduler.
	// +optional
	BatchSchedulerOptions *BatchSchedulerConfiguration `json:"batchSchedulerOptions,omitempty"`
	// sparkUIOptions customise the Spark UI Service and Ingress.
	// +optional
	SparkUIOptions *SparkUIConfiguration `json:"sparkUIOptions,omitempty"`
	// driverIngressOptions expose further driver ports through a Service and an Ingress each.
	// +listType=map
	// +listMapKey=servicePort
	// +optional
	DriverIngressOptions []DriverIngressConfiguration `json:"driverIngressOptions,omitempty"`
	// dynamicAllocation configures Spark dynamic executor allocation.
	// +optional
	DynamicAllocation *DynamicAllocation `json:"dynamicAllocation,omitempty"`
	// driverPodDisruptionBudget asks for a PodDisruptionBudget (minAvailable 1) that keeps the driver
	// pod from voluntary eviction (a node drain) while it is pending or running. The operator creates
	// it only when started with --enable-driver-pdb; otherwise the DriverPodDisruptionBudget condition
	// is False and says so.
	// +optional
	DriverPodDisruptionBudget *bool `json:"driverPodDisruptionBudget,omitempty"`
	// suspend stops a running application (its pods are deleted, state SUSPENDED) and keeps it from
	// being submitted until it is set to false again; used by Kueue.
	// +optional
	Suspend *bool `json:"suspend,omitempty"`
}

// BatchSchedulerConfiguration configures a batch scheduler.
type BatchSchedulerConfiguration struct {
	// queue is the scheduler queue the application runs in.
	// +optional
	Queue *string `json:"queue,omitempty"`
	// priorityClassName is the priority class of the pod group.
	// +optional
	PriorityClassName *string `json:"priorityClassName,omitempty"`
	// resources overrides the minimum resources computed for the pod group.
	// +optional
	Resources corev1.ResourceList `json:"resources,omitempty"`
}

// SparkUIConfiguration customises the Service (and Ingress) in front of the driver's Spark UI.
type SparkUIConfiguration struct {
	// servicePort is the Service port; the default is spark.ui.port or 4040.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	ServicePort *int32 `json:"servicePort,omitempty"`
	// servicePortName is the Service port name; the default is spark-driver-ui-port.
	// +optional
	ServicePortName *string `json:"servicePortName,omitempty"`
	// serviceType is the Service type; the default is ClusterIP.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +optional
	ServiceType *corev1.ServiceType `json:"serviceType,omitempty"`
	// serviceAnnotations are added to the UI Service.
	// +optional
	ServiceAnnotations map[string]string `json:"serviceAnnotations,omitempty"`
	// serviceLabels replace the default labels of the UI Service.
	// +optional
	ServiceLabels map[string]string `json:"serviceLabels,omitempty"`
	// ingressAnnotations are added to the UI Ingress.
	// +optional
	IngressAnnotations map[string]string `json:"ingressAnnotations,omitempty"`
	// ingressTLS is the TLS configuration of the UI Ingress.
	// +optional
	IngressTLS []networkingv1.IngressTLS `json:"ingressTLS,omitempty"`
}

// DriverIngressConfiguration exposes one more driver port through a Service and an Ingress.
type DriverIngressConfiguration struct {
	// servicePort is the driver port to expose.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	ServicePort *int32 `json:"servicePort"`
	// servicePortName is the Service port name.
	// +kubebuilder:validation:MinLength=1
	// +required
	ServicePortName *string `json:"servicePortName"`
	// serviceType is the Service type; the default is ClusterIP.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +optional
	ServiceType *corev1.ServiceType `json:"serviceType,omitempty"`
	// serviceAnnotations are added to the Service.
	// +optional
	ServiceAnnotations map[string]string `json:"serviceAnnotations,omitempty"`
	// serviceLabels are added to the Service.
	// +optional
	ServiceLabels map[string]string `json:"serviceLabels,omitempty"`
	// ingressURLFormat is the Ingress URL; {{$appName}}, {{$appNamespace}} and {{$appId}} are replaced (spaces inside the braces allowed).
	// +kubebuilder:validation:MinLength=1
	// +required
	IngressURLFormat string `json:"ingressURLFormat"`
	// ingressAnnotations are added to the Ingress.
	// +optional
	IngressAnnotations map[string]string `json:"ingressAnnotations,omitempty"`
	// ingressTLS is the TLS configuration of the Ingress.
	// +optional
	IngressTLS []networkingv1.IngressTLS `json:"ingressTLS,omitempty"`
}

// ApplicationStateType is the state of a SparkApplication. The strings are Kubeflow's, exactly.
type ApplicationStateType string

// Application states. A new application has the empty state.
const (
	ApplicationStateNew              ApplicationStateType = ""
	ApplicationStateSubmitted        ApplicationStateType = "SUBMITTED"
	ApplicationStateRunning          ApplicationStateType = "RUNNING"
	ApplicationStateCompleted        ApplicationStateType = "COMPLETED"
	ApplicationStateFailed           ApplicationStateType = "FAILED"
	ApplicationStateFailedSubmission ApplicationStateType = "SUBMISSION_FAILED"
	ApplicationStatePendingRerun     ApplicationStateType = "PENDING_RERUN"
	ApplicationStateInvalidating     ApplicationStateType = "INVALIDATING"
	ApplicationStateSucceeding       ApplicationStateType = "SUCCEEDING"
	ApplicationStateFailing          ApplicationStateType = "FAILING"
	ApplicationStateSuspending       ApplicationStateType = "SUSPENDING"
	ApplicationStateSuspended        ApplicationStateType = "SUSPENDED"
	ApplicationStateResuming         ApplicationStateType = "RESUMING"
	ApplicationStateUnknown          ApplicationStateType = "UNKNOWN"
)

// ApplicationState is the state of an application and, when it failed, why.
type ApplicationState struct {
	// state is the application state.
	State ApplicationStateType `json:"state"`
	// errorMessage says what went wrong, and what to fix, when the state is a failure.
	// +optional
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// DriverState is the state of a driver pod.
type DriverState string

// Driver states.
const (
	DriverStatePending   DriverState = "PENDING"
	DriverStateRunning   DriverState = "RUNNING"
	DriverStateCompleted DriverState = "COMPLETED"
	DriverStateFailed    DriverState = "FAILED"
	DriverStateUnknown   DriverState = "UNKNOWN"
)

// ExecutorState is the state of an executor pod.
type ExecutorState string

// Executor states.
const (
	ExecutorStatePending   ExecutorState = "PENDING"
	ExecutorStateRunning   ExecutorState = "RUNNING"
	ExecutorStateCompleted ExecutorState = "COMPLETED"
	ExecutorStateFailed    ExecutorState = "FAILED"
	ExecutorStateUnknown   ExecutorState = "UNKNOWN"
)

// SparkApplicationStatus is the observed state of a SparkApplication.
type SparkApplicationStatus struct {
	// sparkApplicationId is Spark's application id (spark.app.id, label spark-app-selector).
	// +optional
	SparkApplicationID string `json:"sparkApplicationId,omitempty"`
	// submissionID identifies the current submission attempt; its pods carry it in the label
	// sparkoperator.k8s.io/submission-id.
	// +optional
	SubmissionID string `json:"submissionID,omitempty"`
	// lastSubmissionAttemptTime is when the current attempt was submitted.
	// +optional
	LastSubmissionAttemptTime metav1.Time `json:"lastSubmissionAttemptTime,omitempty"`
	// terminationTime is when the application reached COMPLETED or FAILED.
	// +optional
	TerminationTime metav1.Time `json:"terminationTime,omitempty"`
	// driverInfo describes the driver pod and its UI.
	// +optional
	DriverInfo DriverInfo `json:"driverInfo,omitempty"`
	// applicationState is the application state.
	// +optional
	AppState ApplicationState `json:"applicationState,omitempty"`
	// executorState maps executor pod names to their state. It holds at most the operator's
	// --max-tracked-executors entries (the lowest executor ids), so that an application with thousands
	// of executors never makes the object too large for etcd; executorCounts counts them all.
	// +optional
	ExecutorState map[string]ExecutorState `json:"executorState,omitempty"`
	// executorCounts counts the executor pods of the current attempt by state, including those not
	// listed in executorState.
	// +optional
	ExecutorCounts map[ExecutorState]int32 `json:"executorCounts,omitempty"`
	// executionAttempts counts the attempts that got a driver pod, including the current one.
	// +optional
	ExecutionAttempts int32 `json:"executionAttempts,omitempty"`
	// submissionAttempts counts submissions, successful or not, including the current one.
	// +optional
	SubmissionAttempts int32 `json:"submissionAttempts,omitempty"`
	// infrastructureRestarts counts the attempts, among executionAttempts, whose driver was lost to
	// the infrastructure (evicted, preempted, its node gone) and that were restarted without
	// consuming onFailureRetries or onSubmissionFailureRetries (docs/state-machine.md). It is reset
	// with the attempt counters.
	// +optional
	InfrastructureRestarts int32 `json:"infrastructureRestarts,omitempty"`
	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// submittedSpecHash identifies the spec (without suspend and timeToLiveSeconds) of the current
	// attempt; when the spec changes otherwise, the attempt is invalidated and the application
	// submitted again.
	// +optional
	SubmittedSpecHash string `json:"submittedSpecHash,omitempty"`
	// conditions are the standard conditions: Submitted, Running, Succeeded, Failed, Suspended.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// DriverInfo describes the driver of the current attempt.
type DriverInfo struct {
	// webUIServiceName is the name of the Service in front of the Spark UI.
	// +optional
	WebUIServiceName string `json:"webUIServiceName,omitempty"`
	// webUIAddress is the UI address, "<clusterIP>:<port>".
	// +optional
	WebUIAddress string `json:"webUIAddress,omitempty"`
	// webUIPort is the UI Service port.
	// +optional
	WebUIPort int32 `json:"webUIPort,omitempty"`
	// webUIIngressName is the name of the UI Ingress, when there is one.
	// +optional
	WebUIIngressName string `json:"webUIIngressName,omitempty"`
	// webUIIngressAddress is the URL of the UI Ingress, when there is one.
	// +optional
	WebUIIngressAddress string `json:"webUIIngressAddress,omitempty"`
	// podName is the name of the driver pod.
	// +optional
	PodName string `json:"podName,omitempty"`
}

// SparkPodSpec holds what the driver and the executors have in common.
//
// +kubebuilder:validation:XValidation:rule="!has(self.coreLimit) || isQuantity(self.coreLimit)",message="coreLimit must be a Kubernetes CPU quantity such as 1, 1.5 or 1500m",fieldPath=".coreLimit"
type SparkPodSpec struct {
	// template is a pod template (Spark 3.0+) that the operator's settings are merged into; fields the
	// operator sets win. A value of the wrong type inside it fails the submission, naming the field.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Template *PodTemplate `json:"template,omitempty"`
	// cores is the number of CPU cores (spark.driver.cores / spark.executor.cores); the default is 1.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Cores *int32 `json:"cores,omitempty"`
	// coreLimit is the container CPU limit, e.g. "1200m" (spark.kubernetes.{driver,executor}.limit.cores).
	// +optional
	CoreLimit *string `json:"coreLimit,omitempty"`
	// memory is the JVM heap in Spark's notation, e.g. "512m" or "2g"
	// (spark.driver.memory / spark.executor.memory); the default is 1g.
	// +kubebuilder:validation:Pattern=`^[0-9]+([kKmMgGtTpP][bB]?|[bB])?$`
	// +optional
	Memory *string `json:"memory,omitempty"`
	// memoryLimit sets the container memory limit above the request computed from memory and
	// overhead; Spark ("2g") and Kubernetes ("2Gi") notations are accepted.
	// +kubebuilder:validation:Pattern=`^[0-9]+([kKmMgGtTpP][bB]?|[bB]|[KMGTPE]i)?$`
	// +optional
	MemoryLimit *string `json:"memoryLimit,omitempty"`
	// memoryOverhead is the non-heap memory in Spark's notation, e.g. "512m"; the default is
	// max(factor x memory, 384m).
	// +kubebuilder:validation:Pattern=`^[0-9]+([kKmMgGtTpP][bB]?|[bB])?$`
	// +optional
	MemoryOverhead *string `json:"memoryOverhead,omitempty"`
	// gpu requests GPUs as a container limit.
	// +optional
	GPU *GPUSpec `json:"gpu,omitempty"`
	// image overrides spec.image for this role.
	// +kubebuilder:validation:MinLength=1
	// +optional
	Image *string `json:"image,omitempty"`
	// configMaps are ConfigMaps mounted into the Spark container.
	// +optional
	ConfigMaps []NamePath `json:"configMaps,omitempty"`
	// secrets are Secrets mounted into the Spark container.
	// +optional
	Secrets []SecretInfo `json:"secrets,omitempty"`
	// env are environment variables of the Spark container.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
	// envVars are environment variables by name; deprecated, use env.
	// +optional
	EnvVars map[string]string `json:"envVars,omitempty"`
	// envFrom are sources of environment variables of the Spark container.
	// +optional
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`
	// envSecretKeyRefs map environment variable names to secret keys; deprecated, use env.
	// +optional
	EnvSecretKeyRefs map[string]NameKey `json:"envSecretKeyRefs,omitempty"`
	// labels are added to the pods.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// annotations are added to the pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// volumeMounts mount spec.volumes into the Spark container.
	// +optional
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts,omitempty"`
	// affinity replaces the pods' affinity.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// tolerations are added to the pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// podSecurityContext replaces the pods' security context.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
	// securityContext is the Spark container's security context.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
	// schedulerName is the pods' scheduler; spec.batchScheduler wins over it.
	// +optional
	SchedulerName *string `json:"schedulerName,omitempty"`
	// sidecars are containers run beside the Spark container.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(c, size(c.name) > 0)",message="every sidecar needs a name"
	Sidecars []corev1.Container `json:"sidecars,omitempty"`
	// initContainers run before the Spark container.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(c, size(c.name) > 0)",message="every init container needs a name"
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
	// hostNetwork runs the pods in the host's network namespace.
	// +optional
	HostNetwork *bool `json:"hostNetwork,omitempty"`
	// nodeSelector is added to the pods' node selector.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// dnsConfig replaces the pods' DNS configuration.
	// +optional
	DNSConfig *corev1.PodDNSConfig `json:"dnsConfig,omitempty"`
	// terminationGracePeriodSeconds is how long the pods get to shut down when deleted.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// serviceAccount is the pods' service account.
	// +optional
	ServiceAccount *string `json:"serviceAccount,omitempty"`
	// hostAliases are added to the pods' /etc/hosts.
	// +optional
	HostAliases []corev1.HostAlias `json:"hostAliases,omitempty"`
	// shareProcessNamespace shares one process namespace between the pod's containers.
	// +optional
	ShareProcessNamespace *bool `json:"shareProcessNamespace,omitempty"`
}

// DriverSpec describes the driver pod.
//
// +kubebuilder:validation:XValidation:rule="!has(self.coreRequest) || isQuantity(self.coreRequest)",message="driver.coreRequest must be a Kubernetes CPU quantity such as 500m",fieldPath=".coreRequest"
type DriverSpec struct {
	SparkPodSpec `json:",inline"`
	// podName is the driver pod's name; the default is <application name>-driver.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	PodName *string `json:"podName,omitempty"`
	// coreRequest is the CPU request, e.g. "500m" (spark.kubernetes.driver.request.cores); it wins
	// over cores for the request.
	// +optional
	CoreRequest *string `json:"coreRequest,omitempty"`
	// javaOptions are the driver's extra JVM options (spark.driver.extraJavaOptions).
	// +optional
	JavaOptions *string `json:"javaOptions,omitempty"`
	// lifecycle is the Spark container's lifecycle hooks.
	// +optional
	Lifecycle *corev1.Lifecycle `json:"lifecycle,omitempty"`
	// kubernetesMaster is the API server URL the driver uses (spark.kubernetes.driver.master).
	// +optional
	KubernetesMaster *string `json:"kubernetesMaster,omitempty"`
	// serviceAnnotations are added to the driver's headless Service.
	// +optional
	ServiceAnnotations map[string]string `json:"serviceAnnotations,omitempty"`
	// serviceLabels are added to the driver's headless Service.
	// +optional
	ServiceLabels map[string]string `json:"serviceLabels,omitempty"`
	// ports are extra container ports of the driver.
	// +optional
	Ports []Port `json:"ports,omitempty"`
	// priorityClassName is the driver pod's priority class.
	// +optional
	PriorityClassName *string `json:"priorityClassName,omitempty"`
}

// ExecutorSpec describes the executor pods.
//
// +kubebuilder:validation:XValidation:rule="!has(self.coreRequest) || isQuantity(self.coreRequest)",message="executor.coreRequest must be a Kubernetes CPU quantity such as 500m",fieldPath=".coreRequest"
type ExecutorSpec struct {
	SparkPodSpec `json:",inline"`
	// instances is the number of executors (spark.executor.instances). The API server stores 1 when
	// it is omitted, as Kubeflow's defaulting webhook does, so that Kueue counts the executors of
	// every application it admits. A value of 1 (or 0) is "the default": it yields to
	// spark.executor.instances in sparkConf and to dynamic allocation (nothing is passed then). 0 is
	// accepted only together with suspend: true (and kept afterwards), because Kueue writes back the
	// executor count it admitted when it evicts an application (docs/kueue.md).
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +optional
	Instances *int32 `json:"instances,omitempty"`
	// coreRequest is the CPU request, e.g. "500m" (spark.kubernetes.executor.request.cores).
	// +optional
	CoreRequest *string `json:"coreRequest,omitempty"`
	// javaOptions are the executors' extra JVM options (spark.executor.extraJavaOptions).
	// +optional
	JavaOptions *string `json:"javaOptions,omitempty"`
	// lifecycle is the Spark container's lifecycle hooks.
	// +optional
	Lifecycle *corev1.Lifecycle `json:"lifecycle,omitempty"`
	// deleteOnTermination deletes finished executor pods (spark.kubernetes.executor.deleteOnTermination).
	// +optional
	DeleteOnTermination *bool `json:"deleteOnTermination,omitempty"`
	// ports are extra container ports of the executors.
	// +optional
	Ports []Port `json:"ports,omitempty"`
	// priorityClassName is the executor pods' priority class.
	// +optional
	PriorityClassName *string `json:"priorityClassName,omitempty"`
}

// NamePath is a named object and where it is mounted.
type NamePath struct {
	// name of the object.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// path is the mount path.
	// +kubebuilder:validation:MinLength=1
	Path string `json:"path"`
}

// SecretInfo is a Secret mounted into the Spark container.
type SecretInfo struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// path is the mount path.
	// +kubebuilder:validation:MinLength=1
	Path string `json:"path"`
	// secretType tells how the secret is used.
	// +kubebuilder:default=Generic
	// +optional
	Type SecretType `json:"secretType,omitempty"`
}

// NameKey is a key of a named Secret.
type NameKey struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// key in the Secret.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// Port is an extra container port.
type Port struct {
	// name of the port.
	Name string `json:"name"`
	// protocol of the port.
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	// +kubebuilder:default=TCP
	// +optional
	Protocol string `json:"protocol,omitempty"`
	// containerPort is the port number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	ContainerPort int32 `json:"containerPort"`
}

// GPUSpec requests GPUs.
type GPUSpec struct {
	// name is the GPU resource name, e.g. nvidia.com/gpu.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// quantity is the number of GPUs.
	// +kubebuilder:validation:Minimum=1
	Quantity int64 `json:"quantity"`
}

// RestartPolicy says when an application is submitted again. Retry counts compare as in Kubeflow:
// N onFailureRetries allow N+1 execution attempts; the wait before a retry is the interval times the
// number of submission attempts so far (linear backoff).
type RestartPolicy struct {
	// type is Never, OnFailure or Always.
	// +kubebuilder:default=Never
	// +optional
	Type RestartPolicyType `json:"type,omitempty"`
	// onSubmissionFailureRetries is how many times a failed submission is retried (OnFailure).
	// +kubebuilder:validation:Minimum=0
	// +optional
	OnSubmissionFailureRetries *int32 `json:"onSubmissionFailureRetries,omitempty"`
	// onFailureRetries is how many times a failed run is retried (OnFailure).
	// +kubebuilder:validation:Minimum=0
	// +optional
	OnFailureRetries *int32 `json:"onFailureRetries,omitempty"`
	// onSubmissionFailureRetryInterval is the base wait in seconds before resubmitting after a failed
	// submission.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	OnSubmissionFailureRetryInterval *int64 `json:"onSubmissionFailureRetryInterval,omitempty"`
	// onFailureRetryInterval is the base wait in seconds before resubmitting after a failed run.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	OnFailureRetryInterval *int64 `json:"onFailureRetryInterval,omitempty"`
}

// DynamicAllocation configures Spark dynamic executor allocation.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minExecutors) || !has(self.maxExecutors) || self.minExecutors <= self.maxExecutors",message="dynamicAllocation.minExecutors must not exceed maxExecutors",fieldPath=".minExecutors"
// +kubebuilder:validation:XValidation:rule="!has(self.initialExecutors) || !has(self.maxExecutors) || self.initialExecutors <= self.maxExecutors",message="dynamicAllocation.initialExecutors must not exceed maxExecutors",fieldPath=".initialExecutors"
// +kubebuilder:validation:XValidation:rule="!has(self.initialExecutors) || !has(self.minExecutors) || self.minExecutors <= self.initialExecutors",message="dynamicAllocation.initialExecutors must not be below minExecutors",fieldPath=".initialExecutors"
type DynamicAllocation struct {
	// enabled turns dynamic allocation on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// initialExecutors is the initial number of executors.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InitialExecutors *int32 `json:"initialExecutors,omitempty"`
	// minExecutors is the lower bound of executors.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinExecutors *int32 `json:"minExecutors,omitempty"`
	// maxExecutors is the upper bound of executors.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxExecutors *int32 `json:"maxExecutors,omitempty"`
	// shuffleTrackingEnabled keeps executors holding shuffle data; the default is true when dynamic
	// allocation is enabled, since Kubernetes has no external shuffle service.
	// +optional
	ShuffleTrackingEnabled *bool `json:"shuffleTrackingEnabled,omitempty"`
	// shuffleTrackingTimeout is the timeout in milliseconds for executors holding shuffle data.
	// +kubebuilder:validation:Minimum=0
	// +optional
	ShuffleTrackingTimeout *int64 `json:"shuffleTrackingTimeout,omitempty"`
}

// Dependencies are fetched by the driver before the application starts.
type Dependencies struct {
	// jars are added to the classpath (spark.jars).
	// +optional
	Jars []string `json:"jars,omitempty"`
	// files are placed in the working directory (spark.files).
	// +optional
	Files []string `json:"files,omitempty"`
	// pyFiles are added to the Python path (spark.submit.pyFiles).
	// +optional
	PyFiles []string `json:"pyFiles,omitempty"`
	// packages are Maven coordinates resolved by Ivy (spark.jars.packages).
	// +optional
	Packages []string `json:"packages,omitempty"`
	// excludePackages are excluded from packages' dependencies (spark.jars.excludes).
	// +optional
	ExcludePackages []string `json:"excludePackages,omitempty"`
	// repositories are extra Maven repositories (spark.jars.repositories).
	// +optional
	Repositories []string `json:"repositories,omitempty"`
	// archives are unpacked in the working directory (spark.archives).
	// +optional
	Archives []string `json:"archives,omitempty"`
}

// MonitoringSpec exposes Spark metrics to Prometheus.
type MonitoringSpec struct {
	// exposeDriverMetrics exposes the driver's metrics.
	ExposeDriverMetrics bool `json:"exposeDriverMetrics"`
	// exposeExecutorMetrics exposes the executors' metrics.
	ExposeExecutorMetrics bool `json:"exposeExecutorMetrics"`
	// metricsProperties is the content of a metrics.properties file.
	// +optional
	MetricsProperties *string `json:"metricsProperties,omitempty"`
	// metricsPropertiesFile is the path of metrics.properties in the image; the default is
	// /etc/metrics/conf/metrics.properties.
	// +optional
	MetricsPropertiesFile *string `json:"metricsPropertiesFile,omitempty"`
	// prometheus configures the Prometheus JMX exporter.
	// +optional
	Prometheus *PrometheusSpec `json:"prometheus,omitempty"`
}

// PrometheusSpec configures the Prometheus JMX exporter java agent.
type PrometheusSpec struct {
	// jmxExporterJar is the path of the exporter jar in the image.
	// +kubebuilder:validation:MinLength=1
	JmxExporterJar string `json:"jmxExporterJar"`
	// port the exporter listens on; the default is 8090.
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=49151
	// +optional
	Port *int32 `json:"port,omitempty"`
	// portName is the container port name; the default is jmx-exporter.
	// +optional
	PortName *string `json:"portName,omitempty"`
	// configFile is the path of the exporter configuration in the image.
	// +optional
	ConfigFile *string `json:"configFile,omitempty"`
	// configuration is the exporter configuration itself.
	// +optional
	Configuration *string `json:"configuration,omitempty"`
}
