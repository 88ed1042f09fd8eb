// Package wrappers builds API objects for tests with short fluent calls:
//
//	app := wrappers.MakeSparkApplication("pi", ns).ExecutorInstances(3).SparkConf("spark.x", "y").Obj()
//
// MakeSparkApplication starts from a small, valid SparkPi application (Scala, image spark:3.5.3,
// service account "spark", one executor), so that a test only states what it is about. Every method
// changes the wrapped object and returns the wrapper; Obj returns the object itself (not a copy),
// Clone a deep copy of the wrapper. Spec, Driver and Executor take a function for anything without a
// dedicated method.
package wrappers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Defaults of the base application built by MakeSparkApplication.
const (
	DefaultImage           = "spark:3.5.3"
	DefaultSparkVersion    = "3.5.3"
	DefaultMainClass       = "org.apache.spark.examples.SparkPi"
	DefaultMainFile        = "local:///opt/spark/examples/jars/spark-examples.jar"
	DefaultPythonMainFile  = "local:///opt/spark/examples/src/main/python/pi.py"
	DefaultServiceAccount  = "spark"
	DefaultMemory          = "512m"
	DefaultCores           = int32(1)
	DefaultExecutorCount   = int32(1)
	DefaultImagePullPolicy = "IfNotPresent"
)

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// SparkApplicationWrapper wraps a SparkApplication under construction.
type SparkApplicationWrapper struct {
	v1beta2.SparkApplication
}

// MakeSparkApplication returns a valid SparkPi application named name in namespace ns. Type and
// mode are set explicitly (Scala, cluster); restartPolicy is left empty, so the API server's
// defaults apply (type Never).
func MakeSparkApplication(name, ns string) *SparkApplicationWrapper {
	return &SparkApplicationWrapper{v1beta2.SparkApplication{
		TypeMeta:   typeMeta("SparkApplication"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       BaseSpec(),
	}}
}

// BaseSpec is the spec of the application MakeSparkApplication builds.
func BaseSpec() v1beta2.SparkApplicationSpec {
	return v1beta2.SparkApplicationSpec{
		Type:                v1beta2.SparkApplicationTypeScala,
		Mode:                v1beta2.DeployModeCluster,
		SparkVersion:        DefaultSparkVersion,
		Image:               Ptr(DefaultImage),
		ImagePullPolicy:     Ptr(DefaultImagePullPolicy),
		MainClass:           Ptr(DefaultMainClass),
		MainApplicationFile: Ptr(DefaultMainFile),
		Arguments:           []string{"1000"},
		Driver: v1beta2.DriverSpec{SparkPodSpec: v1beta2.SparkPodSpec{
			Cores:          Ptr(DefaultCores),
			Memory:         Ptr(DefaultMemory),
			ServiceAccount: Ptr(DefaultServiceAccount),
		}},
		Executor: v1beta2.ExecutorSpec{
			SparkPodSpec: v1beta2.SparkPodSpec{
				Cores:  Ptr(DefaultCores),
				Memory: Ptr(DefaultMemory),
			},
			Instances: Ptr(DefaultExecutorCount),
		},
	}
}

// Obj returns the wrapped SparkApplication.
func (w *SparkApplicationWrapper) Obj() *v1beta2.SparkApplication { return &w.SparkApplication }

// Clone returns a deep copy of the wrapper, so that variants can be built from one base.
func (w *SparkApplicationWrapper) Clone() *SparkApplicationWrapper {
	return &SparkApplicationWrapper{*w.SparkApplication.DeepCopy()}
}

// --- metadata ---

// Name sets metadata.name.
func (w *SparkApplicationWrapper) Name(name string) *SparkApplicationWrapper {
	w.ObjectMeta.Name = name
	return w
}

// Namespace sets metadata.namespace.
func (w *SparkApplicationWrapper) Namespace(ns string) *SparkApplicationWrapper {
	w.ObjectMeta.Namespace = ns
	return w
}

// Label adds a metadata label.
func (w *SparkApplicationWrapper) Label(k, v string) *SparkApplicationWrapper {
	w.Labels = setKey(w.Labels, k, v)
	return w
}

// Annotation adds a metadata annotation.
func (w *SparkApplicationWrapper) Annotation(k, v string) *SparkApplicationWrapper {
	w.Annotations = setKey(w.Annotations, k, v)
	return w
}

// UID sets metadata.uid (for objects that are not sent to an API server).
func (w *SparkApplicationWrapper) UID(uid string) *SparkApplicationWrapper {
	w.ObjectMeta.UID = types.UID(uid)
	return w
}

// Generation sets metadata.generation (for objects that are not sent to an API server).
func (w *SparkApplicationWrapper) Generation(g int64) *SparkApplicationWrapper {
	w.ObjectMeta.Generation = g
	return w
}

// Finalizer adds a finalizer.
func (w *SparkApplicationWrapper) Finalizer(f string) *SparkApplicationWrapper {
	w.Finalizers = append(w.Finalizers, f)
	return w
}

// OwnerReference adds an owner reference.
func (w *SparkApplicationWrapper) OwnerReference(ref metav1.OwnerReference) *SparkApplicationWrapper {
	w.OwnerReferences = append(w.OwnerReferences, ref)
	return w
}

// --- spec ---

// Spec calls f on the spec, for changes without a dedicated method.
func (w *SparkApplicationWrapper) Spec(f func(*v1beta2.SparkApplicationSpec)) *SparkApplicationWrapper {
	f(&w.SparkApplication.Spec)
	return w
}

// Type sets spec.type.
func (w *SparkApplicationWrapper) Type(t v1beta2.SparkApplicationType) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Type = t
	return w
}

