package framework

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultControllers is the set of kube-controller-manager controllers that WithControllerManager
// runs when given none: the garbage collector (cascading deletion through ownerReferences) and the
// namespace controller (so that deleted namespaces, and what they hold, really go away).
//
// Other useful ones: "serviceaccount-controller" (creates the "default" ServiceAccount of each
// namespace) and "serviceaccount-token-controller". envtest's kube-apiserver runs without the
// ServiceAccount admission plugin, so Pods do not need their ServiceAccount to exist.
var DefaultControllers = []string{"garbage-collector-controller", "namespace-controller"}

// controllerManager is a kube-controller-manager process run against an envtest API server.
type controllerManager struct {
	*Process
	controllers []string
}

// startControllerManager starts <assets>/kube-controller-manager with the environment's admin
// kubeconfig. It returns once the process has started; see waitForGarbageCollector for readiness.
func startControllerManager(env *Env, controllers, extraArgs []string, out io.Writer) (*controllerManager, error) {
	bin := filepath.Join(env.AssetsDir, "kube-controller-manager")
	if override := os.Getenv("TEST_ASSET_KUBE_CONTROLLER_MANAGER"); override != "" {
		bin = override
	}
	apiServer := env.Environment.ControlPlane.GetAPIServer()

	// The API server verifies service-account tokens with the public half of envtest's
	// sa-signer key pair; the token controller signs with the private half.
	saKey := filepath.Join(apiServer.CertDir, "sa-signer.key")
	caFile := filepath.Join(env.workDir, "ca.crt")
	if err := os.WriteFile(caFile, env.Config.CAData, 0o600); err != nil {
		return nil, err
	}

	args := []string{
		"--kubeconfig=" + env.Kubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		// Every controller uses the admin credentials of --kubeconfig: there is no RBAC bootstrap
		// of per-controller service accounts to rely on.
		"--use-service-account-credentials=false",
		// No HTTPS endpoint (healthz/metrics): nothing scrapes it, and it would need a free port
		// and delegated authentication.
		"--secure-port=0",
		"--service-account-private-key-file=" + saKey,
		"--root-ca-file=" + caFile,
		"--v=0",
	}
	args = append(args, extraArgs...)

	var w io.Writer
	if out != nil {
		w = out
	} else if os.Getenv("KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT") == "true" {
		w = os.Stderr
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = w
	p, err := StartProcess("kube-controller-manager", filepath.Join(env.workDir, "kube-controller-manager.log"), cmd)
	if err != nil {
		return nil, err
	}
	return &controllerManager{Process: p, controllers: controllers}, nil
}

// runs reports whether the controller manager runs a controller known by any of names
// (kube-controller-manager accepts both canonical names and older aliases).
func (k *controllerManager) runs(names ...string) bool {
	for _, c := range k.controllers {
		if c == "*" || slices.Contains(names, c) {
			return true
		}
	}
	return false
}

// waitForGarbageCollector returns once the garbage collector has deleted a ConfigMap whose owner
// was deleted, which proves that it has synced its object graph and is processing events.
func (k *controllerManager) waitForGarbageCollector(ctx context.Context, c client.Client) error {
	suffix := rand.String(5)
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "framework-gc-probe-owner-" + suffix, Namespace: metav1.NamespaceDefault,
	}}
	if err := c.Create(ctx, owner); err != nil {
		return fmt.Errorf("garbage collector probe: %w", err)
	}
	dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "framework-gc-probe-dependent-" + suffix, Namespace: metav1.NamespaceDefault,
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
		}},
	}}
	if err := c.Create(ctx, dependent); err != nil {
		return fmt.Errorf("garbage collector probe: %w", err)
	}
	if err := c.Delete(ctx, owner); err != nil {
		return fmt.Errorf("garbage collector probe: %w", err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-k.Done():
			return fmt.Errorf("kube-controller-manager exited (%v); its log ends with:\n%s", k.Err(), k.LogTail(30))
		case <-ctx.Done():
			_ = c.Delete(context.Background(), dependent)
			return fmt.Errorf("kube-controller-manager's garbage collector did not delete a dependent object in time (%w); log %s ends with:\n%s",
				ctx.Err(), k.LogPath, k.LogTail(30))
		case <-tick.C:
		}
	}
}
