package webhook

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// CertFiles copies the serving certificate from a Secret into the files the webhook server reads,
// so that `webhook start` needs no Secret volume (as Kubeflow's webhook): Key and CertKey name the
// Secret's entries, KeyName and CertName the files in Dir. When the directory is a read-only mount of
// the Secret, the writes fail and the mount (which the kubelet keeps current) is used as it is.
type CertFiles struct {
	Secret            types.NamespacedName
	SecretCertKey     string
	SecretKeyKey      string
	Dir               string
	CertName, KeyName string
	// Interval between two reads of the Secret; 0 means 10 s.
	Interval time.Duration
}

// Add runs the copy in the manager until it stops: at once, then every Interval. It reads the Secret
// with the manager's API reader (get on one Secret), not a cache.
func (c CertFiles) Add(mgr manager.Manager) error {
	reader := mgr.GetAPIReader()
	log := ctrl.Log.WithName("webhook-cert-files")
	interval := c.Interval
	if interval == 0 {
		interval = 10 * time.Second
	}
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		wait.UntilWithContext(ctx, func(ctx context.Context) {
			if err := c.sync(ctx, reader); err != nil {
				log.V(1).Info("Cannot copy the webhook certificate yet", "secret", c.Secret, "reason", err.Error())
			}
		}, interval)
		return nil
	}))
}

// sync copies the two entries when both are present and differ from the files.
func (c CertFiles) sync(ctx context.Context, reader client.Reader) error {
	s := &corev1.Secret{}
	if err := reader.Get(ctx, c.Secret, s); err != nil {
		return err
	}
	cert, key := s.Data[c.SecretCertKey], s.Data[c.SecretKeyKey]
	if len(cert) == 0 || len(key) == 0 {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	// The key first: the server reloads when the certificate changes.
	for _, f := range []struct {
		name string
		data []byte
	}{{c.KeyName, key}, {c.CertName, cert}} {
		path := filepath.Join(c.Dir, f.name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return nil
}

// WaitForFiles blocks until both files exist in dir, or ctx ends.
func WaitForFiles(ctx context.Context, dir string, names ...string) error {
	return wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(context.Context) (bool, error) {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}