// Python turns the application into the Python pi example (type Python, pythonVersion "3", no main
// class).
func (w *SparkApplicationWrapper) Python() *SparkApplicationWrapper {
	s := &w.SparkApplication.Spec
	s.Type = v1beta2.SparkApplicationTypePython
	s.PythonVersion = Ptr("3")
	s.MainClass = nil
	s.MainApplicationFile = Ptr(DefaultPythonMainFile)
	return w
}

// Mode sets spec.mode.
func (w *SparkApplicationWrapper) Mode(m v1beta2.DeployMode) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Mode = m
	return w
}

// SparkVersion sets spec.sparkVersion.
func (w *SparkApplicationWrapper) SparkVersion(v string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.SparkVersion = v
	return w
}

// Image sets spec.image.
func (w *SparkApplicationWrapper) Image(image string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Image = Ptr(image)
	return w
}

// ImagePullPolicy sets spec.imagePullPolicy.
func (w *SparkApplicationWrapper) ImagePullPolicy(p string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.ImagePullPolicy = Ptr(p)
	return w
}

// MainClass sets spec.mainClass.
func (w *SparkApplicationWrapper) MainClass(c string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.MainClass = Ptr(c)
	return w
}

// MainApplicationFile sets spec.mainApplicationFile.
func (w *SparkApplicationWrapper) MainApplicationFile(f string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.MainApplicationFile = Ptr(f)
	return w
}

// Arguments replaces spec.arguments.
func (w *SparkApplicationWrapper) Arguments(args ...string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Arguments = args
	return w
}

// SparkConf sets one spec.sparkConf entry.
func (w *SparkApplicationWrapper) SparkConf(k, v string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.SparkConf = setKey(w.SparkApplication.Spec.SparkConf, k, v)
	return w
}

// HadoopConf sets one spec.hadoopConf entry.
func (w *SparkApplicationWrapper) HadoopConf(k, v string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.HadoopConf = setKey(w.SparkApplication.Spec.HadoopConf, k, v)
	return w
}

// NodeSelector sets one spec.nodeSelector entry (for driver and executors).
func (w *SparkApplicationWrapper) NodeSelector(k, v string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.NodeSelector = setKey(w.SparkApplication.Spec.NodeSelector, k, v)
	return w
}

// Volume adds a pod volume to spec.volumes.
func (w *SparkApplicationWrapper) Volume(v corev1.Volume) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Volumes = append(w.SparkApplication.Spec.Volumes, v)
	return w
}

