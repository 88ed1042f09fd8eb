package framework

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// ServiceAccountConfig returns a REST config that authenticates as the service account
// namespace/name with a token from the TokenRequest API (valid for an hour), and nothing else: no
// client certificate, so every request is authorized by the API server's RBAC authorizer (envtest
// runs kube-apiserver with --authorization-mode=RBAC), exactly as for a pod running as that service
// account. The service account must exist. Use it to run code, such as the operator, with the
// permissions an installation grants instead of as admin.
func (e *Env) ServiceAccountConfig(ctx context.Context, namespace, name string) (*rest.Config, error) {
	sa := &corev1.ServiceAccount{}
	sa.Namespace, sa.Name = namespace, name
	req := &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}
	if err := e.Client.SubResource("token").Create(ctx, sa, req); err != nil {
		return nil, fmt.Errorf("requesting a token for service account %s/%s: %w", namespace, name, err)
	}
	if req.Status.Token == "" {
		return nil, fmt.Errorf("the TokenRequest for service account %s/%s returned no token", namespace, name)
	}
	return &rest.Config{
		Host:            e.Config.Host,
		APIPath:         e.Config.APIPath,
		BearerToken:     req.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.Config.CAData, ServerName: e.Config.ServerName},
		QPS:             e.Config.QPS,
		Burst:           e.Config.Burst,
		UserAgent:       "framework-serviceaccount/" + namespace + "/" + name,
	}, nil
}

// ServiceAccountUser is the user name the API server gives to service account namespace/name, as
// used in RBAC subjects and in SubjectAccessReviews.
func ServiceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}
