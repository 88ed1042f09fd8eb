// Package webhook is the operator's optional validating webhook. The CRD schema (defaults, enums, CEL)
// rejects what it can express; this webhook rejects, at admission, what only the operator can tell:
// a SparkApplication the native submitter would refuse (a main file on the submitter's disk, a Java
// application without mainClass, a sparkConf namespace that is not the application's, a reserved
// label, a memoryLimit below the memory request, ...), and a ScheduledSparkApplication whose schedule
// or time zone cannot be parsed or whose template would be refused. Without the webhook the same
// inputs end in SUBMISSION_FAILED (or FailedValidation) with the same message, so the operator works
// fully with it disabled.
//
// Its serving certificate is generated, stored in a Secret, injected into the
// ValidatingWebhookConfiguration and rotated by the operator itself (open-policy-agent/cert-controller),
// or provided by cert-manager.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/schedule"
	"github.com/sparkop/spark-operator/internal/submission"
)

// validationUID stands for the UID of an object not created yet, so that Render can run.
const validationUID = types.UID("00000000-0000-0000-0000-000000000000")

// SparkApplicationValidator rejects SparkApplications the native submitter would refuse.
type SparkApplicationValidator struct {
	// Submission are the operator's submission options (the same as the controller's).
	Submission submission.Options
	// ResourceQuota, when set, also rejects applications that do not fit in their namespace's
	// ResourceQuotas (--enable-resource-quota-enforcement, resourcequota.go).
	ResourceQuota *ResourceQuotaEnforcer
	// Serves, when set, says which objects this webhook validates (`webhook start --namespaces`,
	// --label-selector-filter); the others are allowed unchecked.
	Serves func(metav1.Object) bool
}

// serves says whether obj is validated.
func (v *SparkApplicationValidator) serves(obj metav1.Object) bool {
	return v.Serves == nil || v.Serves(obj)
}

var _ admission.Validator[*v1beta2.SparkApplication] = &SparkApplicationValidator{}

// ValidateCreate renders the application as the controller would and turns a refusal into an
// Invalid error naming the field.
func (v *SparkApplicationValidator) ValidateCreate(ctx context.Context, app *v1beta2.SparkApplication) (admission.Warnings, error) {
	if !v.serves(app) {
		return nil, nil
	}
	return v.validate(ctx, app, nil)
}

// validate checks app (and, with ResourceQuota, whether it fits; old is the application before an
// update, nil on create).
func (v *SparkApplicationValidator) validate(ctx context.Context, app, old *v1beta2.SparkApplication) (admission.Warnings, error) {
	if errs := v.render(app, field.NewPath("spec")); len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: v1beta2.GroupVersion.Group, Kind: "SparkApplication"}, app.Name, errs)
	}
	if v.ResourceQuota != nil {
		return nil, v.ResourceQuota.Check(ctx, app, old)
	}
	return nil, nil
}

// ValidateUpdate validates the new object only when its spec changed, so that metadata updates of
// existing applications (finalizers, labels) are never blocked.
func (v *SparkApplicationValidator) ValidateUpdate(ctx context.Context, oldApp, newApp *v1beta2.SparkApplication) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(oldApp.Spec, newApp.Spec) || !v.serves(newApp) {
		return nil, nil
	}
	return v.validate(ctx, newApp, oldApp)
}

// ValidateDelete allows every deletion.
func (v *SparkApplicationValidator) ValidateDelete(context.Context, *v1beta2.SparkApplication) (admission.Warnings, error) {
	return nil, nil
}

// render runs the submitter on a copy of app and returns its refusal as a field error under path
// (path is "spec" for a SparkApplication, "spec.template" for a ScheduledSparkApplication).
func (v *SparkApplicationValidator) render(app *v1beta2.SparkApplication, path *field.Path) field.ErrorList {
	a := app.DeepCopy()
	if a.UID == "" {
		a.UID = validationUID
	}
	_, err := submission.Render(a, submission.NewSubmission(a.UID, "validation", 1, time.Now()), v.Submission)
	var fe *submission.FieldError
	if errors.As(err, &fe) {
		return field.ErrorList{field.Invalid(fieldPath(path, fe.Field), nil, fe.Detail)}
	}
	return nil
}

// fieldPath re-roots a submitter field ("spec.driver.memory") under path ("spec.template").
func fieldPath(path *field.Path, submitterField string) *field.Path {
	const prefix = "spec."
	rest := submitterField
	if len(rest) >= len(prefix) && rest[:len(prefix)] == prefix {
		rest = rest[len(prefix):]
	} else if rest == "spec" {
		return path
	}
	return path.Child(rest)
}

// ScheduledSparkApplicationValidator rejects ScheduledSparkApplications whose schedule or time zone
// cannot be parsed, or whose template the submitter would refuse.
type ScheduledSparkApplicationValidator struct {
	// Applications validates the template as a SparkApplication.
	Applications SparkApplicationValidator
}

var _ admission.Validator[*v1beta2.ScheduledSparkApplication] = &ScheduledSparkApplicationValidator{}

// ValidateCreate checks the schedule, the time zone and the template.
func (v *ScheduledSparkApplicationValidator) ValidateCreate(_ context.Context, ssa *v1beta2.ScheduledSparkApplication) (admission.Warnings, error) {
	if !v.Applications.serves(ssa) {
		return nil, nil
	}
	var errs field.ErrorList
	if _, err := schedule.Parse(ssa.Spec.Schedule, ssa.Spec.TimeZone); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec", "schedule"), ssa.Spec.Schedule, err.Error()))
	}
	run := &v1beta2.SparkApplication{Spec: *ssa.Spec.Template.DeepCopy()}
	run.Name, run.Namespace, run.UID = ssa.Name, ssa.Namespace, ssa.UID
	errs = append(errs, v.Applications.render(run, field.NewPath("spec", "template"))...)
	if len(errs) == 0 {
		return nil, nil
	}
	return nil, apierrors.NewInvalid(schema.GroupKind{Group: v1beta2.GroupVersion.Group, Kind: "ScheduledSparkApplication"}, ssa.Name, errs)
}

