package sparkconnect

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// ServerClass is the main class of the server pod: Spark's Connect server
// (sbin/start-connect-server.sh runs the same class through spark-submit).
const ServerClass = "org.apache.spark.sql.connect.service.SparkConnectServer"

// ServerPort is the Spark Connect gRPC port (spark.connect.grpc.binding.port's default).
const ServerPort = 15002

// AnnotationRevision is the annotation on the server pod that holds the revision it was rendered from:
// "<generation>/<start token>". The generation tells a server of an older spec (replaced); the whole
// revision lets a reconcile render the same objects again for a pod it created before.
const AnnotationRevision = "sparkoperator.k8s.io/connect-revision"

// Spark containers in the templates (Spark's names, as in a SparkApplication's templates).
const (
	serverContainer   = "spark-kubernetes-driver"
	executorContainer = "spark-kubernetes-executor"
)

// ServerPodName is the server pod's name, "<name>-server" (Kubeflow's).
func ServerPodName(conn *v1alpha1.SparkConnect) string { return conn.Name + "-server" }

// ServiceName is the client Service's name: spec.server.service.metadata.name, else "<name>-server"
// (Kubeflow's).
func ServiceName(conn *v1alpha1.SparkConnect) string {
	if svc := conn.Spec.Server.Service; svc != nil && svc.Name != "" {
		return svc.Name
	}
	return conn.Name + "-server"
}

// serverApplication is the SparkApplication whose driver is conn's Connect server: the class
// ServerClass with no jar of its own ("spark-internal"), the server's and executors' settings and
// templates, and the images and service accounts the templates name for Spark's containers.
func serverApplication(conn *v1alpha1.SparkConnect) *v1beta2.SparkApplication {
	spec := &conn.Spec
	app := &v1beta2.SparkApplication{
		ObjectMeta: metav1.ObjectMeta{Name: conn.Name, Namespace: conn.Namespace, UID: conn.UID, Labels: conn.Labels},
		Spec: v1beta2.SparkApplicationSpec{
			Type:                v1beta2.SparkApplicationTypeScala,
			SparkVersion:        spec.SparkVersion,
			Mode:                v1beta2.DeployModeCluster,
			Image:               spec.Image,
			MainClass:           ptr.To(ServerClass),
			MainApplicationFile: ptr.To(submission.SparkInternalResource),
			SparkConf:           spec.SparkConf,
			HadoopConf:          spec.HadoopConf,
			RestartPolicy:       v1beta2.RestartPolicy{Type: v1beta2.RestartPolicyNever},
			DynamicAllocation:   spec.DynamicAllocation,
		},
	}
	d := &app.Spec.Driver
	d.PodName = ptr.To(ServerPodName(conn))
	d.Cores, d.Memory, d.Template = spec.Server.Cores, spec.Server.Memory, spec.Server.Template
	d.Image, d.ServiceAccount = fromTemplate(spec.Server.Template, serverContainer)
	e := &app.Spec.Executor
	e.Instances = spec.Executor.Instances
	e.Cores, e.Memory, e.Template = spec.Executor.Cores, spec.Executor.Memory, spec.Executor.Template
	e.Image, e.ServiceAccount = fromTemplate(spec.Executor.Template, executorContainer)
	return app
}

// fromTemplate returns the image of the template's container named container and the template's
// service account, nil when unset.
func fromTemplate(t *v1beta2.PodTemplate, container string) (image, serviceAccount *string) {
	if t == nil {
		return nil, nil
	}
	for _, c := range t.Spec.Containers {
		if c.Name == container && c.Image != "" {
			image = ptr.To(c.Image)
		}
	}
	if sa := t.Spec.ServiceAccountName; sa != "" {
		serviceAccount = ptr.To(sa)
	} else if sa := t.Spec.DeprecatedServiceAccount; sa != "" {
		serviceAccount = ptr.To(sa)
	}
	return image, serviceAccount
}