// EmptyDirVolume adds an emptyDir volume to spec.volumes and mounts it at path in the driver and
// the executors (a name starting with spark-local-dir- makes it a Spark local directory).
func (w *SparkApplicationWrapper) EmptyDirVolume(name, path string) *SparkApplicationWrapper {
	w.Volume(corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	m := corev1.VolumeMount{Name: name, MountPath: path}
	w.SparkApplication.Spec.Driver.VolumeMounts = append(w.SparkApplication.Spec.Driver.VolumeMounts, m)
	w.SparkApplication.Spec.Executor.VolumeMounts = append(w.SparkApplication.Spec.Executor.VolumeMounts, m)
	return w
}

// RestartPolicy sets spec.restartPolicy.type.
func (w *SparkApplicationWrapper) RestartPolicy(t v1beta2.RestartPolicyType) *SparkApplicationWrapper {
	w.SparkApplication.Spec.RestartPolicy.Type = t
	return w
}

// OnFailureRetries sets restartPolicy.onFailureRetries and onFailureRetryInterval (seconds); an
// interval of 0 leaves the interval unset.
func (w *SparkApplicationWrapper) OnFailureRetries(retries int32, interval int64) *SparkApplicationWrapper {
	rp := &w.SparkApplication.Spec.RestartPolicy
	rp.OnFailureRetries = Ptr(retries)
	if interval != 0 {
		rp.OnFailureRetryInterval = Ptr(interval)
	}
	return w
}

// OnSubmissionFailureRetries sets restartPolicy.onSubmissionFailureRetries and
// onSubmissionFailureRetryInterval (seconds); an interval of 0 leaves the interval unset.
func (w *SparkApplicationWrapper) OnSubmissionFailureRetries(retries int32, interval int64) *SparkApplicationWrapper {
	rp := &w.SparkApplication.Spec.RestartPolicy
	rp.OnSubmissionFailureRetries = Ptr(retries)
	if interval != 0 {
		rp.OnSubmissionFailureRetryInterval = Ptr(interval)
	}
	return w
}

// TimeToLive sets spec.timeToLiveSeconds.
func (w *SparkApplicationWrapper) TimeToLive(seconds int64) *SparkApplicationWrapper {
	w.SparkApplication.Spec.TimeToLiveSeconds = Ptr(seconds)
	return w
}

// Suspend sets spec.suspend.
func (w *SparkApplicationWrapper) Suspend(s bool) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Suspend = Ptr(s)
	return w
}

// DynamicAllocation enables dynamic allocation with the given bounds; a negative value leaves that
// bound unset.
func (w *SparkApplicationWrapper) DynamicAllocation(minExecutors, initial, maxExecutors int32) *SparkApplicationWrapper {
	da := &v1beta2.DynamicAllocation{Enabled: true}
	if minExecutors >= 0 {
		da.MinExecutors = Ptr(minExecutors)
	}
	if initial >= 0 {
		da.InitialExecutors = Ptr(initial)
	}
	if maxExecutors >= 0 {
		da.MaxExecutors = Ptr(maxExecutors)
	}
	w.SparkApplication.Spec.DynamicAllocation = da
	return w
}

// PrometheusMonitoring exposes driver and executor metrics through the JMX exporter jar on port.
func (w *SparkApplicationWrapper) PrometheusMonitoring(jar string, port int32) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Monitoring = &v1beta2.MonitoringSpec{
		ExposeDriverMetrics:   true,
		ExposeExecutorMetrics: true,
		Prometheus:            &v1beta2.PrometheusSpec{JmxExporterJar: jar, Port: Ptr(port)},
	}
	return w
}

// DriverIngress adds a spec.driverIngressOptions entry exposing port.
func (w *SparkApplicationWrapper) DriverIngress(port int32, portName, urlFormat string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.DriverIngressOptions = append(w.SparkApplication.Spec.DriverIngressOptions,
		v1beta2.DriverIngressConfiguration{
			ServicePort:      Ptr(port),
			ServicePortName:  Ptr(portName),
			IngressURLFormat: urlFormat,
		})
	return w
}

// SparkUIServicePort sets spec.sparkUIOptions.servicePort.
func (w *SparkApplicationWrapper) SparkUIServicePort(port int32) *SparkApplicationWrapper {
	if w.SparkApplication.Spec.SparkUIOptions == nil {
		w.SparkApplication.Spec.SparkUIOptions = &v1beta2.SparkUIConfiguration{}
	}
	w.SparkApplication.Spec.SparkUIOptions.ServicePort = Ptr(port)
	return w
}