// ValidateUpdate validates the new object when its spec changed.
func (v *ScheduledSparkApplicationValidator) ValidateUpdate(ctx context.Context, oldObj, newObj *v1beta2.ScheduledSparkApplication) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(oldObj.Spec, newObj.Spec) {
		return nil, nil
	}
	return v.ValidateCreate(ctx, newObj)
}

// ValidateDelete allows every deletion.
func (v *ScheduledSparkApplicationValidator) ValidateDelete(context.Context, *v1beta2.ScheduledSparkApplication) (admission.Warnings, error) {
	return nil, nil
}

// Option changes what the registered validators check.
type Option func(mgr manager.Manager, v *SparkApplicationValidator)

// WithResourceQuotaEnforcement makes the SparkApplication validator reject applications that do not
// fit in their namespace's ResourceQuotas (--enable-resource-quota-enforcement; ResourceQuotaEnforcer).
func WithResourceQuotaEnforcement() Option {
	return func(mgr manager.Manager, v *SparkApplicationValidator) {
		v.ResourceQuota = &ResourceQuotaEnforcer{Reader: mgr.GetAPIReader(), Submission: v.Submission}
	}
}

// Register adds both validators to the manager's webhook server, at Kubeflow's paths
// (/validate-sparkoperator-k8s-io-v1beta2-sparkapplication and ...-scheduledsparkapplication).
func Register(mgr manager.Manager, opts submission.Options, options ...Option) error {
	apps := &SparkApplicationValidator{Submission: opts}
	for _, o := range options {
		o(mgr, apps)
	}
	return RegisterValidator(mgr, apps)
}

// RegisterValidator is Register with a validator of the caller's (a Serves filter, a ResourceQuota
// enforcer).
func RegisterValidator(mgr manager.Manager, apps *SparkApplicationValidator) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &v1beta2.SparkApplication{}).WithValidator(apps).Complete(); err != nil {
		return err
	}
	// A schedule's template is not checked against quotas: its runs are, when they are created.
	return ctrl.NewWebhookManagedBy(mgr, &v1beta2.ScheduledSparkApplication{}).
		WithValidator(&ScheduledSparkApplicationValidator{Applications: SparkApplicationValidator{Submission: apps.Submission, Serves: apps.Serves}}).Complete()
}

// CertOptions say where the serving certificate lives and which webhook configuration trusts it.
type CertOptions struct {
	// CertDir is where the webhook server reads tls.crt and tls.key.
	CertDir string
	// Secret holds the CA and the serving certificate (created when missing).
	Secret types.NamespacedName
	// ServiceName and ServiceNamespace are the webhook's Service; the certificate is for
	// <service>.<namespace>.svc.
	ServiceName, ServiceNamespace string
	// ConfigurationName is the ValidatingWebhookConfiguration whose caBundle is kept current.
	ConfigurationName string
	// MutatingConfigurationName, when set, is a MutatingWebhookConfiguration whose caBundle is kept
	// current too (`webhook start`; a missing one is logged and skipped).
	MutatingConfigurationName string
	// CertName and KeyName are the file names in CertDir; empty means tls.crt and tls.key.
	CertName, KeyName string
	// LeaderOnly makes only the elected leader generate, rotate and inject the certificate (`webhook
	// start --leader-election`); then ready closes on the leader only, and the other replicas wait for
	// the files themselves (CertFiles, WaitForFiles).
	LeaderOnly bool
}

// AddCertRotator makes the operator generate its serving certificate (a CA valid 10 years, a server
// certificate valid 1 year, renewed 90 days before expiry, checked every 12 hours), store it in the
// Secret and inject the CA into the webhook configuration. The Secret must be mounted at CertDir (the
// Helm chart mounts it, optional so the pod starts before it exists); ready is closed once the mounted
// files hold the certificate: register the webhooks (Register) only then.
//
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch;update;patch
func AddCertRotator(mgr manager.Manager, o CertOptions, ready chan struct{}) error {
	// The rotator fills the Secret but does not create it.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: o.Secret.Name, Namespace: o.Secret.Namespace}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mgr.GetClient().Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Secret %s: %w", o.Secret, err)
	}
	webhooks := []rotator.WebhookInfo{{Name: o.ConfigurationName, Type: rotator.Validating}}
	if o.MutatingConfigurationName != "" {
		webhooks = append(webhooks, rotator.WebhookInfo{Name: o.MutatingConfigurationName, Type: rotator.Mutating})
	}
	return rotator.AddRotator(mgr, &rotator.CertRotator{
		CertName:               o.CertName,
		KeyName:                o.KeyName,
		SecretKey:              o.Secret,
		CertDir:                o.CertDir,
		CAName:                 "spark-operator-ca",
		CAOrganization:         "spark-operator",
		DNSName:                o.ServiceName + "." + o.ServiceNamespace + ".svc",
		ExtraDNSNames:          []string{o.ServiceName + "." + o.ServiceNamespace + ".svc.cluster.local"},
		IsReady:                ready,
		Webhooks:               webhooks,
		RequireLeaderElection:  o.LeaderOnly,
		CaCertDuration:         10 * 365 * 24 * time.Hour,
		ServerCertDuration:     365 * 24 * time.Hour,
		LookaheadInterval:      90 * 24 * time.Hour,
		RotationCheckFrequency: 12 * time.Hour,
	})
}