// renderServer renders revision of conn's server with the native submitter, then makes the objects
// the SparkConnect's rather than an application's: the pod is the controller-owned "<name>-server"
// with spark-role connect-server, a readiness probe on port 15002 and the revision annotation; every
// object and executor carries sparkoperator.k8s.io/connect-name instead of the app-name label (which
// would make the SparkApplication controller look for an application). It returns the submitter's
// *submission.FieldError when the spec cannot be submitted.
func renderServer(conn *v1alpha1.SparkConnect, revision string, now time.Time, opts submission.Options) (*submission.Resources, error) {
	// A Connect server always gets its headless Service (Kubeflow's resources, and a stable name for
	// its executors across server restarts), whatever --enable-driver-service says for applications.
	opts.DriverService = true
	res, err := submission.Render(serverApplication(conn), submission.NewSubmission(conn.UID, revision, 1, now), opts)
	if err != nil {
		return nil, err
	}
	for _, prefix := range []string{"spark.kubernetes.driver.label.", "spark.kubernetes.executor.label."} {
		res.EditConf(func(conf submission.Conf) {
			delete(conf, prefix+v1beta2.LabelAppName)
			conf[prefix+v1alpha1.LabelSparkConnectName] = conn.Name
		})
	}
	if err := res.EditExecutorTemplate(func(t *corev1.Pod) error {
		delete(t.Labels, v1beta2.LabelAppName)
		return nil
	}); err != nil {
		return nil, err
	}
	pod := res.DriverPod
	relabel(pod)
	pod.Labels[v1beta2.LabelSparkRole] = v1alpha1.SparkRoleConnectServer
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationRevision] = revision
	pod.OwnerReferences = []metav1.OwnerReference{ownerRef(conn)}
	for i := range pod.Spec.Containers {
		if c := &pod.Spec.Containers[i]; c.Name == serverContainer {
			serverContainerPorts(c)
		}
	}
	// The headless Service selects the driver by its labels, relabelled above.
	if sel := res.DriverService.Spec.Selector; sel != nil {
		if _, ok := sel[v1beta2.LabelAppName]; ok {
			delete(sel, v1beta2.LabelAppName)
			sel[v1alpha1.LabelSparkConnectName] = conn.Name
		}
		if _, ok := sel[v1beta2.LabelSparkRole]; ok {
			sel[v1beta2.LabelSparkRole] = v1alpha1.SparkRoleConnectServer
		}
	}
	for _, o := range res.DriverOwned() {
		l := o.GetLabels()
		delete(l, v1beta2.LabelAppName)
		l[v1alpha1.LabelSparkConnectName] = conn.Name
		o.SetLabels(l)
	}
	return res, nil
}

// relabel replaces the app-name label of a rendered pod with the connect-name label.
func relabel(pod *corev1.Pod) {
	name := pod.Labels[v1beta2.LabelAppName]
	delete(pod.Labels, v1beta2.LabelAppName)
	pod.Labels[v1alpha1.LabelSparkConnectName] = name
}

// serverContainerPorts adds the Connect port (15002, "spark-connect", which the submitter adds only
// from Spark 4.1 on) and, unless the template has one, a readiness probe on it: the server is Ready
// once it accepts gRPC connections, not when its JVM starts.
func serverContainerPorts(c *corev1.Container) {
	has := false
	for _, p := range c.Ports {
		has = has || p.ContainerPort == ServerPort
	}
	if !has {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: "spark-connect", ContainerPort: ServerPort, Protocol: corev1.ProtocolTCP})
	}
	if c.ReadinessProbe == nil {
		c.ReadinessProbe = &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(ServerPort)}},
			PeriodSeconds: 2, FailureThreshold: 3,
		}
	}
}

// ownerRef is the controller owner reference to conn, so that deleting it deletes the server pod,
// whose own dependents (ConfigMaps, headless Service, executors) go with it, and the client Service.
func ownerRef(conn *v1alpha1.SparkConnect) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "SparkConnect", Name: conn.Name, UID: conn.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// revisionGeneration is the generation part of a server pod's revision annotation.
func revisionGeneration(pod *corev1.Pod) string {
	gen, _, _ := strings.Cut(pod.Annotations[AnnotationRevision], "/")
	return gen
}
