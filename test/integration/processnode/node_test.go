// Package processnode_test runs the process node (internal/testing/processnode) against a real
// kube-apiserver: pods as processes, their lifecycle, probes, services and the pod network.
package processnode_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/processnode"
)

var env *framework.Env

// TestMain: the test binary is also each container's init (processnode.MaybeRunInit), and the
// tests share one API server (envtest, no scheduler: pods name their node).
func TestMain(m *testing.M) {
	processnode.MaybeRunInit()
	if os.Geteuid() != 0 {
		fmt.Println("processnode tests need root (mount namespaces); skipping")
		os.Exit(0)
	}
	os.Exit(framework.RunMain(m, &env))
}

// startNode runs a process node with a node of its own for the test, on free ports.
// startNode starts a process node for the test; opts change its Config.
func startNode(t *testing.T, opts ...func(*processnode.Config)) (string, *kubernetes.Clientset) {
	t.Helper()
	clientset, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	name := "pn-" + rand.String(6)
	cfg := processnode.Config{
		Client:              clientset,
		APIServer:           u.Host,
		NodeNames:           []string{name},
		StateDir:            t.TempDir(),
		ServiceProxyAddress: "127.0.0.1:0",
		KubeletAddress:      "127.0.0.1:0",
		PodIPBlock:          100 + rand.Intn(50),
		Images:              processnode.ImageConfig{HostImages: []string{"busybox"}},
		Log:                 testr.New(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	node, err := processnode.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node.Run: %v", err)
		}
	})
	waitFor(t, 30*time.Second, "the node to be Ready", func() bool {
		n, err := clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
	return name, clientset
}

// waitFor is framework.WaitFor for conditions that have nothing to say about what they saw.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	framework.WaitFor(t, timeout, what, func() (bool, string) { return cond(), "" })
}

func shellPod(ns, name, node, script string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName:      node,
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: "busybox:1.36", Command: []string{"sh", "-c", script},
			}},
		},
	}
}

func waitForPhase(t *testing.T, cs *kubernetes.Clientset, ns, name string, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitFor(t, 60*time.Second, fmt.Sprintf("pod %s to be %s", name, phase), func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		pod = p
		return p.Status.Phase == phase
	})
	return pod
}

func logsOf(t *testing.T, cs *kubernetes.Clientset, ns, name string, opts *corev1.PodLogOptions) string {
	t.Helper()
	data, err := cs.CoreV1().Pods(ns).GetLogs(name, opts).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("logs of %s through the API server: %v", name, err)
	}
	return string(data)
}

// A pod's container runs as a process with its env, volumes, hosts file and host name, reports
// Succeeded with exit code 0, and its log is served through the API server.
func TestPodRunsAsProcess(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "conf"}, Data: map[string]string{"spark.properties": "spark.app.name=x\n"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := shellPod(ns, "runs", node, `echo "ip=$POD_IP host=$(hostname) ns=$NS"; cat /opt/spark/conf/spark.properties;
echo data > /data/f && cat /data/f; grep -c kubernetes.default.svc /etc/hosts; echo "$(cat /podinfo/name)"; touch /opt/spark/conf/x 2>/dev/null || echo read-only`)
	c := &pod.Spec.Containers[0]
	c.Env = []corev1.EnvVar{
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "conf", MountPath: "/opt/spark/conf"}, {Name: "data", MountPath: "/data"}, {Name: "info", MountPath: "/podinfo"}}
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}}}},
		{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitForPhase(t, cs, ns, "runs", corev1.PodSucceeded)
	if ip := got.Status.PodIP; !strings.HasPrefix(ip, "10.") && !strings.HasPrefix(ip, "127.") {
		t.Errorf("podIP = %q, want one of the pod network (10.<block>.x.y) or, as a fallback, a loopback address", ip)
	}
	term := got.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("container state = %+v, want terminated with exit code 0", got.Status.ContainerStatuses[0].State)
	}
	log := logsOf(t, cs, ns, "runs", &corev1.PodLogOptions{})
	for _, want := range []string{"ip=" + got.Status.PodIP + " host=runs ns=" + ns, "spark.app.name=x", "data\n", "1\n", "runs\n", "read-only"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// A container that exits 3 under OnFailure is restarted with the kubelet's back-off; the status
// keeps the last termination and the restart count.
func TestRestartOnFailure(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	pod := shellPod(ns, "retry", node, `if [ -f /data/ran ]; then echo second; exit 0; fi; touch /data/ran; echo first; exit 3`)
	pod.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitForPhase(t, cs, ns, "retry", corev1.PodSucceeded)
	st := got.Status.ContainerStatuses[0]
	if st.RestartCount != 1 || st.LastTerminationState.Terminated == nil || st.LastTerminationState.Terminated.ExitCode != 3 {
		t.Errorf("restartCount %d, last state %+v; want 1 restart after exit code 3", st.RestartCount, st.LastTerminationState)
	}
	if log := logsOf(t, cs, ns, "retry", &corev1.PodLogOptions{Previous: true}); !strings.Contains(log, "first") {
		t.Errorf("previous log = %q, want the first run's", log)
	}
	if log := logsOf(t, cs, ns, "retry", &corev1.PodLogOptions{}); !strings.Contains(log, "second") {
		t.Errorf("log = %q, want the second run's", log)
	}
}

// Failed pods report the container's exit code; unknown images wait with ErrImagePull.
func TestFailureAndImagePullError(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, shellPod(ns, "fails", node, "exit 7"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	noImage := shellPod(ns, "noimage", node, "true")
	noImage.Spec.Containers[0].Image = "example.com/not-here:1"
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, noImage, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitForPhase(t, cs, ns, "fails", corev1.PodFailed)
	if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 7 || term.Reason != "Error" {
		t.Errorf("state = %+v, want terminated with exit code 7", got.Status.ContainerStatuses[0].State)
	}
	waitFor(t, 30*time.Second, "ErrImagePull", func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "noimage", metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		w := p.Status.ContainerStatuses[0].State.Waiting
		return w != nil && w.Reason == "ErrImagePull" && p.Status.Phase == corev1.PodPending
	})
}

// Deletion sends SIGTERM, waits the grace period, then SIGKILLs; the pod is then removed.
func TestGracefulDeletion(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	for name, script := range map[string]string{
		"polite":   `trap 'echo got TERM; exit 0' TERM; echo started; while true; do sleep 0.1; done`,
		"stubborn": `trap '' TERM; echo started; while true; do sleep 0.1; done`,
	} {
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, shellPod(ns, name, node, script), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"polite", "stubborn"} {
		waitForPhase(t, cs, ns, name, corev1.PodRunning)
		// Running means the process started; its trap is set once it says so.
		waitFor(t, 30*time.Second, name+" to set its trap", func() bool {
			data, err := cs.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
			return err == nil && strings.Contains(string(data), "started")
		})
	}
	start := time.Now()
	for _, name := range []string{"polite", "stubborn"} {
		if err := cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](3)}); err != nil {
			t.Fatal(err)
		}
	}
	gone := map[string]time.Duration{}
	waitFor(t, 30*time.Second, "both pods to go", func() bool {
		for _, name := range []string{"polite", "stubborn"} {
			if _, ok := gone[name]; ok {
				continue
			}
			if _, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				gone[name] = time.Since(start)
			}
		}
		return len(gone) == 2
	})
	if gone["polite"] > 2500*time.Millisecond {
		t.Errorf("the pod that exits on SIGTERM took %s to go", gone["polite"])
	}
	if gone["stubborn"] < 2500*time.Millisecond {
		t.Errorf("the pod that ignores SIGTERM went after %s, before its 3 s grace period", gone["stubborn"])
	}
}

