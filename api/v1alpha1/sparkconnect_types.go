package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// SparkConnect is a long-running Spark Connect server: one server pod running Spark's Connect
// server (org.apache.spark.sql.connect.service.SparkConnectServer) as the driver of its executors,
// serving gRPC clients (sc://) on port 15002 through the Service "<name>-server".
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sparkconn,singular=sparkconnect
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=https://github.com/kubeflow/spark-operator/pull/1298"
// +kubebuilder:printcolumn:JSONPath=.metadata.creationTimestamp,name=Age,type=date
// +kubebuilder:printcolumn:JSONPath=.status.state,name=Status,type=string
// +kubebuilder:printcolumn:JSONPath=.status.server.podName,name=PodName,type=string
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 56 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label of at most 56 characters (lower-case letters, digits or '-', starting with a letter): the server's Service is \"<name>-server\""
type SparkConnect struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec   SparkConnectSpec   `json:"spec"`
	Status SparkConnectStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SparkConnectList is a list of SparkConnect.
type SparkConnectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SparkConnect `json:"items"`
}

// SparkConnectSpec is the desired Spark Connect server. Any change to it replaces the running server
// (its sessions and cached data are lost): the operator deletes the server pod, then starts a new one.
// The sparkConf keys the operator sets itself (master, deploy mode, driver pod name, images, service
// accounts, OAuth credentials) are refused at admission, as Kubeflow's webhook refuses them since
// v2.5.2; a spark.kubernetes.namespace other than the object's fails the server (Failed, reason
// ServerFailed), as for applications.
//
// +kubebuilder:validation:XValidation:rule="!has(self.sparkConf) || !['spark.master','spark.kubernetes.driver.master','spark.kubernetes.container.image','spark.kubernetes.driver.container.image','spark.kubernetes.executor.container.image','spark.kubernetes.authenticate.driver.serviceAccountName','spark.kubernetes.authenticate.executor.serviceAccountName','spark.kubernetes.authenticate.oauthToken','spark.kubernetes.authenticate.oauthTokenFile','spark.kubernetes.authenticate.driver.oauthToken','spark.kubernetes.authenticate.driver.oauthTokenFile','spark.kubernetes.authenticate.executor.oauthToken','spark.kubernetes.authenticate.executor.oauthTokenFile','spark.kubernetes.driver.pod.name','spark.submit.deployMode'].exists(k, k in self.sparkConf)",message="sparkConf keys spark.master, spark.submit.deployMode, spark.kubernetes.driver.pod.name, container images, service account names and OAuth tokens are not allowed: the operator sets them; use spec.image and the server and executor templates",messageExpression="'sparkConf key ' + ['spark.master','spark.kubernetes.driver.master','spark.kubernetes.container.image','spark.kubernetes.driver.container.image','spark.kubernetes.executor.container.image','spark.kubernetes.authenticate.driver.serviceAccountName','spark.kubernetes.authenticate.executor.serviceAccountName','spark.kubernetes.authenticate.oauthToken','spark.kubernetes.authenticate.oauthTokenFile','spark.kubernetes.authenticate.driver.oauthToken','spark.kubernetes.authenticate.driver.oauthTokenFile','spark.kubernetes.authenticate.executor.oauthToken','spark.kubernetes.authenticate.executor.oauthTokenFile','spark.kubernetes.driver.pod.name','spark.submit.deployMode'].filter(k, k in self.sparkConf)[0] + ' is not allowed: the operator sets it; use spec.image and the server and executor templates'",fieldPath=".sparkConf"
type SparkConnectSpec struct {
	// sparkVersion is the Spark version of the image, e.g. "4.0.1"; Spark Connect needs 3.4 or later
	// (the Connect server's jar ships in Spark's distribution from 4.0 on; for 3.4 and 3.5 the image
	// must hold it).
	// +kubebuilder:validation:Pattern=`^[0-9]+\.[0-9]+(\.[0-9]+)?([-.+][0-9A-Za-z.-]+)?$`
	SparkVersion string `json:"sparkVersion"`

	// image is the container image of the server and the executors, unless their templates name one
	// for the containers "spark-kubernetes-driver" / "spark-kubernetes-executor".
	// +kubebuilder:validation:MinLength=1
	// +optional
	Image *string `json:"image,omitempty"`

	// hadoopConf are Hadoop configuration properties; each is passed as spark.hadoop.<key>.
	// +kubebuilder:validation:MaxProperties=4096
	// +optional
	HadoopConf map[string]string `json:"hadoopConf,omitempty"`

	// sparkConf are Spark configuration properties, as spark-submit's --conf would pass them.
	// +kubebuilder:validation:MaxProperties=4096
	// +optional
	SparkConf map[string]string `json:"sparkConf,omitempty"`

	// server is the Connect server's pod (the driver) and, optionally, its client Service.
	Server ServerSpec `json:"server"`

	// executor is the executors' pod and their number.
	Executor ExecutorSpec `json:"executor"`

	// dynamicAllocation lets the server scale its executors with the load (shuffle tracking on by
	// default, as Kubernetes has no external shuffle service).
	// +optional
	DynamicAllocation *v1beta2.DynamicAllocation `json:"dynamicAllocation,omitempty"`
}

