package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// mutatingConfig is a MutatingWebhookConfiguration at Kubeflow's mutating paths, as Kubeflow's chart
// installs it (pods and SparkApplications).
func mutatingConfig(name string) *admissionregistrationv1.MutatingWebhookConfiguration {
	hook := func(hookName, group, resource, path string) admissionregistrationv1.MutatingWebhook {
		v := chartHook(hookName, group, []string{"v1", "v1beta2"}, resource, path)
		return admissionregistrationv1.MutatingWebhook{Name: v.Name, AdmissionReviewVersions: v.AdmissionReviewVersions,
			SideEffects: v.SideEffects, FailurePolicy: v.FailurePolicy, ClientConfig: v.ClientConfig, Rules: v.Rules}
	}
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{
			hook("mutate-pod.sparkoperator.k8s.io", "", "pods", "/mutate--v1-pod"),
			hook("mutate-sparkapplication.sparkoperator.k8s.io", "sparkoperator.k8s.io", "sparkapplications", "/mutate-sparkoperator-k8s-io-v1beta2-sparkapplication"),
		},
	}
}

// runWebhookStart runs `spark-operator webhook start args...` as its own process until the test
// ends (SIGTERM, then waits); an exit before that fails the test with the process's output.
func runWebhookStart(t *testing.T, kubeconfig string, args ...string) {
	t.Helper()
	bin, err := operatortest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"webhook", "start", "--kubeconfig=" + kubeconfig, "--zap-log-level=info"}, args...)...)
	p, err := framework.StartProcess("webhook start", filepath.Join(t.TempDir(), "webhook.log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			t.Error(err)
		} else if err := p.Err(); err != nil && !t.Failed() {
			t.Errorf("webhook start exited with %v after SIGTERM:\n%s", err, p.Log())
		}
		if t.Failed() {
			t.Logf("webhook start output:\n%s", p.Log())
		}
	})
}

// TestBadFlagExitsNonZero: the binary exits non-zero, naming the flag, on an unknown feature gate,
// a bad duration or a bad enum value.
func TestBadFlagExitsNonZero(t *testing.T) {
	bin, err := operatortest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"controller", "start", "--feature-gates=PartialRestart=true,Warp=true"},
		{"controller", "start", "--cache-sync-timeout=soon"},
		{"controller", "start", "--scheduled-spark-application-timestamp-precision=hours"},
		{"webhook", "start", "--leader-election-renew-deadline=14"},
	} {
		flagName, _, _ := strings.Cut(args[2], "=")
		out, err := exec.Command(bin, append(args, "--kubeconfig=/nonexistent")...).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), flagName) {
			t.Errorf("%v: %v, output %q; want a non-zero exit naming %s", args, err, out, flagName)
		}
	}
}

