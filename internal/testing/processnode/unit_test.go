package processnode

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestExpand(t *testing.T) {
	vals := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"plain":         "plain",
		"$(A)":          "1",
		"x$(A)y$(B)z":   "x1ytwoz",
		"$(MISSING)":    "$(MISSING)",
		"$$(A)":         "$(A)",
		"$$":            "$",
		"a$b":           "a$b",
		"$(A":           "$(A",
		"trailing $":    "trailing $",
		"$(A)$(A)$$(B)": "11$(B)",
	} {
		if got := expand(in, vals); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	img := &Image{Entrypoint: []string{"/opt/entrypoint.sh"}, Cmd: []string{"default"}}
	env := []string{"IP=127.16.0.2", "X=$(IP)"}
	for _, tc := range []struct {
		name    string
		command []string
		args    []string
		want    []string
	}{
		{"image defaults, not expanded", nil, nil, []string{"/opt/entrypoint.sh", "default"}},
		{"args replace cmd and are expanded", nil, []string{"driver", "--ip=$(IP)"}, []string{"/opt/entrypoint.sh", "driver", "--ip=127.16.0.2"}},
		{"command drops the image's cmd", []string{"sh", "-c", "echo $(IP)"}, nil, []string{"sh", "-c", "echo 127.16.0.2"}},
		{"command and args", []string{"java"}, []string{"$(NOPE)", "$$(IP)"}, []string{"java", "$(NOPE)", "$(IP)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := commandLine(&corev1.Container{Command: tc.command, Args: tc.args}, img, env)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainerEnv(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"k": "from-cm", "E1": "e1"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"pw": []byte("hunter2")}}
	client := fake.NewClientset(cm, secret)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1", Labels: map[string]string{"spark-role": "driver"}},
		Spec:       corev1.PodSpec{NodeName: "n1", ServiceAccountName: "spark"},
	}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{
			{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
			{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}},
			{Prefix: "NO_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptrBool(true)}},
		},
		Env: []corev1.EnvVar{
			{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "BIND", Value: "$(IP):7078"},
			{Name: "ROLE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['spark-role']"}}},
			{Name: "K", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}},
			{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "pw"}}},
			{Name: "OPT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "x", Optional: ptrBool(true)}}},
			{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "SPARK_HOME", Value: "/override"},
		},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("896Mi")}},
	}
	img := &Image{Env: []string{"SPARK_HOME=/opt/spark", "PATH=/usr/bin"}}
	env, err := containerEnv(context.Background(), client, pod, c, img, "127.16.0.9", "127.0.0.1", 443)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, want := range map[string]string{
		"IP": "127.16.0.9", "BIND": "127.16.0.9:7078", "ROLE": "driver", "K": "from-cm", "PW": "hunter2",
		"MEM": "896", "SPARK_HOME": "/override", "PATH": "/usr/bin", "CM_E1": "e1", "S_pw": "hunter2", "HOSTNAME": "p",
		"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	if _, ok := got["OPT"]; ok {
		t.Errorf("an optional key of a missing secret was set")
	}

	c.Env = append(c.Env, corev1.EnvVar{Name: "BAD", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "missing"}}})
	if _, err := containerEnv(context.Background(), client, pod, c, img, "127.16.0.9", "127.0.0.1", 443); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing required key: err = %v, want one naming the key", err)
	}
}

func ptrBool(b bool) *bool { return &b }