// A Service's name resolves, in other pods, to the IP of the pod it selects; the projected
// service-account token comes from the TokenRequest API and authenticates through
// kubernetes.default.svc.
func TestServicesAndServiceAccountToken(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "driver-svc"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "server"},
			Ports: []corev1.ServicePort{{Name: "driver-rpc-port", Port: 7078}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, shellPod(ns, "server", node, "sleep 60"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	server := waitForPhase(t, cs, ns, "server", corev1.PodRunning)

	client := shellPod(ns, "client", node, `for i in $(seq 1 50); do getent hosts driver-svc.`+ns+`.svc && break; sleep 0.2; done
curl -sk -X POST -H "Authorization: Bearer $(cat /var/run/secrets/tokens/token)" -H 'Content-Type: application/json' \
  -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
  https://kubernetes.default.svc:$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews`)
	client.Spec.ServiceAccountName = "spark"
	client.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "tokens", MountPath: "/var/run/secrets/tokens"}}
	client.Spec.Volumes = []corev1.Volume{{Name: "tokens", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3600)}}},
	}}}}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, client, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForPhase(t, cs, ns, "client", corev1.PodSucceeded)
	log := logsOf(t, cs, ns, "client", &corev1.PodLogOptions{})
	if !strings.Contains(log, server.Status.PodIP+" ") || !strings.Contains(log, "driver-svc."+ns+".svc") {
		t.Errorf("driver-svc.%s.svc did not resolve to the server pod's IP %s:\n%s", ns, server.Status.PodIP, log)
	}
	if want := framework.ServiceAccountUser(ns, "spark"); !strings.Contains(log, want) {
		t.Errorf("the token did not authenticate as %s:\n%s", want, log)
	}
}

// A container with a readiness probe is Running but not Ready until the probe passes.
func TestReadinessProbe(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	// Listens on the pod IP's port 8080 two seconds after it starts.
	pod := shellPod(ns, "probed", node, `sleep 2; exec perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "$ENV{POD_IP}:8080", Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { close $c }'`)
	c := &pod.Spec.Containers[0]
	c.Env = []corev1.EnvVar{{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}
	c.Ports = []corev1.ContainerPort{{Name: "app", ContainerPort: 8080}}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("app")}},
		PeriodSeconds: 1, FailureThreshold: 1,
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	running := waitForPhase(t, cs, ns, "probed", corev1.PodRunning)
	if running.Status.ContainerStatuses[0].Ready && time.Since(running.Status.StartTime.Time) < time.Second {
		t.Errorf("the container was Ready before its port listened")
	}
	waitFor(t, 30*time.Second, "the probe to pass", func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "probed", metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status != corev1.ConditionTrue {
				return false
			}
		}
		return p.Status.ContainerStatuses[0].Ready
	})
}
