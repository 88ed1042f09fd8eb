// Package kueue_test runs the operator under the real Kueue: Kueue's controller manager
// (sigs.k8s.io/kueue/cmd/kueue v0.17.0, built into bin/kueue by hack/build-kueue.sh) with its
// SparkApplication integration on, against a control plane from bin/ (etcd, kube-apiserver and
// kube-controller-manager for garbage collection, internal/testing/framework), with Kueue's CRDs from
// its module and its webhooks served with a certificate generated here and registered at a loopback
// URL. The operator runs in the test process; the tests play the kubelet (pod status) and the Spark
// driver (executor pods from the executor pod template), as the controller suite does.
//
// It runs with KUEUE_E2E=1 (`make e2e-kueue`) and is skipped otherwise. Kueue's log goes to
// .cache/kueue-e2e/kueue.log.
package kueue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// kueueFeatureGates turns on the SparkApplication integration (alpha in v0.17.0) and turns off the
// visibility API server, which needs an aggregated API server this control plane does not route to.
const kueueFeatureGates = "SparkApplicationIntegration=true,TopologyAwareScheduling=true,VisibilityOnDemand=false"

var env *framework.Env

func TestMain(m *testing.M) {
	if os.Getenv("KUEUE_E2E") != "1" {
		fmt.Println("test/kueue: skipped; run with KUEUE_E2E=1 (make e2e-kueue)")
		os.Exit(0)
	}
	ctrl.SetLogger(util.Logger())
	kueueDir, err := kueueModuleDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(framework.RunMain(m, &env, framework.WithScheme(v1beta2.AddToScheme), framework.WithControllerManager(),
		framework.WithCRDPaths(filepath.Join(kueueDir, "config", "components", "crd", "bases"))))
}

// kueueModuleDir is the module cache directory of the Kueue version hack/kueue/go.mod pins.
func kueueModuleDir() (string, error) {
	root, err := framework.FindRepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kueue")
	cmd.Dir = filepath.Join(root, "hack", "kueue")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating Kueue's module (go list in hack/kueue): %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("hack/kueue: Kueue's module is not downloaded; run hack/build-kueue.sh")
	}
	return dir, nil
}

// startKueue starts bin/kueue against env with its SparkApplication integration and registers its
// webhooks (those for Kueue's own kinds and for SparkApplications) at a loopback URL, with a
// self-signed certificate written to its certificate directory. It returns once Kueue's webhooks
// answer; Kueue is stopped (SIGTERM, then killed) when the test ends.
func startKueue(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	kueueDir, err := kueueModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	certDir := filepath.Join(work, "certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("127.0.0.1", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.crt"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ensureMetricsCert(t)
	webhookPort, probePort := util.FreePort(t), util.FreePort(t)
	config := fmt.Sprintf(`apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: kueue-system
health:
  healthProbeBindAddress: 127.0.0.1:%d
metrics:
  bindAddress: "0"
webhook:
  host: 127.0.0.1
  port: %d
  certDir: %s
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
integrations:
  frameworks:
  - sparkoperator.k8s.io/sparkapplication
`, probePort, webhookPort, certDir)
	configFile := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	util.EnsureNamespace(t, env.Client, "kueue-system")
	registerKueueWebhooks(t, filepath.Join(kueueDir, "config", "components", "webhook", "manifests.yaml"),
		fmt.Sprintf("https://127.0.0.1:%d", webhookPort), certPEM)

	logDir := filepath.Join(env.RepoRoot, ".cache", "kueue-e2e")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(env.RepoRoot, "bin", "kueue"), "--config="+configFile,
		"--feature-gates="+kueueFeatureGates, "--zap-log-level=2")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+versionProxy(t, work))
	kueue, err := framework.StartProcess("bin/kueue", filepath.Join(logDir, "kueue.log"), cmd)
	if err != nil {
		t.Fatalf("%v (build it with hack/build-kueue.sh)", err)
	}
	t.Cleanup(func() { _ = kueue.Stop(20 * time.Second) })

	// Kueue is ready when its webhooks admit a ResourceFlavor (failurePolicy: Fail refuses it before).
	framework.WaitFor(t, 3*time.Minute, "Kueue's webhooks to answer", func() (bool, string) {
		if kueue.Exited() {
			t.Fatalf("bin/kueue exited: %v; see %s", kueue.Err(), kueue.LogPath)
		}
		rf := kueueObject("ResourceFlavor", "", "probe", map[string]any{})
		err := env.Client.Create(ctx, rf, client.DryRunAll)
		return err == nil, fmt.Sprint(err)
	})
}

// serverVersion is the version the API server reports to Kueue: the control plane in bin/ is built
// from the module proxy without version stamps ("v0.0.0-master+$Format:%H$"), which Kueue v0.17.0
// refuses to parse; it is Kubernetes v1.36.3 (hack/tools/go.mod).
const serverVersion = "v1.36.3"

