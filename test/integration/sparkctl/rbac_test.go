package sparkctl_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// sparkctlRules are the permissions docs/sparkctl.md says a sparkctl user needs in a namespace.
var sparkctlRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"sparkoperator.k8s.io"}, Resources: []string{"sparkapplications"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}},
	{APIGroups: []string{"sparkoperator.k8s.io"}, Resources: []string{"scheduledsparkapplications"}, Verbs: []string{"get", "list", "watch", "create", "patch"}},
	{APIGroups: []string{""}, Resources: []string{"pods", "services"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"pods/portforward"}, Verbs: []string{"get", "create"}},
	{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
}

// TestLeastPrivilege runs sparkctl as a service account that has only the documented Role, through
// the API server's RBAC authorizer: every command works in its namespace, and listing all
// namespaces is refused with a hint.
func TestLeastPrivilege(t *testing.T) {
	ns := env.ParallelNamespace(t, startOperator)
	ctx := context.Background()
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "analyst", Namespace: ns}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "sparkctl", Namespace: ns}, Rules: sparkctlRules},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "sparkctl", Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "sparkctl"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "analyst", Namespace: ns}}},
	} {
		util.Create(t, env.Client, obj)
	}
	cfg, err := env.ServiceAccountConfig(ctx, ns, "analyst")
	if err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["analyst"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["analyst"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "analyst", Namespace: ns}
	kc.CurrentContext = "analyst"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	as := func(args ...string) result {
		t.Helper()
		return sparkctlRun(t, "", "", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	}
	ok := func(args ...string) string {
		t.Helper()
		r := as(args...)
		if r.err != nil {
			t.Fatalf("sparkctl %s as analyst: %v\n%s", strings.Join(args, " "), r.err, r.errOut)
		}
		return r.out
	}

	ok("create", "-f", writeManifest(t, wrappers.MakeSparkApplication("limited", "").Obj()))
	util.WaitForState(t, env.Client, ns, "limited", v1beta2.ApplicationStateSubmitted)
	runDriver(t, ns, "limited-driver")
	util.WaitForState(t, env.Client, ns, "limited", v1beta2.ApplicationStateRunning)
	kubelet(t).WriteLog(ns, "limited-driver", "spark-kubernetes-driver", "hello from the driver\n")
	mustContain(t, "list", ok("list"), "limited", "RUNNING")
	mustContain(t, "status", ok("status", "limited"), "Spark UI:", "service limited-ui-svc", "SparkDriverRunning")
	mustContain(t, "event", ok("event", "limited"), "SparkApplicationSubmitted")
	mustContain(t, "log", ok("log", "limited"), "hello from the driver")

	ui := startUI(t)
	kubelet(t).Forward(ns, "limited-driver", 4040, ui)
	fwd := sparkctlStart(t, ns, "--kubeconfig", kubeconfig, "forward", "limited", "--local-port", "0")
	framework.WaitFor(t, 15*time.Second, "the port forward as analyst", func() (bool, string) {
		return strings.Contains(fwd.out.String(), "http://localhost:"), fwd.out.String() + fwd.errOut.String()
	})
	_ = fwd.stop(t)

	mustContain(t, "suspend", ok("suspend", "limited"), "suspended")
	mustContain(t, "resume", ok("resume", "limited"), "resumed")
	mustContain(t, "rerun", ok("rerun", "limited", "--force"), "rerun requested")
	sched := wrappers.MakeScheduledSparkApplication("nightly", "").Schedule("@daily").Obj()
	mustContain(t, "create scheduled", ok("create", "-f", writeManifest(t, sched)), "scheduledsparkapplication.sparkoperator.k8s.io/nightly created")
	mustContain(t, "trigger", ok("trigger", "nightly"), "triggered")
	mustContain(t, "delete", ok("delete", "limited"), "deleted")

	r := as("list", "-A")
	if r.err == nil || !strings.Contains(r.err.Error(), "forbidden") {
		t.Errorf("list -A as a namespaced user: %v", r.err)
	}
}
