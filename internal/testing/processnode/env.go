package processnode

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// containerEnv builds a container's environment as the kubelet and a runtime do: the image's
// ENV, HOSTNAME, the kubernetes Service variables, then envFrom and env in order (later wins),
// with $(VAR) references in env values expanded against what is defined before them.
func containerEnv(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, c *corev1.Container,
	img *Image, podIP, proxyIP string, proxyPort int) ([]string, error) {
	var order []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range img.Env {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	fromImage := len(order) // an image may repeat a key: count what order holds
	set("HOSTNAME", podHostname(pod))
	if _, ok := vals["HOME"]; !ok {
		set("HOME", "/root")
	}
	port := strconv.Itoa(proxyPort)
	for k, v := range map[string]string{
		"KUBERNETES_SERVICE_HOST":       proxyIP,
		"KUBERNETES_SERVICE_PORT":       port,
		"KUBERNETES_SERVICE_PORT_HTTPS": port,
		"KUBERNETES_PORT":               "tcp://" + proxyIP + ":" + port,
		"KUBERNETES_PORT_443_TCP":       "tcp://" + proxyIP + ":" + port,
		"KUBERNETES_PORT_443_TCP_PROTO": "tcp",
		"KUBERNETES_PORT_443_TCP_PORT":  port,
		"KUBERNETES_PORT_443_TCP_ADDR":  proxyIP,
	} {
		set(k, v)
	}
	// The kubelet's variables are not ordered; keep them stable.
	sort.Strings(order[fromImage:])

	// configMapData and secretData read the data of a ConfigMap or a Secret (as strings) of the
	// pod's namespace, each object once, for envFrom and the env vars' key references.
	configMapData := memo(func(name string) (map[string]string, error) {
		cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return cm.Data, nil
	})
	secretData := memo(func(name string) (map[string]string, error) {
		s, err := client.CoreV1().Secrets(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		data := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
		return data, nil
	})
	for _, from := range c.EnvFrom {
		var (
			what     string
			optional *bool
			data     map[string]string
			err      error
		)
		switch {
		case from.ConfigMapRef != nil:
			what, optional = "configmap "+from.ConfigMapRef.Name, from.ConfigMapRef.Optional
			data, err = configMapData(from.ConfigMapRef.Name)
		case from.SecretRef != nil:
			what, optional = "secret "+from.SecretRef.Name, from.SecretRef.Optional
			data, err = secretData(from.SecretRef.Name)
		default:
			continue
		}
		if skip, err := readErr(what, optional, err); err != nil {
			return nil, err
		} else if skip {
			continue
		}
		for _, k := range sortedKeys(data) {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vals))
			continue
		}
		v, skip, err := envValueFrom(pod, c, e.ValueFrom, podIP, configMapData, secretData)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if !skip {
			set(e.Name, v)
		}
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, nil
}

func ptrTrue(b *bool) bool { return b != nil && *b }

// memo returns get, remembering the object it returns for each name (errors are not remembered),
// so that a container's environment reads each ConfigMap or Secret once.
func memo[T any](get func(name string) (T, error)) func(name string) (T, error) {
	seen := map[string]T{}
	return func(name string) (T, error) {
		if v, ok := seen[name]; ok {
			return v, nil
		}
		v, err := get(name)
		if err == nil {
			seen[name] = v
		}
		return v, err
	}
}

// keyRef is the value of key in the data (get(name)) of the ConfigMap or Secret ns/name (kind
// says which), as the kubelet resolves an env var's configMapKeyRef or secretKeyRef: skip is set
// when optional and the object or the key is missing; otherwise a missing one is an error worded
// as the kubelet's.
func keyRef(kind, ns, name, key string, optional *bool, get func(name string) (map[string]string, error)) (v string, skip bool, err error) {
	data, err := get(name)
	if err != nil {
		if apierrors.IsNotFound(err) && ptrTrue(optional) {
			return "", true, nil
		}
		return "", false, fmt.Errorf("%s %q: %w", strings.ToLower(kind), name, err)
	}
	v, ok := data[key]
	if !ok {
		if ptrTrue(optional) {
			return "", true, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in %s %s/%s", key, kind, ns, name)
	}
	return v, false, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func envValueFrom(pod *corev1.Pod, c *corev1.Container, from *corev1.EnvVarSource, podIP string,
	configMapData, secretData func(name string) (map[string]string, error)) (string, bool, error) {
	switch {
	case from.FieldRef != nil:
		v, err := podField(pod, from.FieldRef.FieldPath, podIP)
		return v, false, err
	case from.ResourceFieldRef != nil:
		v, err := resourceField(pod, c, from.ResourceFieldRef)
		return v, false, err
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		return keyRef("ConfigMap", pod.Namespace, ref.Name, ref.Key, ref.Optional, configMapData)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		return keyRef("Secret", pod.Namespace, ref.Name, ref.Key, ref.Optional, secretData)
	}
	return "", false, fmt.Errorf("unsupported valueFrom")
}

// podField resolves a downward-API field path (metadata.name, metadata.labels['k'], status.podIP...).
func podField(pod *corev1.Pod, path, podIP string) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return "127.0.0.1", nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

func subscript(path, prefix string) (string, bool) {
	if !strings.HasPrefix(path, prefix+"['") || !strings.HasSuffix(path, "']") {
		return "", false
	}
	return path[len(prefix)+2 : len(path)-2], true
}

// formatMap renders labels or annotations as the downward API does: key="value" lines, sorted.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// resourceField resolves limits.cpu, requests.memory etc. of a container, divided by the divisor
// and rounded up; an unset limit is the node's allocatable, as in the kubelet.
func resourceField(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if ref.ContainerName != "" {
		target = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				target = &pod.Spec.Containers[i]
			}
		}
		if target == nil {
			return "", fmt.Errorf("no container %q", ref.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	list := target.Resources.Limits
	if kind == "requests" {
		list = target.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		if kind == "requests" {
			return "0", nil
		}
		q = resource.MustParse("32")
		if name == "memory" {
			q = resource.MustParse("64Gi")
		}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == "cpu" {
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}

// expand replaces $(VAR) with the value of VAR when it is defined, keeps it as written otherwise,
// and turns $$ into $, as Kubernetes does for env values, command and args.
func expand(s string, vals map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vals[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// commandLine is the argv of a container: command overrides the image's entrypoint, args its cmd
// (and a command without args drops the image's cmd), with $(VAR) expanded from the env.
func commandLine(c *corev1.Container, img *Image, env []string) []string {
	vals := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	var argv []string
	switch {
	case len(c.Command) > 0:
		argv = append(argv, c.Command...)
		argv = append(argv, c.Args...)
	case len(c.Args) > 0:
		argv = append(append(argv, img.Entrypoint...), c.Args...)
	default:
		argv = append(append(argv, img.Entrypoint...), img.Cmd...)
	}
	for i := range argv {
		if i < len(argv)-len(c.Args) && len(c.Command) == 0 {
			continue // from the image: not expanded
		}
		argv[i] = expand(argv[i], vals)
	}
	return argv
}
