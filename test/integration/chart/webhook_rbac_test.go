package chart_test

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
)

// TestWebhookRBAC installs the chart with the webhook and checks with SubjectAccessReviews what the
// webhook's service account may do: what Kubeflow's webhook does (its certificate Secret, its Lease,
// the caBundle of its own webhook configurations, events, and reading pods, ResourceQuotas and Spark
// applications of the job namespaces for the quota enforcement), and nothing more: no write to
// Spark applications or pods, no other Secret, Lease or configuration, no other namespace.
func TestWebhookRBAC(t *testing.T) {
	ns, job, other := env.NewNamespace(t), env.NewNamespace(t), env.NewNamespace(t)
	install(t, "wh", ns, []string{job}, "webhook: {enable: true, resourceQuotaEnforcement: {enable: true}}")
	const name = "wh-spark-operator-webhook" // <fullname>-webhook
	user := framework.ServiceAccountUser(ns, name)
	sparkGroup := v1beta2.GroupVersion.Group
	waitAllowed(t, user, ns, authorizationv1.ResourceAttributes{Namespace: job, Verb: "list", Resource: "resourcequotas"})
	waitAllowed(t, user, ns, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "secrets"})
	waitAllowed(t, user, ns, authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Name: name})
	for _, tc := range []struct {
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{authorizationv1.ResourceAttributes{Verb: "get", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Name: name}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: name}, true},
		{authorizationv1.ResourceAttributes{Verb: "watch", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Name: "someone-else"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "events"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: name + "-certs"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Resource: "secrets", Name: name + "-certs"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: "other"}, false},
		{authorizationv1.ResourceAttributes{Namespace: job, Verb: "get", Resource: "secrets", Name: name + "-certs"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: name + "-lock"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "wh-spark-operator-controller-lock"}, false},
		{authorizationv1.ResourceAttributes{Namespace: job, Verb: "watch", Resource: "pods"}, true},
		{authorizationv1.ResourceAttributes{Namespace: job, Verb: "list", Group: sparkGroup, Resource: "sparkapplications"}, true},
		{authorizationv1.ResourceAttributes{Namespace: job, Verb: "get", Group: sparkGroup, Resource: "scheduledsparkapplications"}, true},
		{authorizationv1.ResourceAttributes{Namespace: job, Verb: "update", Group: sparkGroup, Resource: "sparkapplications"}, false},
		{authorizationv1.ResourceAttributes{Namespace: job, Verb: "create", Resource: "pods"}, false},
		{authorizationv1.ResourceAttributes{Namespace: other, Verb: "list", Resource: "pods"}, false},
		{authorizationv1.ResourceAttributes{Namespace: other, Verb: "list", Resource: "resourcequotas"}, false},
		{authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"}, false},
	} {
		if got := allowed(t, user, ns, tc.attrs); got != tc.want {
			t.Errorf("%s %s %s/%s %q in %q: allowed=%v, want %v", user, tc.attrs.Verb, tc.attrs.Group, tc.attrs.Resource, tc.attrs.Name, tc.attrs.Namespace, got, tc.want)
		}
	}
}
