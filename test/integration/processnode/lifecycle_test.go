package processnode_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// A preStop exec hook runs inside the container (its env, host name and PID namespace) before
// SIGTERM, for a deletion and for an eviction, within terminationGracePeriodSeconds:
//   - "decom" is Spark's decommissioning pattern: the hook signals PID 1 (USR1 here, PWR in
//     Spark's /opt/decom.sh) and waits for it to exit; the container never sees SIGTERM;
//   - "slow" has a hook that outlives the grace period and a process that ignores SIGTERM: the
//     hook is cut at the grace period, SIGTERM follows, then SIGKILL after the kubelet's 2 s
//     minimum, and a FailedPreStopHook Event says so.
func TestPreStopHookAndGracePeriod(t *testing.T) {
	node, cs := startNode(t)
	ns := env.NewNamespace(t)
	ctx := context.Background()
	out := t.TempDir()
	pods := map[string]struct {
		script, hook string
		grace        int64
	}{
		"decom": {
			script: `trap 'echo USR1 >> /out/decom; exit 0' USR1; trap 'echo TERM >> /out/decom; exit 0' TERM; echo started > /out/decom; while true; do sleep 0.1; done`,
			hook:   `echo "hook $HOOK_VAR $(hostname)" >> /out/decom; kill -USR1 1; while kill -0 1 2>/dev/null; do sleep 0.1; done`,
			grace:  20,
		},
		"slow": {
			script: `trap 'echo TERM >> /out/slow' TERM; echo started > /out/slow; while true; do sleep 0.1; done`,
			hook:   `echo hook >> /out/slow; sleep 100`,
			grace:  3,
		},
	}
	for name, p := range pods {
		pod := shellPod(ns, name, node, p.script)
		pod.Spec.TerminationGracePeriodSeconds = ptr.To(p.grace)
		c := &pod.Spec.Containers[0]
		c.Env = []corev1.EnvVar{{Name: "HOOK_VAR", Value: "from-the-container"}}
		c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", p.hook}}}}
		c.VolumeMounts = []corev1.VolumeMount{{Name: "out", MountPath: "/out"}}
		pod.Spec.Volumes = []corev1.Volume{{Name: "out", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: out}}}}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(out, name))
		return string(data)
	}
	for name := range pods {
		waitForPhase(t, cs, ns, name, corev1.PodRunning)
		waitFor(t, 30*time.Second, name+" to set its traps", func() bool { return strings.Contains(read(name), "started") })
	}
	start := time.Now()
	// "decom" is evicted as kubectl drain does; "slow" is deleted (its own grace period).
	if err := cs.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "decom", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "slow", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := map[string]time.Duration{}
	waitFor(t, 60*time.Second, "both pods to go", func() bool {
		for name := range pods {
			if _, ok := gone[name]; ok {
				continue
			}
			if _, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				gone[name] = time.Since(start)
			}
		}
		return len(gone) == 2
	})
	if got, want := read("decom"), "started\nhook from-the-container decom\nUSR1\n"; got != want {
		t.Errorf("decom's record = %q, want %q (the hook in the container, then its signal, no SIGTERM)", got, want)
	}
	if got, want := read("slow"), "started\nhook\nTERM\n"; got != want {
		t.Errorf("slow's record = %q, want %q (the hook, then SIGTERM)", got, want)
	}
	if gone["slow"] < 4500*time.Millisecond {
		t.Errorf("slow went after %s, before its 3 s grace period plus the 2 s minimum after a hook", gone["slow"])
	}
	waitFor(t, 30*time.Second, "the FailedPreStopHook event", func() bool {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedPreStopHook,involvedObject.name=slow"})
		return err == nil && len(evs.Items) > 0
	})
}
