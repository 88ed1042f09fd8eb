package sparkapplication

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// LabelComponent marks the per-attempt UI objects (Services and Ingresses) the controller creates,
// which are deleted when the attempt ends.
const LabelComponent = "sparkoperator.k8s.io/component"

const (
	componentUI        = "ui"
	defaultUIPortName  = "spark-driver-ui-port"
	defaultSparkUIPort = 4040
	nginxRewriteTarget = "nginx.ingress.kubernetes.io/rewrite-target"
)

// exposedPort is one driver port exposed through a Service and maybe an Ingress.
type exposedPort struct {
	serviceName, ingressName string
	port, targetPort         int32
	portName                 string
	serviceType              corev1.ServiceType
	serviceLabels            map[string]string
	serviceAnnotations       map[string]string
	urlFormat                string
	ingressAnnotations       map[string]string
	ingressTLS               []networkingv1.IngressTLS
	ui                       bool
}

// UIServiceName is the Spark UI Service of an application, "<app>-ui-svc", shortened as Kubeflow
// shortens it when longer than 63 characters (submission.DerivedName).
func UIServiceName(app *v1beta2.SparkApplication) string {
	return submission.DerivedName(app.Name, "ui-svc")
}

// UIIngressName is the Spark UI Ingress of an application, "<app>-ui-ingress", shortened as Kubeflow
// shortens it when longer than 63 characters (submission.DerivedName).
func UIIngressName(app *v1beta2.SparkApplication) string {
	return submission.DerivedName(app.Name, "ui-ingress")
}

// DriverIngressServiceName and DriverIngressName are the Service and Ingress of one of
// spec.driverIngressOptions, "<app>-driver-<port>" and "<app>-ing-<port>" as in Kubeflow, shortened
// the same way as the UI Service when longer than 63 characters (Kubeflow does not shorten them, and
// its API requests fail then).
func DriverIngressServiceName(app *v1beta2.SparkApplication, port int32) string {
	return submission.DerivedName(app.Name, fmt.Sprintf("driver-%d", port))
}

// DriverIngressName is the name of the Ingress of the driver UI port: see DriverIngressServiceName.
func DriverIngressName(app *v1beta2.SparkApplication, port int32) string {
	return submission.DerivedName(app.Name, fmt.Sprintf("ing-%d", port))
}

// sparkUIPort is spark.ui.port from sparkConf, else 4040.
func sparkUIPort(app *v1beta2.SparkApplication) int32 {
	if p, err := strconv.Atoi(app.Spec.SparkConf["spark.ui.port"]); err == nil && p > 0 && p < 65536 {
		return int32(p)
	}
	return defaultSparkUIPort
}

// exposedPorts lists the Services (and Ingresses) an application's driver gets: the Spark UI (unless
// disabled) and each of spec.driverIngressOptions.
func (r *Reconciler) exposedPorts(app *v1beta2.SparkApplication) []exposedPort {
	var out []exposedPort
	if r.opts.EnableUIService {
		ui := exposedPort{
			serviceName: UIServiceName(app), ingressName: UIIngressName(app),
			port: sparkUIPort(app), targetPort: sparkUIPort(app), portName: defaultUIPortName,
			serviceType: corev1.ServiceTypeClusterIP, urlFormat: r.opts.IngressURLFormat,
			ingressAnnotations: r.opts.IngressAnnotations, ingressTLS: r.opts.IngressTLS, ui: true,
		}
		if o := app.Spec.SparkUIOptions; o != nil {
			if o.ServicePort != nil {
				ui.port = *o.ServicePort
			}
			if o.ServicePortName != nil {
				ui.portName = *o.ServicePortName
			}
			if o.ServiceType != nil {
				ui.serviceType = *o.ServiceType
			}
			ui.serviceLabels, ui.serviceAnnotations = o.ServiceLabels, o.ServiceAnnotations
			if len(o.IngressAnnotations) > 0 {
				ui.ingressAnnotations = o.IngressAnnotations
			}
			if len(o.IngressTLS) > 0 {
				ui.ingressTLS = o.IngressTLS
			}
		}
		out = append(out, ui)
	}
	for _, o := range app.Spec.DriverIngressOptions {
		port := ptr.Deref(o.ServicePort, 0)
		p := exposedPort{
			serviceName: DriverIngressServiceName(app, port),
			ingressName: DriverIngressName(app, port),
			port:        port, targetPort: port, portName: ptr.Deref(o.ServicePortName, fmt.Sprintf("driver-ing-%d", port)),
			serviceType: ptr.Deref(o.ServiceType, corev1.ServiceTypeClusterIP), serviceLabels: o.ServiceLabels,
			serviceAnnotations: o.ServiceAnnotations, urlFormat: o.IngressURLFormat,
			ingressAnnotations: o.IngressAnnotations, ingressTLS: o.IngressTLS,
		}
		// Without its own, a driver ingress takes the operator's --ingress-annotations and
		// --ingress-tls, as the UI Ingress does (Kubeflow's main branch after v2.5.2).
		if len(p.ingressAnnotations) == 0 {
			p.ingressAnnotations = r.opts.IngressAnnotations
		}
		if len(p.ingressTLS) == 0 {
			p.ingressTLS = r.opts.IngressTLS
		}
		out = append(out, p)
	}
	return out
}

