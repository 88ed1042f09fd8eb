// Package webhook_test runs the validating webhook behind a real kube-apiserver: envtest installs a
// ValidatingWebhookConfiguration pointing at the test's webhook server, so every create goes through
// the API server's admission chain as in a cluster. It also runs the certificate rotator against the
// API server.
package webhook_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	webhookserver "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
	"github.com/sparkop/spark-operator/internal/webhook"
)

// chartHook is one webhook as the charts install them: admission review v1, no side effects,
// failurePolicy Fail, served at path by Service spark-operator/spark-operator-webhook, for CREATE
// and UPDATE of resource in group at versions. It is a ValidatingWebhook; mutatingConfig copies it
// into MutatingWebhooks.
func chartHook(name, group string, versions []string, resource, path string) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:                    name,
		AdmissionReviewVersions: []string{"v1"},
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
		ClientConfig: admissionregistrationv1.WebhookClientConfig{
			Service: &admissionregistrationv1.ServiceReference{Namespace: "spark-operator", Name: "spark-operator-webhook", Path: ptr.To(path)},
		},
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: versions, Resources: []string{resource}},
		}},
	}
}

// validatingConfig is the webhook configuration the Helm chart installs, for both kinds.
func validatingConfig(name string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	hook := func(hookName, resource, path string) admissionregistrationv1.ValidatingWebhook {
		return chartHook(hookName, "sparkoperator.k8s.io", []string{"v1beta2"}, resource, path)
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			hook("validate-sparkapplication.sparkoperator.k8s.io", "sparkapplications", "/validate-sparkoperator-k8s-io-v1beta2-sparkapplication"),
			hook("validate-scheduledsparkapplication.sparkoperator.k8s.io", "scheduledsparkapplications", "/validate-sparkoperator-k8s-io-v1beta2-scheduledsparkapplication"),
		},
	}
}

// startWebhookEnv starts a control plane of its own for the test with envtest (binaries from bin/
// or $KUBEBUILDER_ASSETS, the CRDs of config/crd/bases) that calls the webhooks of hooks, and stops
// it when the test ends; it returns the environment and its admin config.
func startWebhookEnv(t *testing.T, hooks envtest.WebhookInstallOptions) (*envtest.Environment, *rest.Config) {
	t.Helper()
	root := framework.RepoRoot(t)
	env := &envtest.Environment{
		BinaryAssetsDirectory: filepath.Join(root, "bin"),
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		WebhookInstallOptions: hooks,
		// envtest waits 10 s for the CRDs by default: too short on a loaded machine.
		CRDInstallOptions: envtest.CRDInstallOptions{MaxTime: 2 * time.Minute},
	}
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		env.BinaryAssetsDirectory = dir
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting the control plane (run make tools first): %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	return env, cfg
}

// startAdmission starts an API server whose webhook configuration points at a webhook server in the
// test process, registers the validators (webhook.Register with options) and returns a client once
// the webhook answers.
func startAdmission(t *testing.T, options ...webhook.Option) client.Client {
	t.Helper()
	logf.SetLogger(logr.Discard())
	env, cfg := startWebhookEnv(t, envtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{validatingConfig("spark-operator-webhook")},
	})
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1beta2.AddToScheme(scheme)
	wo := env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		WebhookServer:          webhookserver.NewServer(webhookserver.Options{Host: wo.LocalServingHost, Port: wo.LocalServingPort, CertDir: wo.LocalServingCertDir}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.Register(mgr, submission.Options{}, options...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the webhook server to answer.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := c.Create(context.Background(), wrappers.MakeSparkApplication("probe", "default").Obj(), client.DryRunAll)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook does not answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return c
}

// TestAdmission: with the webhook installed, what the submitter would refuse is rejected at admission
// with the field named; valid objects and metadata-only updates pass.
func TestAdmission(t *testing.T) {
	c := startAdmission(t)

	bad := map[string]struct {
		obj   client.Object
		field string
	}{
		"local main file":            {wrappers.MakeSparkApplication("local", "default").MainApplicationFile("/home/me/app.jar").Obj(), "spec.mainApplicationFile"},
		"java without main class":    {wrappers.MakeSparkApplication("noclass", "default").Spec(func(s *v1beta2.SparkApplicationSpec) { s.MainClass = nil }).Obj(), "spec.mainClass"},
		"namespace mismatch":         {wrappers.MakeSparkApplication("elsewhere", "default").SparkConf("spark.kubernetes.namespace", "prod").Obj(), "spec.sparkConf"},
		"memory limit below request": {wrappers.MakeSparkApplication("tight", "default").Driver(func(d *v1beta2.DriverSpec) { d.MemoryLimit = ptr.To("256m") }).Obj(), "spec.driver.memoryLimit"},
		"reserved label":             {wrappers.MakeSparkApplication("labels", "default").DriverLabel("spark-role", "x").Obj(), "spec.driver.labels"},
		"schedule minute 61":         {wrappers.MakeScheduledSparkApplication("typo", "default").Schedule("61 * * * *").Obj(), "spec.schedule"},
		"unknown time zone":          {wrappers.MakeScheduledSparkApplication("mars", "default").Schedule("@hourly").TimeZone("Mars/Olympus").Obj(), "spec.schedule"},
		"bad template": {wrappers.MakeScheduledSparkApplication("tmpl", "default").TemplateSpec(func(s *v1beta2.SparkApplicationSpec) {
			s.MainApplicationFile = ptr.To("file:///tmp/x.jar")
		}).Obj(), "spec.template.mainApplicationFile"},
		"wrong-typed pod template value": {withDriverTemplate(t, wrappers.MakeSparkApplication("ports", "default").Obj(),
			map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "ports": "4040"}}}}),
			"spec.driver.template.spec.containers[0].ports"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			err := c.Create(context.Background(), tc.obj)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("create: %v; want Invalid naming %s", err, tc.field)
			}
		})
	}
	good := wrappers.MakeSparkApplication("good", "default").Obj()
	if err := c.Create(context.Background(), good); err != nil {
		t.Fatalf("a valid application was rejected: %v", err)
	}
	if err := c.Create(context.Background(), wrappers.MakeScheduledSparkApplication("nightly", "default").Schedule("0 2 * * *").TimeZone("Europe/Paris").Obj()); err != nil {
		t.Fatalf("a valid schedule was rejected: %v", err)
	}
	// A metadata update is never blocked, and a spec update is validated.
	good.Labels = map[string]string{"team": "data"}
	if err := c.Update(context.Background(), good); err != nil {
		t.Errorf("a label update was rejected: %v", err)
	}
	good.Spec.MainApplicationFile = ptr.To("/tmp/local.jar")
	if err := c.Update(context.Background(), good); !apierrors.IsInvalid(err) {
		t.Errorf("an invalid spec update: %v, want Invalid", err)
	}
}