// BatchScheduler sets spec.batchScheduler.
func (w *SparkApplicationWrapper) BatchScheduler(name string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.BatchScheduler = Ptr(name)
	return w
}

// --- driver and executors ---

// Role selects the pod spec that a role method changes: spec.driver or spec.executor, which both
// embed v1beta2.SparkPodSpec.
type Role string

// The roles of Role.
const (
	DriverRole   Role = "driver"
	ExecutorRole Role = "executor"
)

// PodSpec returns the v1beta2.SparkPodSpec of role, to be changed in place; it panics on a role that
// is neither DriverRole nor ExecutorRole.
func (w *SparkApplicationWrapper) PodSpec(role Role) *v1beta2.SparkPodSpec {
	switch role {
	case DriverRole:
		return &w.SparkApplication.Spec.Driver.SparkPodSpec
	case ExecutorRole:
		return &w.SparkApplication.Spec.Executor.SparkPodSpec
	}
	panic("wrappers: unknown role " + string(role))
}

// Cores sets spec.<role>.cores.
func (w *SparkApplicationWrapper) Cores(role Role, c int32) *SparkApplicationWrapper {
	w.PodSpec(role).Cores = Ptr(c)
	return w
}

// CoreRequest sets spec.<role>.coreRequest (a quantity such as "500m"; the field is not part of
// v1beta2.SparkPodSpec).
func (w *SparkApplicationWrapper) CoreRequest(role Role, q string) *SparkApplicationWrapper {
	w.PodSpec(role) // refuses an unknown role
	if role == DriverRole {
		w.SparkApplication.Spec.Driver.CoreRequest = Ptr(q)
	} else {
		w.SparkApplication.Spec.Executor.CoreRequest = Ptr(q)
	}
	return w
}

// CoreLimit sets spec.<role>.coreLimit (a quantity such as "1").
func (w *SparkApplicationWrapper) CoreLimit(role Role, q string) *SparkApplicationWrapper {
	w.PodSpec(role).CoreLimit = Ptr(q)
	return w
}

// Memory sets spec.<role>.memory (a JVM size such as "512m").
func (w *SparkApplicationWrapper) Memory(role Role, m string) *SparkApplicationWrapper {
	w.PodSpec(role).Memory = Ptr(m)
	return w
}

// MemoryOverhead sets spec.<role>.memoryOverhead (a JVM size such as "384m").
func (w *SparkApplicationWrapper) MemoryOverhead(role Role, m string) *SparkApplicationWrapper {
	w.PodSpec(role).MemoryOverhead = Ptr(m)
	return w
}

// PodLabel adds a label to the pods of role (spec.<role>.labels).
func (w *SparkApplicationWrapper) PodLabel(role Role, k, v string) *SparkApplicationWrapper {
	p := w.PodSpec(role)
	p.Labels = setKey(p.Labels, k, v)
	return w
}

// PodNodeSelector sets one spec.<role>.nodeSelector entry.
func (w *SparkApplicationWrapper) PodNodeSelector(role Role, k, v string) *SparkApplicationWrapper {
	p := w.PodSpec(role)
	p.NodeSelector = setKey(p.NodeSelector, k, v)
	return w
}

// --- driver ---

// Driver calls f on spec.driver, for changes without a dedicated method.
func (w *SparkApplicationWrapper) Driver(f func(*v1beta2.DriverSpec)) *SparkApplicationWrapper {
	f(&w.SparkApplication.Spec.Driver)
	return w
}

// DriverMemory sets spec.driver.memory: Memory(DriverRole, m).
func (w *SparkApplicationWrapper) DriverMemory(m string) *SparkApplicationWrapper {
	return w.Memory(DriverRole, m)
}

// DriverLabel adds a label to the driver pod: PodLabel(DriverRole, k, v).
func (w *SparkApplicationWrapper) DriverLabel(k, v string) *SparkApplicationWrapper {
	return w.PodLabel(DriverRole, k, v)
}

// DriverSidecar adds a sidecar container to the driver pod.
func (w *SparkApplicationWrapper) DriverSidecar(c corev1.Container) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Driver.Sidecars = append(w.SparkApplication.Spec.Driver.Sidecars, c)
	return w
}