// ingressURLVar matches a variable of an ingress URL format: {{$appName}}, {{$appNamespace}} or
// {{$appId}}, with optional spaces inside the braces ({{ $appName }}), as Kubeflow's operator reads them.
var ingressURLVar = regexp.MustCompile(`{{\s*\$(appName|appNamespace|appId)\s*}}`)

// ingressURL fills the application into a URL format ({{$appName}}, {{$appNamespace}}, {{$appId}}:
// the name, the namespace and status.sparkApplicationID; spaces inside the braces allowed) and
// parses it; a format without scheme is read as http. appID is the attempt's
// status.sparkApplicationID.
func ingressURL(format string, app *v1beta2.SparkApplication, appID string) (*url.URL, error) {
	s := ingressURLVar.ReplaceAllStringFunc(format, func(v string) string {
		switch ingressURLVar.FindStringSubmatch(v)[1] {
		case "appName":
			return app.Name
		case "appNamespace":
			return app.Namespace
		default:
			return appID
		}
	})
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("ingress URL format %q: %w", format, err)
	}
	return u, nil
}

// uiProxyBase is the path the UI Ingress of the attempt with Spark application id appID serves the
// Spark UI under, for spark.ui.proxyBase.
func (r *Reconciler) uiProxyBase(app *v1beta2.SparkApplication, appID string) string {
	if !r.opts.EnableUIService || r.opts.IngressURLFormat == "" {
		return ""
	}
	u, err := ingressURL(r.opts.IngressURLFormat, app, appID)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// uiRetryInterval is how soon UI objects that could not be created are tried again.
const uiRetryInterval = 30 * time.Second

// ensureUIBestEffort runs ensureUI; a failure (a full Service IP range, a quota, an invalid ingress
// setting) never holds the application back: it is logged, reported once per attempt as an Event, and
// tried again later, as Kubeflow treats its UI Service.
func (r *Reconciler) ensureUIBestEffort(ctx context.Context, s *scope, pod *corev1.Pod) {
	err := r.ensureUI(ctx, s, pod)
	if err == nil {
		return
	}
	s.log.Error(err, "Creating the Spark UI objects; the application goes on without them")
	if s.app.Status.DriverInfo.WebUIServiceName == "" && s.orig.Status.AppState.State != s.app.Status.AppState.State {
		s.event(corev1.EventTypeWarning, ReasonUIFailed, "The Spark UI Service of %s could not be created (tried again later): %v", s.app.Name, err)
	}
	s.requeue(uiRetryInterval)
}

// ensureUI creates the UI Service (and Ingresses) of the current attempt, owned by its driver pod, and
// records them in status.driverInfo.
func (r *Reconciler) ensureUI(ctx context.Context, s *scope, pod *corev1.Pod) error {
	app := s.app
	for _, p := range r.exposedPorts(app) {
		svc, err := r.ensureService(ctx, app, pod, p)
		if err != nil {
			return err
		}
		var u *url.URL
		if p.urlFormat != "" {
			if u, err = ingressURL(p.urlFormat, app, app.Status.SparkApplicationID); err != nil {
				s.log.Error(err, "Skipping the Ingress")
			} else if err := r.ensureIngress(ctx, app, pod, p, u); err != nil {
				return err
			}
		}
		if !p.ui {
			continue
		}
		info := &app.Status.DriverInfo
		info.WebUIServiceName = svc.Name
		info.WebUIPort = p.port
		if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
			info.WebUIAddress = fmt.Sprintf("%s:%d", ip, p.port)
		}
		if u != nil {
			info.WebUIIngressName = p.ingressName
			info.WebUIIngressAddress = u.String()
		}
	}
	return nil
}

func uiLabels(app *v1beta2.SparkApplication, extra map[string]string) map[string]string {
	labels := map[string]string{}
	for k, v := range extra {
		labels[k] = v
	}
	labels[v1beta2.LabelAppName] = app.Name
	labels[v1beta2.LabelSubmissionID] = app.Status.SubmissionID
	labels[v1beta2.LabelCreatedBySparkOperator] = "true"
	labels[LabelComponent] = componentUI
	return labels
}

func driverOwnerRef(pod *corev1.Pod) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: ptr.To(true)}}
}