// ServerSpec is the Spark Connect server's pod and Service.
type ServerSpec struct {
	SparkPodSpec `json:",inline"`

	// service is merged into the client Service the operator creates: its metadata.name (default
	// "<name>-server"), labels, annotations and spec (type, ports, ...) are kept; the operator adds
	// the selector of the server pod and, when no port is given, the ports spark-connect-server
	// (15002) and web-ui (4040). Its namespace is ignored.
	// +optional
	Service *corev1.Service `json:"service,omitempty"`
}

// ExecutorSpec is the executors' pod and their number.
type ExecutorSpec struct {
	SparkPodSpec `json:",inline"`

	// instances is the number of executors (spark.executor.instances); Spark's default is 2.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Instances *int32 `json:"instances,omitempty"`
}

// SparkPodSpec is what the server and the executors have in common.
type SparkPodSpec struct {
	// cores is the number of CPU cores (spark.driver.cores / spark.executor.cores); the default is 1.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Cores *int32 `json:"cores,omitempty"`

	// memory is the JVM heap in Spark's notation, e.g. "512m" or "2g" (spark.driver.memory /
	// spark.executor.memory); the default is 1g.
	// +kubebuilder:validation:Pattern=`^[0-9]+([kKmMgGtTpP][bB]?|[bB])?$`
	// +optional
	Memory *string `json:"memory,omitempty"`

	// template is a pod template (a Kubernetes PodTemplateSpec) that the operator's settings are
	// merged into, as for a SparkApplication's driver and executor: the container named
	// "spark-kubernetes-driver" (server) or "spark-kubernetes-executor" (executors) is Spark's.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Template *v1beta2.PodTemplate `json:"template,omitempty"`
}

// SparkConnectStatus is the observed state of a SparkConnect.
type SparkConnectStatus struct {
	// conditions: ServerPodReady (True while the server pod is Ready; False with the reason
	// otherwise, reason ServerFailed when the server could not start).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// state is "" (new), Provisioning, Ready, NotReady or Failed.
	// +optional
	State SparkConnectState `json:"state,omitempty"`

	// server is the current server pod and the client Service.
	// +optional
	Server SparkConnectServerStatus `json:"server,omitempty"`

	// executors counts the current server's executor pods by phase, in lower case
	// ("pending", "running", "succeeded", "failed"); absent phases are left out.
	// +optional
	Executors map[string]int `json:"executors,omitempty"`

	// startTime is when the operator first processed the SparkConnect.
	// +optional
	StartTime metav1.Time `json:"startTime,omitempty"`

	// lastUpdateTime is when the operator last changed this status.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`
}

// SparkConnectState is status.state.
type SparkConnectState string

// The states of a SparkConnect (Kubeflow's strings).
const (
	// SparkConnectStateNew is a SparkConnect the operator has not processed yet.
	SparkConnectStateNew SparkConnectState = ""
	// SparkConnectStateProvisioning: the server pod is being created or is starting.
	SparkConnectStateProvisioning SparkConnectState = "Provisioning"
	// SparkConnectStateReady: the server pod is Ready; clients can connect.
	SparkConnectStateReady SparkConnectState = "Ready"
	// SparkConnectStateNotReady: the server had been Ready and its pod no longer is.
	SparkConnectStateNotReady SparkConnectState = "NotReady"
	// SparkConnectStateFailed: the server cannot start (the reason is in the ServerPodReady
	// condition and an Event); a spec change tries again.
	SparkConnectStateFailed SparkConnectState = "Failed"
)

// SparkConnectServerStatus is status.server.
type SparkConnectServerStatus struct {
	// podName is the server pod's name, "<name>-server".
	// +optional
	PodName string `json:"podName,omitempty"`
	// podIp is the server pod's IP address.
	// +optional
	PodIP string `json:"podIp,omitempty"`
	// serviceName is the client Service's name (port 15002).
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
}

// Condition type and reasons of SparkConnectStatus.Conditions (Kubeflow's, plus ServerFailed).
const (
	// ConditionServerPodReady is True while the server pod is Ready.
	ConditionServerPodReady = "ServerPodReady"
	// ReasonServerPodReady and ReasonServerPodNotReady are its reasons while the server runs or starts.
	ReasonServerPodReady    = "ServerPodReady"
	ReasonServerPodNotReady = "ServerPodNotReady"
	// ReasonServerFailed is its reason in state Failed; the message says why.
	ReasonServerFailed = "ServerFailed"
)

// Labels of a SparkConnect's objects (Kubeflow's names).
const (
	// LabelSparkConnectName is the SparkConnect's name, on its server pod, executors, Services and
	// ConfigMaps.
	LabelSparkConnectName = "sparkoperator.k8s.io/connect-name"
	// SparkRoleConnectServer is the spark-role label of the server pod ("driver" for applications).
	SparkRoleConnectServer = "connect-server"
)