func TestImageResolve(t *testing.T) {
	homes := map[string]string{}
	for _, v := range []string{"3.5.3", "3.5.1", "4.0.1"} {
		homes[v] = filepath.Join(t.TempDir(), v)
		if err := os.MkdirAll(filepath.Join(homes[v], "jars"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := newImageStore(ImageConfig{
		SparkHomes: homes,
		Binaries:   map[string]string{"spark-operator": "/bin/true"},
		HostImages: []string{"busybox"},
	}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"spark:3.5.3":                          "processnode://spark/3.5.3",
		"apache/spark:3.5.0-python3":           "processnode://spark/3.5.3", // newest 3.5
		"docker.io/library/spark:4.0.1-java17": "processnode://spark/4.0.1",
		"gcr.io/x/spark-py:v3.5.1":             "processnode://spark/3.5.1",
		"ghcr.io/sparkop/spark-operator:1.0":   "processnode://binary/true",
		"busybox:1.36":                         "processnode://host",
		"registry:5000/busybox@sha256:abc":     "processnode://host",
	} {
		img, err := s.Resolve(ref)
		if err != nil {
			t.Errorf("Resolve(%q): %v", ref, err)
			continue
		}
		if img.ID != want {
			t.Errorf("Resolve(%q) = %s, want %s", ref, img.ID, want)
		}
	}
	for _, ref := range []string{"spark:3.4.1", "spark:latest", "nginx:1", "myspark:3.5.3"} {
		if _, err := s.Resolve(ref); err == nil {
			t.Errorf("Resolve(%q) succeeded, want ErrImageNotFound", ref)
		}
	}
	img, _ := s.Resolve("spark:3.5.3")
	if img.WorkingDir != "/opt/spark/work-dir" || img.Entrypoint[0] != "/opt/entrypoint.sh" {
		t.Errorf("the Spark image's config differs from the stock image's: %+v", img)
	}
}

func TestPodField(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns",
		Labels: map[string]string{"b": "2", "a": "1"}, Annotations: map[string]string{"x/y": "z"}}}
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.labels": "a=\"1\"\nb=\"2\"", "metadata.annotations['x/y']": "z",
		"status.podIP": "127.16.0.5", "status.hostIP": "127.0.0.1",
	} {
		got, err := podField(pod, path, "127.16.0.5")
		if err != nil || got != want {
			t.Errorf("podField(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := podField(pod, "spec.nope", ""); err == nil {
		t.Error("an unknown field path was accepted")
	}
}

func TestWriteLogs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	content := "2026-01-01T00:00:01Z stdout F one\n" +
		"2026-01-01T00:00:02Z stderr P two-\n" +
		"2026-01-01T00:00:02Z stderr F half\n" +
		"2026-01-01T00:00:03Z stdout F three\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts logOptions
		want string
	}{
		{"all", logOptions{tail: -1, limit: -1}, "one\ntwo-half\nthree\n"},
		{"tail", logOptions{tail: 1, limit: -1}, "three\n"},
		{"timestamps", logOptions{tail: 1, limit: -1, timestamps: true}, "2026-01-01T00:00:03Z three\n"},
		{"limit", logOptions{tail: -1, limit: 6}, "one\ntw"},
		{"since", logOptions{tail: -1, limit: -1, since: time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)}, "three\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var b strings.Builder
			if err := writeLogs(context.Background(), &b, f, tc.opts, false, nil); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestSparkEntrypointIsBash(t *testing.T) {
	if !strings.HasPrefix(string(sparkEntrypoint), "#!/bin/bash\n") {
		t.Fatal("entrypoint.sh must start with a bash shebang")
	}
}

// FuzzExpand: expansion never panics, and text without "$" is left alone.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"$(A)", "$$(A)", "$(", "$", "a$(B)c$$", "$(A)$(MISSING"} {
		f.Add(s)
	}
	vals := map[string]string{"A": "x", "B": "$(A)"}
	f.Fuzz(func(t *testing.T, s string) {
		got := expand(s, vals)
		if !strings.Contains(s, "$") && got != s {
			t.Fatalf("expand(%q) = %q", s, got)
		}
	})
}

// FuzzSplitImageRef: the repository and tag put back together give the reference (less digest).
func FuzzSplitImageRef(f *testing.F) {
	for _, s := range []string{"spark:3.5.3", "registry:5000/a/b", "a/b:c@sha256:00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		repo, tag := splitImageRef(ref)
		base, _, _ := strings.Cut(ref, "@")
		if base != repo && base != repo+":"+tag {
			t.Fatalf("splitImageRef(%q) = %q, %q", ref, repo, tag)
		}
	})
}

// An image that repeats a key in its ENV does not upset the ordering of the kubelet's variables.
func TestContainerEnvRepeatedImageKey(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	img := &Image{Env: []string{"PATH=/a", "PATH=/b", "LANG=C"}}
	env, err := containerEnv(context.Background(), fake.NewClientset(), pod, &corev1.Container{}, img, "127.16.0.1", "127.0.0.1", 443)
	if err != nil {
		t.Fatal(err)
	}
	if env[0] != "PATH=/b" || env[1] != "LANG=C" {
		t.Errorf("env = %v, want the image's keys first, the last value winning", env)
	}
}
