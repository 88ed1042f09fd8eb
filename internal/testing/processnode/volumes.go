package processnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// podVolumes are a pod's volumes on the host: <pod dir>/volumes/<name>, or the host path itself
// for hostPath volumes. Projected service-account tokens are refreshed in the background.
type podVolumes struct {
	paths    map[string]string
	readOnly map[string]bool // volumes the kubelet always mounts read-only
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func (v *podVolumes) stop() {
	if v == nil {
		return
	}
	v.cancel()
	v.wg.Wait()
}

// mounts are the container's volumeMounts as bind mounts, subPath included. A subPath of a
// writable volume is created when missing, as the kubelet does.
func (v *podVolumes) mounts(c *corev1.Container) ([]Mount, error) {
	var out []Mount
	for _, vm := range c.VolumeMounts {
		src, ok := v.paths[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: no volume %q", vm.MountPath, vm.Name)
		}
		if vm.SubPath != "" {
			if strings.Contains(vm.SubPath, "..") || filepath.IsAbs(vm.SubPath) {
				return nil, fmt.Errorf("volumeMount %s: invalid subPath %q", vm.MountPath, vm.SubPath)
			}
			src = filepath.Join(src, vm.SubPath)
			if _, err := os.Stat(src); os.IsNotExist(err) && !v.readOnly[vm.Name] {
				if err := os.MkdirAll(src, 0o777); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, Mount{Kind: "bind", Source: src, Target: vm.MountPath, Recursive: true,
			ReadOnly: vm.ReadOnly || v.readOnly[vm.Name]})
	}
	return out, nil
}

// setupVolumes materialises the pod's volumes under dir. A missing ConfigMap or Secret that is not
// optional is an error to retry, as for the kubelet (the pod stays ContainerCreating).
func setupVolumes(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, dir string) (*podVolumes, error) {
	v := &podVolumes{paths: map[string]string{}, readOnly: map[string]bool{}}
	var refresh []func(context.Context) (time.Duration, error)
	for _, vol := range pod.Spec.Volumes {
		path := filepath.Join(dir, vol.Name)
		v.paths[vol.Name] = path
		if vol.HostPath == nil {
			if err := os.MkdirAll(path, 0o777); err != nil {
				return nil, err
			}
		}
		var err error
		switch src := vol.VolumeSource; {
		case src.EmptyDir != nil:
		case src.HostPath != nil:
			v.paths[vol.Name] = src.HostPath.Path
			t := ptr.Deref(src.HostPath.Type, corev1.HostPathUnset)
			if t == corev1.HostPathDirectoryOrCreate {
				err = os.MkdirAll(src.HostPath.Path, 0o755)
			} else if _, statErr := os.Stat(src.HostPath.Path); statErr != nil && t != corev1.HostPathUnset {
				err = fmt.Errorf("hostPath %s: %w", src.HostPath.Path, statErr)
			}
		case src.ConfigMap != nil:
			v.readOnly[vol.Name] = true
			err = writeConfigMap(ctx, client, pod.Namespace, path, &corev1.ConfigMapProjection{
				LocalObjectReference: src.ConfigMap.LocalObjectReference, Items: src.ConfigMap.Items, Optional: src.ConfigMap.Optional,
			}, src.ConfigMap.DefaultMode)
		case src.Secret != nil:
			v.readOnly[vol.Name] = true
			err = writeSecret(ctx, client, pod.Namespace, path, &corev1.SecretProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: src.Secret.SecretName}, Items: src.Secret.Items, Optional: src.Secret.Optional,
			}, src.Secret.DefaultMode)
		case src.DownwardAPI != nil:
			v.readOnly[vol.Name] = true
			err = writeDownwardAPI(pod, path, src.DownwardAPI.Items, src.DownwardAPI.DefaultMode)
		case src.Projected != nil:
			v.readOnly[vol.Name] = true
			for _, p := range src.Projected.Sources {
				switch {
				case p.ConfigMap != nil:
					err = writeConfigMap(ctx, client, pod.Namespace, path, p.ConfigMap, src.Projected.DefaultMode)
				case p.Secret != nil:
					err = writeSecret(ctx, client, pod.Namespace, path, p.Secret, src.Projected.DefaultMode)
				case p.DownwardAPI != nil:
					err = writeDownwardAPI(pod, path, p.DownwardAPI.Items, src.Projected.DefaultMode)
				case p.ServiceAccountToken != nil:
					tokenSrc, file := p.ServiceAccountToken, filepath.Join(path, p.ServiceAccountToken.Path)
					write := func(ctx context.Context) (time.Duration, error) {
						return writeToken(ctx, client, pod, tokenSrc, file, src.Projected.DefaultMode)
					}
					if _, err = write(ctx); err == nil {
						refresh = append(refresh, write)
					}
				default:
					err = fmt.Errorf("projected volume %s: unsupported source", vol.Name)
				}
				if err != nil {
					break
				}
			}
		default:
			err = fmt.Errorf("volume %s: this volume type is not supported on a process node", vol.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("MountVolume.SetUp failed for volume %q: %w", vol.Name, err)
		}
	}
	ctx, v.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, write := range refresh {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			refreshToken(ctx, write, 10*time.Minute)
		}()
	}
	return v, nil
}