func (r *Reconciler) ensureService(ctx context.Context, app *v1beta2.SparkApplication, pod *corev1.Pod, p exposedPort) (*corev1.Service, error) {
	svc := &corev1.Service{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: p.serviceName}, svc)
	if err == nil {
		if svc.Labels[v1beta2.LabelSubmissionID] == app.Status.SubmissionID {
			return svc, nil
		}
		// A previous attempt's Service: replace it.
		if err := r.client.Delete(ctx, svc); err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	svc = &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.serviceName, Namespace: app.Namespace,
			Labels: uiLabels(app, p.serviceLabels), Annotations: p.serviceAnnotations,
			OwnerReferences: driverOwnerRef(pod),
		},
		Spec: corev1.ServiceSpec{
			Type:     p.serviceType,
			Selector: map[string]string{v1beta2.LabelAppName: app.Name, v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver},
			Ports:    []corev1.ServicePort{{Name: p.portName, Port: p.port, TargetPort: intstr.FromInt32(p.targetPort), Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := r.client.Create(ctx, svc); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating Service %s: %w", p.serviceName, err)
	}
	return svc, nil
}

func (r *Reconciler) ensureIngress(ctx context.Context, app *v1beta2.SparkApplication, pod *corev1.Pod, p exposedPort, u *url.URL) error {
	existing := &networkingv1.Ingress{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: p.ingressName}, existing)
	if err == nil && existing.Labels[v1beta2.LabelSubmissionID] == app.Status.SubmissionID {
		return nil
	}
	if err == nil {
		if err := r.client.Delete(ctx, existing); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	annotations := map[string]string{}
	for k, v := range p.ingressAnnotations {
		annotations[k] = v
	}
	path := "/"
	if sub := strings.TrimSuffix(u.Path, "/"); sub != "" {
		// Serve the UI under a sub-path, rewriting it away (as Kubeflow does for nginx).
		path = sub + "(/|$)(.*)"
		annotations[nginxRewriteTarget] = "/$2"
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.ingressName, Namespace: app.Namespace, Labels: uiLabels(app, nil),
			Annotations: annotations, OwnerReferences: driverOwnerRef(pod),
		},
		Spec: networkingv1.IngressSpec{
			TLS: p.ingressTLS,
			Rules: []networkingv1.IngressRule{{
				Host: u.Hostname(),
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     path,
						PathType: ptr.To(networkingv1.PathTypeImplementationSpecific),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: p.serviceName, Port: networkingv1.ServiceBackendPort{Number: p.port},
						}},
					}},
				}},
			}},
		},
	}
	if r.opts.IngressClassName != "" {
		ing.Spec.IngressClassName = ptr.To(r.opts.IngressClassName)
	}
	if err := r.client.Create(ctx, ing); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Ingress %s: %w", p.ingressName, err)
	}
	return nil
}

// deleteUI deletes the UI Services and Ingresses of the application: they belong to one attempt and
// are not left behind once it ends (a namespace full of leftover Services overflows the environment
// of every new container, Kubeflow #2984). It clears the status.driverInfo fields that name them, so
// the status never names an object that no longer exists; app is the copy whose status the
// reconcile writes.
func (r *Reconciler) deleteUI(ctx context.Context, app *v1beta2.SparkApplication) error {
	sel := client.MatchingLabels{v1beta2.LabelAppName: app.Name, LabelComponent: componentUI}
	svcs := &corev1.ServiceList{}
	if err := r.listByApp(ctx, svcs, app.Namespace, app.Name, client.MatchingLabels{LabelComponent: componentUI}); err != nil {
		return err
	}
	for i := range svcs.Items {
		if err := r.client.Delete(ctx, &svcs.Items[i]); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	if r.usesIngress(app) {
		ings := &networkingv1.IngressList{}
		if err := r.client.List(ctx, ings, client.InNamespace(app.Namespace), sel); err != nil {
			return err
		}
		for i := range ings.Items {
			if err := r.client.Delete(ctx, &ings.Items[i]); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	clearUIInfo(&app.Status.DriverInfo)
	return nil
}

// clearUIInfo empties the driverInfo fields about the UI objects of an attempt (webUIServiceName,
// webUIAddress, webUIPort, webUIIngressName, webUIIngressAddress), keeping podName.
func clearUIInfo(info *v1beta2.DriverInfo) {
	info.WebUIServiceName, info.WebUIAddress, info.WebUIPort = "", "", 0
	info.WebUIIngressName, info.WebUIIngressAddress = "", ""
}

func (r *Reconciler) usesIngress(app *v1beta2.SparkApplication) bool {
	return r.opts.IngressURLFormat != "" || len(app.Spec.DriverIngressOptions) > 0
}