// TestCertRotator: the operator generates its serving certificate, stores it in the Secret, writes it
// for the webhook server and injects its CA into the webhook configuration.
func TestCertRotator(t *testing.T) {
	env := framework.Start(t, framework.WithScheme(v1beta2.AddToScheme))
	ctx := context.Background()
	util.Create(t, env.Client, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "spark-operator"}})
	util.Create(t, env.Client, validatingConfig("rotated-webhook"))
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	ready := make(chan struct{})
	secret := types.NamespacedName{Namespace: "spark-operator", Name: "spark-operator-webhook-certs"}
	if err := webhook.AddCertRotator(mgr, webhook.CertOptions{
		CertDir: certDir, Secret: secret, ServiceName: "spark-operator-webhook", ServiceNamespace: "spark-operator",
		ConfigurationName: "rotated-webhook",
	}, ready); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	// Play the kubelet, which mounts the Secret at the certificate directory in a cluster.
	go func() {
		for runCtx.Err() == nil {
			s := &corev1.Secret{}
			if err := env.Client.Get(runCtx, secret, s); err == nil && len(s.Data["tls.crt"]) > 0 {
				for name, data := range s.Data {
					_ = os.WriteFile(filepath.Join(certDir, name), data, 0o600)
				}
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the certificate was not ready within 30 s")
	}
	s := &corev1.Secret{}
	if err := env.Client.Get(ctx, secret, s); err != nil {
		t.Fatalf("the certificate Secret: %v", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(certDir, "tls.crt"))
	if err != nil {
		t.Fatalf("the serving certificate file: %v", err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cert.DNSNames, ","), "spark-operator-webhook.spark-operator.svc") {
		t.Errorf("certificate names %v", cert.DNSNames)
	}
	if left := time.Until(cert.NotAfter); left < 300*24*time.Hour {
		t.Errorf("server certificate valid for %s only", left)
	}
	var got admissionregistrationv1.ValidatingWebhookConfiguration
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "rotated-webhook"}, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Webhooks[0].ClientConfig.CABundle) > 0 && len(got.Webhooks[1].ClientConfig.CABundle) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the CA was not injected into the webhook configuration")
		}
		time.Sleep(200 * time.Millisecond)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(got.Webhooks[0].ClientConfig.CABundle) {
		t.Fatal("the injected caBundle is not PEM")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "spark-operator-webhook.spark-operator.svc"}); err != nil {
		t.Errorf("the serving certificate does not verify against the injected CA: %v", err)
	}
}

// withDriverTemplate returns app as unstructured with spec.driver.template set to template (which the
// Go type may not be able to hold: a value of the wrong type).
func withDriverTemplate(t *testing.T, app *v1beta2.SparkApplication, template map[string]any) client.Object {
	t.Helper()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(app)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("SparkApplication"))
	if err := unstructured.SetNestedField(u.Object, template, "spec", "driver", "template"); err != nil {
		t.Fatal(err)
	}
	return u
}