// refreshToken rewrites a projected token at 80% of its lifetime, as the kubelet does.
func refreshToken(ctx context.Context, write func(context.Context) (time.Duration, error), ttl time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(ttl * 8 / 10):
		}
		if next, err := write(ctx); err == nil {
			ttl = next
		} else {
			ttl = time.Minute
		}
	}
}

func fileMode(mode *int32, def int32) os.FileMode {
	if mode != nil {
		return os.FileMode(*mode)
	}
	return os.FileMode(def)
}

func writeFile(dir, rel string, data []byte, mode os.FileMode) error {
	if strings.Contains(rel, "..") || filepath.IsAbs(rel) {
		return fmt.Errorf("invalid path %q", rel)
	}
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func writeConfigMap(ctx context.Context, client kubernetes.Interface, ns, dir string, src *corev1.ConfigMapProjection, defaultMode *int32) error {
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, src.Name, metav1.GetOptions{})
	if skip, err := readErr("configmap "+src.Name, src.Optional, err); skip || err != nil {
		return err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return writeKeys(dir, data, src.Items, src.Optional, defaultMode, "configmap "+src.Name)
}

// readErr judges the error of reading the ConfigMap or Secret of a volume (what is "configmap
// <name>" or "secret <name>"): skip when it is missing and optional, else the error naming it.
func readErr(what string, optional *bool, err error) (skip bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case apierrors.IsNotFound(err) && ptrTrue(optional):
		return true, nil
	}
	kind, name, _ := strings.Cut(what, " ")
	return false, fmt.Errorf("%s %q: %w", kind, name, err)
}

func writeSecret(ctx context.Context, client kubernetes.Interface, ns, dir string, src *corev1.SecretProjection, defaultMode *int32) error {
	s, err := client.CoreV1().Secrets(ns).Get(ctx, src.Name, metav1.GetOptions{})
	if skip, err := readErr("secret "+src.Name, src.Optional, err); skip || err != nil {
		return err
	}
	return writeKeys(dir, s.Data, src.Items, src.Optional, defaultMode, "secret "+src.Name)
}

func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath, optional *bool, defaultMode *int32, what string) error {
	if len(items) == 0 {
		for k, v := range data {
			if err := writeFile(dir, k, v, fileMode(defaultMode, 0o644)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if ptrTrue(optional) {
				continue
			}
			return fmt.Errorf("%s has no key %q", what, it.Key)
		}
		mode := defaultMode
		if it.Mode != nil {
			mode = it.Mode
		}
		if err := writeFile(dir, it.Path, v, fileMode(mode, 0o644)); err != nil {
			return err
		}
	}
	return nil
}

func writeDownwardAPI(pod *corev1.Pod, dir string, items []corev1.DownwardAPIVolumeFile, defaultMode *int32) error {
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = podField(pod, it.FieldRef.FieldPath, pod.Status.PodIP)
		case it.ResourceFieldRef != nil:
			c := &pod.Spec.Containers[0]
			v, err = resourceField(pod, c, it.ResourceFieldRef)
		}
		if err != nil {
			return err
		}
		mode := defaultMode
		if it.Mode != nil {
			mode = it.Mode
		}
		if err := writeFile(dir, it.Path, []byte(v), fileMode(mode, 0o644)); err != nil {
			return err
		}
	}
	return nil
}

// writeToken asks the TokenRequest API for a token of the pod's service account, bound to the
// pod, and writes it; it returns the token's lifetime.
func writeToken(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection,
	file string, defaultMode *int32) (time.Duration, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To(ptr.Deref(src.ExpirationSeconds, 3600)),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	tr, err := client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return 0, fmt.Errorf("token for service account %q: %w", sa, err)
	}
	if err := writeFile(filepath.Dir(file), filepath.Base(file), []byte(tr.Status.Token), fileMode(defaultMode, 0o644)); err != nil {
		return 0, err
	}
	return time.Until(tr.Status.ExpirationTimestamp.Time), nil
}
