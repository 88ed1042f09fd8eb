// Package metrics_test checks the metrics server options of `controller start` and `webhook start`
// (operatorcmd.MetricsServerOptions) against a real API server: --secure-metrics lets only
// authenticated and authorized callers read the metrics, and --metrics-endpoint serves another path.
package metrics_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/operatorcmd"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

func TestSecureMetrics(t *testing.T) {
	env := framework.Start(t, framework.WithScheme(v1beta2.AddToScheme))
	ctx := context.Background()
	ns := env.NewNamespace(t)
	// The operator's service account may review tokens and access; the scraper may GET /metrics;
	// the stranger may not.
	for _, sa := range []string{"operator", "scraper", "stranger"} {
		util.Create(t, env.Client, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}})
	}
	grant := func(name, user string, rules ...rbacv1.PolicyRule) {
		util.Create(t, env.Client, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name}, Rules: rules})
		if err := env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ns + "-" + name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: user}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	grant("operator", "operator",
		rbacv1.PolicyRule{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		rbacv1.PolicyRule{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}})
	grant("scraper", "scraper", rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics", "/spark-metrics"}, Verbs: []string{"get"}})
	token := func(sa string) string {
		cfg, err := env.ServiceAccountConfig(ctx, ns, sa)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.BearerToken
	}
	operatorCfg, err := env.ServiceAccountConfig(ctx, ns, "operator")
	if err != nil {
		t.Fatal(err)
	}
	addr := util.FreeAddr(t)
	mgr := operatortest.NewManager(t, operatorCfg, env.Scheme, []string{ns}, func(o *ctrl.Options) {
		o.Metrics = operatorcmd.MetricsServerOptions(addr, "/spark-metrics", true, false)
	})
	operatortest.Start(t, mgr)

	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path, bearer string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	scraper := token("scraper")
	framework.WaitFor(t, 30*time.Second, "the secure metrics server", func() (bool, string) {
		code, _, err := get("/metrics", scraper)
		return err == nil && code == http.StatusOK, fmt.Sprint(code, err)
	})
	for _, path := range []string{"/metrics", "/spark-metrics"} {
		if code, body, _ := get(path, scraper); code != http.StatusOK || !strings.Contains(body, "# TYPE") {
			t.Errorf("authorized GET %s: %d", path, code)
		}
		if code, _, _ := get(path, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", path, code)
		}
		if code, _, _ := get(path, token("stranger")); code != http.StatusForbidden {
			t.Errorf("GET %s by an unauthorized service account: %d, want 403", path, code)
		}
	}
	// Plain HTTP is not served.
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("metrics served over plain HTTP")
		}
	}
}