// TestWebhookStartCertManager: `webhook start --enable-cert-manager`, with Kubeflow's flags, serves
// admission requests of the real API server with the certificate it copies from cert-manager's Secret
// (no volume): it rejects what the submitter would refuse in its --namespaces, lets other namespaces
// through, and answers Kubeflow's mutating paths without changing anything.
func TestWebhookStartCertManager(t *testing.T) {
	env, cfg := startWebhookEnv(t, envtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{validatingConfig("spark-operator-webhook")},
		MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{mutatingConfig("spark-operator-webhook")},
	})
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfigData, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kubeconfigData, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1beta2.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ns := range []string{"spark-operator", "jobs", "elsewhere"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	// Play cert-manager: the Secret holds the certificate the API server trusts.
	wo := env.WebhookInstallOptions
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "spark-operator-webhook-certs", Namespace: "spark-operator"}, Data: map[string][]byte{}}
	for _, name := range []string{"tls.crt", "tls.key"} {
		if secret.Data[name], err = os.ReadFile(filepath.Join(wo.LocalServingCertDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(t.TempDir(), "serving-certs")
	runWebhookStart(t, kubeconfig, "--enable-cert-manager=true", "--namespaces=jobs",
		"--webhook-secret-name=spark-operator-webhook-certs", "--webhook-secret-namespace=spark-operator",
		"--webhook-svc-name=spark-operator-webhook", "--webhook-svc-namespace=spark-operator",
		"--webhook-port="+strconv.Itoa(wo.LocalServingPort), "--webhook-cert-dir="+certDir,
		"--mutating-webhook-name=spark-operator-webhook", "--validating-webhook-name=spark-operator-webhook",
		"--enable-metrics=true", "--metrics-bind-address=0", "--metrics-prefix=", "--metrics-labels=app_type",
		"--health-probe-bind-address=0", "--leader-election=false")

	framework.WaitFor(t, 60*time.Second, "the webhook answers the API server", func() (bool, string) {
		err := c.Create(ctx, wrappers.MakeSparkApplication("probe", "jobs").Obj(), client.DryRunAll)
		return err == nil, fmt.Sprint(err)
	})
	if got, _ := os.ReadFile(filepath.Join(certDir, "tls.crt")); !bytes.Equal(got, secret.Data["tls.crt"]) {
		t.Errorf("the certificate file in --webhook-cert-dir is not the Secret's")
	}
	bad := func(ns string) *v1beta2.SparkApplication {
		return wrappers.MakeSparkApplication("local", ns).MainApplicationFile("/home/me/app.jar").Obj()
	}
	if err := c.Create(ctx, bad("jobs")); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.mainApplicationFile") {
		t.Errorf("a local main file in a served namespace: %v; want Invalid naming spec.mainApplicationFile", err)
	}
	if err := c.Create(ctx, bad("elsewhere")); err != nil {
		t.Errorf("an application outside --namespaces was not let through: %v", err)
	}
	if err := c.Create(ctx, wrappers.MakeScheduledSparkApplication("typo", "jobs").Schedule("61 * * * *").Obj()); !apierrors.IsInvalid(err) {
		t.Errorf("a bad schedule: %v; want Invalid", err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "jobs"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatalf("a pod through Kubeflow's mutating path: %v", err)
	}
	if len(pod.Spec.Volumes) != 0 || len(pod.Spec.Containers) != 1 || len(pod.Spec.Containers[0].Env) != 0 {
		t.Errorf("the pod was changed: %+v", pod.Spec)
	}
}

// TestWebhookStartSelfSigned: without cert-manager, `webhook start` (as the elected leader) generates
// the certificate into its Secret, injects the CA into both webhook configurations, writes the files
// into --webhook-cert-dir itself (no volume), serves with it, and only then reports ready.
func TestWebhookStartSelfSigned(t *testing.T) {
	env := framework.Start(t, framework.WithScheme(v1beta2.AddToScheme))
	ctx := context.Background()
	util.Create(t, env.Client, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "spark-operator"}})
	util.Create(t, env.Client, validatingConfig("spark-operator-webhook"))
	util.Create(t, env.Client, mutatingConfig("spark-operator-webhook"))
	certDir := filepath.Join(t.TempDir(), "serving-certs")
	port, health := util.FreePort(t), util.FreePort(t)
	runWebhookStart(t, env.Kubeconfig, "--webhook-secret-namespace=spark-operator",
		"--webhook-svc-name=spark-operator-webhook", "--webhook-svc-namespace=spark-operator",
		"--webhook-port="+strconv.Itoa(port), "--webhook-cert-dir="+certDir,
		"--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(health), "--metrics-bind-address=0",
		"--leader-election=true", "--leader-election-lock-namespace=spark-operator", "--leader-election-lock-name=spark-operator-webhook-lock")

	framework.WaitFor(t, 60*time.Second, "the webhook reports ready", func() (bool, string) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", health))
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	s := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "spark-operator", Name: "spark-operator-webhook-certs"}, s); err != nil {
		t.Fatalf("the certificate Secret: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(certDir, "tls.crt")); len(got) == 0 || !bytes.Equal(got, s.Data["tls.crt"]) {
		t.Errorf("the certificate file is not the Secret's")
	}
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	framework.WaitFor(t, 30*time.Second, "the CA in both webhook configurations", func() (bool, string) {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "spark-operator-webhook"}, &vwc); err != nil {
			return false, err.Error()
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "spark-operator-webhook"}, &mwc); err != nil {
			return false, err.Error()
		}
		return len(vwc.Webhooks[0].ClientConfig.CABundle) > 0 && len(mwc.Webhooks[0].ClientConfig.CABundle) > 0, "no caBundle yet"
	})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(vwc.Webhooks[0].ClientConfig.CABundle) {
		t.Fatal("the injected caBundle is not PEM")
	}
	// The server presents the generated certificate, valid for the Service's name under the CA.
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{RootCAs: pool, ServerName: "spark-operator-webhook.spark-operator.svc"})
	if err != nil {
		t.Fatalf("TLS to the webhook server with the injected CA: %v", err)
	}
	_ = conn.Close()
}
