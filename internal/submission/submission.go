// Package submission is the operator's native spark-submit: it turns a SparkApplication into the
// objects that `spark-submit --master k8s://... --deploy-mode cluster` would create (the driver Pod,
// its headless Service and the spark.properties ConfigMap), plus an executor pod template carrying
// what Kubeflow's pod-mutating webhook used to add, so that no webhook and no JVM are needed.
//
// Render is a pure function of the application, the submission attempt and the operator options: the
// same input always gives the same objects, which is what makes a retried reconcile idempotent.
// docs/submission.md describes every rule and where it comes from; intended differences from
// spark-submit are listed there too.
package submission

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// DefaultMasterURL is spark.master when the operator knows no better. The driver ignores its host
// (it talks to spark.kubernetes.driver.master, https://kubernetes.default.svc by default); Spark only
// requires a valid k8s:// URL.
const DefaultMasterURL = "k8s://https://kubernetes.default.svc:443"

// DefaultSparkUser is SPARK_USER in the driver when there is no proxy user: the user the Spark images
// run as (uid 185, "spark"), which is what spark-submit run in Kubeflow's operator image reports.
const DefaultSparkUser = "spark"

// Options are the operator settings that shape what is submitted.
type Options struct {
	// MasterURL is spark.master, e.g. "k8s://https://10.0.0.1:443"; empty means DefaultMasterURL.
	MasterURL string
	// SparkUser is SPARK_USER in the driver when spec.proxyUser is unset; empty means DefaultSparkUser.
	SparkUser string
	// DisableServiceLinks leaves enableServiceLinks unset on the pods. By default it is false, because
	// a namespace with thousands of Services otherwise overflows the container's environment
	// ("argument list too long", a known Kubeflow failure).
	DisableServiceLinks bool
	// UIProxyBase is the path under which an Ingress serves the Spark UI (e.g. "/ns/app"); when set,
	// spark.ui.proxyBase is set to it and spark.ui.proxyRedirectUri to "/" unless sparkConf sets them.
	UIProxyBase string
	// DriverService creates the driver's headless Service for every application and points
	// spark.driver.host at its DNS name, as spark-submit does (operator flag --enable-driver-service).
	// When false (the default), the executors reach the driver at its pod IP: the driver gets
	// "--conf spark.driver.host=$(SPARK_DRIVER_BIND_ADDRESS)", which Kubernetes expands to the pod IP,
	// and no Service is created, unless the application sets a key of the Service
	// (spark.kubernetes.driver.service.{label,annotation}.*, .ipFamilies, .ipFamilyPolicy, or
	// spec.driver.serviceLabels/serviceAnnotations), which asks for it (docs/submission.md).
	DriverService bool
	// SparkDefaults are the properties of the operator's spark-defaults.conf (LoadSparkDefaults
	// feature gate; see LoadSparkDefaults), applied with the lowest precedence; nil applies none.
	SparkDefaults map[string]string
}

func (o Options) masterURL() string {
	if o.MasterURL == "" {
		return DefaultMasterURL
	}
	return o.MasterURL
}

func (o Options) sparkUser(app *v1beta2.SparkApplication) string {
	if app.Spec.ProxyUser != nil && *app.Spec.ProxyUser != "" {
		return *app.Spec.ProxyUser
	}
	if o.SparkUser == "" {
		return DefaultSparkUser
	}
	return o.SparkUser
}

// Submission identifies one submission attempt of an application.
type Submission struct {
	// ID is status.submissionID and the sparkoperator.k8s.io/submission-id label: a UUID-formatted
	// string derived from the application UID and the attempt number.
	ID string
	// AppID is spark.app.id and the spark-app-selector label: "spark-" + 32 hex characters.
	AppID string
	// Time is the submission time (spark.app.submitTime, in milliseconds).
	Time time.Time
	// uniqueID is 16 hex characters standing where spark-submit puts a random uniqueID in names.
	uniqueID string
}

// NewSubmission returns the identity of submission attempt number attempt (1, 2, ...) of revision
// revision of the application with the given UID. It is deterministic: a controller that crashed
// after creating the driver pod and before recording the attempt computes the same IDs again and finds
// its own pod instead of creating a second one. The revision (the controller passes the generation and
// the rerun token, "<generation>/<token>") keeps attempts distinct when a spec change or a rerun
// resets the attempt counter.
func NewSubmission(uid types.UID, revision string, attempt int32, now time.Time) Submission {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", uid, revision, attempt))
	h := hex.EncodeToString(sum[:16])
	// Format as a version-4-shaped UUID (8-4-4-4-12) so tools that parse Kubeflow's UUIDs still do.
	id := h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + "a" + h[17:20] + "-" + h[20:32]
	return Submission{ID: id, AppID: "spark-" + h, Time: now, uniqueID: h[:16]}
}

// Resources are the objects one submission creates. The driver pod is created first; the others are
// then created with an owner reference to it (OwnDriverResources), as spark-submit does, so deleting
// the driver pod garbage-collects them.
type Resources struct {
	// Conf is the complete Spark configuration written to spark.properties.
	Conf Conf
	// DriverPod is the driver pod, owned by the SparkApplication.
	DriverPod *corev1.Pod
	// DriverService is the headless Service the executors reach the driver through; nil when they
	// reach it at its pod IP (Options.DriverService).
	DriverService *corev1.Service
	// ConfConfigMap is the submission's one ConfigMap: spark.properties, mounted at /opt/spark/conf
	// in the driver, and the executor pod template under podspec-configmap-key, mounted at
	// /opt/spark/pod-template (spark-submit writes two ConfigMaps; docs/submission.md).
	ConfConfigMap *corev1.ConfigMap
	// ExecutorTemplateConfigMap is the ConfigMap holding the executor pod template
	// (spark.kubernetes.executor.podTemplateFile) under podspec-configmap-key: the same object as
	// ConfConfigMap.
	ExecutorTemplateConfigMap *corev1.ConfigMap
	// ExecutorTemplate is the executor pod template that ExecutorTemplateConfigMap holds, decoded;
	// change it only through EditExecutorTemplate, which keeps the two in step.
	ExecutorTemplate *corev1.Pod
	// MetricsConfigMap holds metrics.properties and the JMX exporter configuration when
	// spec.monitoring asks for them; nil otherwise.
	MetricsConfigMap *corev1.ConfigMap

	// sparkVersion is spec.sparkVersion, which decides some executor rules (ExecutorPod).
	sparkVersion string
}

// DriverOwned returns the objects to create after the driver pod, owned by it.
func (r *Resources) DriverOwned() []Object {
	out := []Object{r.ConfConfigMap}
	if r.DriverService != nil {
		out = append(out, r.DriverService)
	}
	if r.MetricsConfigMap != nil {
		out = append(out, r.MetricsConfigMap)
	}
	return out
}

// Render builds the objects of submission sub of app. It returns a *FieldError naming the spec field
// when the application cannot be submitted as it is (the controller reports it as SUBMISSION_FAILED).
func Render(app *v1beta2.SparkApplication, sub Submission, opts Options) (*Resources, error) {
	if mode := app.Spec.Mode; mode != "" && mode != v1beta2.DeployModeCluster {
		return nil, fieldError("spec.mode", "%q is not supported: the operator runs applications in cluster mode", mode)
	}
	if err := templateError(app); err != nil {
		return nil, err
	}
	conf, err := buildConf(app, sub, opts)
	if err != nil {
		return nil, err
	}
	b := &driverBuilder{app: app, sub: sub, opts: opts, conf: conf}
	return b.build()
}