// versionProxy serves the API server to Kueue on a loopback port: every request is passed on with the
// admin credentials of env, except /version, which reports serverVersion. It returns the path of a
// kubeconfig for it.
func versionProxy(t *testing.T, dir string) string {
	t.Helper()
	target, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = transport
	proxy.FlushInterval = -1 // watches stream
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(version.Info{Major: "1", Minor: "36", GitVersion: serverVersion, Platform: "linux/amd64"})
	})
	addr := util.Serve(t, mux)

	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: "http://" + addr}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	cfg.CurrentContext = "proxy"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// kueueMetricsCertDir is where Kueue v0.17.0 reads its metrics serving certificate when its internal
// certificate management is off: a fixed path (cmd/kueue/main.go), not a setting.
const kueueMetricsCertDir = "/etc/kueue/metrics/certs"

// ensureMetricsCert writes a self-signed certificate to kueueMetricsCertDir unless one is there; Kueue
// exits without it. This is the one file the suite writes outside the repository and its temporary
// directories (it runs as root, as make e2e does).
func ensureMetricsCert(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(kueueMetricsCertDir, "tls.crt")); err == nil {
		return
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(kueueMetricsCertDir, 0o755); err != nil {
		t.Fatalf("Kueue needs a metrics certificate in %s (run as root): %v", kueueMetricsCertDir, err)
	}
	if err := os.WriteFile(filepath.Join(kueueMetricsCertDir, "tls.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kueueMetricsCertDir, "tls.crt"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
}

// registerKueueWebhooks creates Kueue's mutating and validating webhook configurations from its
// manifests, keeping the webhooks for Kueue's own kinds and for SparkApplications (the others are for
// integrations that are off here) and pointing them at url with caBundle.
func registerKueueWebhooks(t *testing.T, manifests, url string, caBundle []byte) {
	t.Helper()
	data, err := os.ReadFile(manifests)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		raw, err := u.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		switch u.GetKind() {
		case "MutatingWebhookConfiguration":
			in := &admissionv1.MutatingWebhookConfiguration{}
			if err := utilyaml.Unmarshal(raw, in); err != nil {
				t.Fatal(err)
			}
			util.Create(t, env.Client, &admissionv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "kueue-" + in.Name},
				Webhooks: keptWebhooks(in.Webhooks, func(w *admissionv1.MutatingWebhook) webhookParts { return webhookParts{w.Rules, &w.ClientConfig} }, url, caBundle)})
		case "ValidatingWebhookConfiguration":
			in := &admissionv1.ValidatingWebhookConfiguration{}
			if err := utilyaml.Unmarshal(raw, in); err != nil {
				t.Fatal(err)
			}
			util.Create(t, env.Client, &admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "kueue-" + in.Name},
				Webhooks: keptWebhooks(in.Webhooks, func(w *admissionv1.ValidatingWebhook) webhookParts { return webhookParts{w.Rules, &w.ClientConfig} }, url, caBundle)})
		}
	}
}

// webhookParts are what keptWebhooks reads and changes of a webhook, mutating or validating.
type webhookParts struct {
	rules        []admissionv1.RuleWithOperations
	clientConfig *admissionv1.WebhookClientConfig
}

// keptWebhooks returns the webhooks (parts gives each one's rules and client configuration) that are
// for Kueue's own kinds or for SparkApplications, pointed at url with caBundle instead of their
// in-cluster Service.
func keptWebhooks[W any](webhooks []W, parts func(*W) webhookParts, url string, caBundle []byte) []W {
	var kept []W
	for i := range webhooks {
		p := parts(&webhooks[i])
		if !slices.ContainsFunc(p.rules, func(r admissionv1.RuleWithOperations) bool {
			return slices.Contains(r.APIGroups, "kueue.x-k8s.io") || slices.Contains(r.APIGroups, v1beta2.GroupVersion.Group)
		}) {
			continue
		}
		u := url + *p.clientConfig.Service.Path
		*p.clientConfig = admissionv1.WebhookClientConfig{URL: &u, CABundle: caBundle}
		kept = append(kept, webhooks[i])
	}
	return kept
}

// startOperator runs the operator's SparkApplication controller over all namespaces until the test
// ends, with short timeouts as in the controller suite.
func startOperator(t *testing.T) {
	t.Helper()
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, nil, nil)
	operatortest.Run(t, mgr, operatortest.Controllers{SparkApplication: &sparkapplication.Options{
		DriverPodCreationGracePeriod: 5 * time.Second,
		ImagePullTimeout:             time.Minute,
		MaxConcurrentReconciles:      4,
	}})
}

// kueueObject is a kueue.x-k8s.io/v1beta2 object (Kueue's Go API is not a dependency of the
// operator's module, so its objects are unstructured here).
func kueueObject(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
	}}
	if ns != "" {
		u.SetNamespace(ns)
	}
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}