// DriverSecret mounts a secret into the driver. An empty t is sent as "" and rejected by the
// schema (secretType has no omitempty, as in Kubeflow): pass v1beta2.SecretTypeGeneric.
func (w *SparkApplicationWrapper) DriverSecret(name, path string, t v1beta2.SecretType) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Driver.Secrets = append(w.SparkApplication.Spec.Driver.Secrets,
		v1beta2.SecretInfo{Name: name, Path: path, Type: t})
	return w
}

// DriverTemplate sets spec.driver.template.
func (w *SparkApplicationWrapper) DriverTemplate(t *corev1.PodTemplateSpec) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Driver.Template = nil
	if t != nil {
		w.SparkApplication.Spec.Driver.Template = &v1beta2.PodTemplate{PodTemplateSpec: *t}
	}
	return w
}

// DriverPodName sets spec.driver.podName.
func (w *SparkApplicationWrapper) DriverPodName(name string) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Driver.PodName = Ptr(name)
	return w
}

// DriverTerminationGracePeriod sets spec.driver.terminationGracePeriodSeconds.
func (w *SparkApplicationWrapper) DriverTerminationGracePeriod(seconds int64) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Driver.TerminationGracePeriodSeconds = Ptr(seconds)
	return w
}

// --- executor ---

// Executor calls f on spec.executor, for changes without a dedicated method.
func (w *SparkApplicationWrapper) Executor(f func(*v1beta2.ExecutorSpec)) *SparkApplicationWrapper {
	f(&w.SparkApplication.Spec.Executor)
	return w
}

// ExecutorInstances sets spec.executor.instances.
func (w *SparkApplicationWrapper) ExecutorInstances(n int32) *SparkApplicationWrapper {
	w.SparkApplication.Spec.Executor.Instances = Ptr(n)
	return w
}

// ExecutorMemory sets spec.executor.memory: Memory(ExecutorRole, m).
func (w *SparkApplicationWrapper) ExecutorMemory(m string) *SparkApplicationWrapper {
	return w.Memory(ExecutorRole, m)
}

// --- status (for objects given to fake clients or written through the status subresource) ---

// State sets status.applicationState.state.
func (w *SparkApplicationWrapper) State(s v1beta2.ApplicationStateType) *SparkApplicationWrapper {
	w.Status.AppState.State = s
	return w
}

// ErrorMessage sets status.applicationState.errorMessage.
func (w *SparkApplicationWrapper) ErrorMessage(msg string) *SparkApplicationWrapper {
	w.Status.AppState.ErrorMessage = msg
	return w
}

// SubmissionID sets status.submissionID.
func (w *SparkApplicationWrapper) SubmissionID(id string) *SparkApplicationWrapper {
	w.Status.SubmissionID = id
	return w
}

// Attempts sets status.submissionAttempts and status.executionAttempts.
func (w *SparkApplicationWrapper) Attempts(submission, execution int32) *SparkApplicationWrapper {
	w.Status.SubmissionAttempts = submission
	w.Status.ExecutionAttempts = execution
	return w
}

// InfrastructureRestarts sets status.infrastructureRestarts.
func (w *SparkApplicationWrapper) InfrastructureRestarts(n int32) *SparkApplicationWrapper {
	w.Status.InfrastructureRestarts = n
	return w
}

// DriverPodNameStatus sets status.driverInfo.podName.
func (w *SparkApplicationWrapper) DriverPodNameStatus(name string) *SparkApplicationWrapper {
	w.Status.DriverInfo.PodName = name
	return w
}

// LastSubmissionAttemptTime sets status.lastSubmissionAttemptTime.
func (w *SparkApplicationWrapper) LastSubmissionAttemptTime(t metav1.Time) *SparkApplicationWrapper {
	w.Status.LastSubmissionAttemptTime = t
	return w
}

// TerminationTime sets status.terminationTime.
func (w *SparkApplicationWrapper) TerminationTime(t metav1.Time) *SparkApplicationWrapper {
	w.Status.TerminationTime = t
	return w
}

// typeMeta is the TypeMeta of a sparkoperator.k8s.io/v1beta2 object of kind, so that objects built
// here carry apiVersion and kind as if read from YAML.
func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: v1beta2.GroupVersion.String(), Kind: kind}
}

func setKey(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
