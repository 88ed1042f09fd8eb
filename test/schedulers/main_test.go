// Package schedulers_test shows batch schedulers at work with a real scheduler (`make
// e2e-schedulers`): etcd, kube-apiserver and kube-controller-manager from the test framework, plus
// kube-scheduler and the kwok controller from bin/, all with the Workload API and Kubernetes' gang
// scheduling on (the flags are in docs/batch-scheduling-kubernetes.md), and kwok nodes of limited
// capacity. kwok makes bound pods Running and deletes them as a kubelet would; the operator runs in
// the test process.
//
// It runs with SPARK_E2E_SCHEDULERS=1 and is skipped otherwise (it starts five processes and takes
// about a minute). The components' logs are written to .cache/e2e-schedulers/.
package schedulers_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// The feature gates and API of Kubernetes' gang scheduling (Kubernetes 1.36, alpha): kube-apiserver
// serves scheduling.k8s.io/v1alpha2 and keeps pods' spec.schedulingGroup only with GenericWorkload
// and the runtime-config; kube-scheduler needs GangScheduling too; kube-controller-manager runs the
// podgroup-protection controller (which lets deleted PodGroups go once their pods are done) only with
// GenericWorkload.
var (
	apiServerArgs  = []string{"feature-gates=GenericWorkload=true", "runtime-config=scheduling.k8s.io/v1alpha2=true"}
	schedulerGates = "--feature-gates=GenericWorkload=true,GangScheduling=true"
	kcmGates       = "--feature-gates=GenericWorkload=true"
	kcmControllers = []string{"garbage-collector-controller", "namespace-controller", "podgroup-protection-controller"}
)

// nodeAnnotation marks the nodes the kwok controller of this suite manages.
const nodeAnnotation = "kwok.x-k8s.io/node"

var (
	env        *framework.Env
	skipReason string
	logDir     string   // .cache/e2e-schedulers
	scheduler  *process // kube-scheduler
)

func TestMain(m *testing.M) {
	if os.Getenv("SPARK_E2E_SCHEDULERS") != "1" {
		skipReason = "the batch scheduler suite runs with SPARK_E2E_SCHEDULERS=1 (make e2e-schedulers): it starts a cluster with kube-scheduler and kwok"
		os.Exit(m.Run())
	}
	ctrl.SetLogger(util.Logger())
	os.Exit(run(m))
}

func run(m *testing.M) int {
	start := time.Now()
	root, err := framework.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logDir = filepath.Join(root, ".cache", "e2e-schedulers")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err = framework.New(
		framework.WithScheme(v1beta2.AddToScheme),
		framework.WithAPIServerArgs(apiServerArgs...),
		framework.WithControllerManager(kcmControllers...),
		framework.WithControllerManagerArgs(kcmGates),
		framework.WithStartTimeout(2*time.Minute),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "framework: %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the control plane: %v\n", err)
		}
	}()
	scheduler, err = startProcess("kube-scheduler", filepath.Join(env.AssetsDir, "kube-scheduler"),
		"--kubeconfig="+env.Kubeconfig, "--leader-elect=false", "--secure-port=0", schedulerGates, "--v=2")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer scheduler.stop()
	stages, err := filepath.Glob(filepath.Join(root, "hack", "kwok", "stages", "*.yaml"))
	if err != nil || len(stages) == 0 {
		fmt.Fprintf(os.Stderr, "no kwok stages in hack/kwok/stages (%v)\n", err)
		return 1
	}
	kwokArgs := []string{"--kubeconfig=" + env.Kubeconfig, "--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + nodeAnnotation + "=fake"}
	for _, s := range stages {
		kwokArgs = append(kwokArgs, "--config="+s)
	}
	kwok, err := startProcess("kwok", filepath.Join(env.AssetsDir, "kwok"), kwokArgs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer kwok.stop()
	if err := waitForCluster(scheduler, kwok); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e-schedulers: cluster up in %s (logs in %s)\n", time.Since(start).Round(time.Second), logDir)
	code := m.Run()
	fmt.Fprintf(os.Stderr, "e2e-schedulers: %s in all\n", time.Since(start).Round(time.Second))
	return code
}

// skipUnlessEnabled skips the test when the suite is not enabled.
func skipUnlessEnabled(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// waitForCluster proves that kube-scheduler and kwok work: a pod on a probe node is bound and Running,
// then deleted and gone.
func waitForCluster(procs ...*process) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := env.Client
	node := newNode("probe-node", "1", "1Gi")
	if err := createNode(ctx, node); err != nil {
		return fmt.Errorf("creating the probe node: %w", err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{
			Containers:   []corev1.Container{{Name: "probe", Image: "probe"}},
			NodeSelector: map[string]string{corev1.LabelHostname: node.Name},
		},
	}
	if err := c.Create(ctx, pod); err != nil {
		return fmt.Errorf("creating the probe pod: %w", err)
	}
	for ctx.Err() == nil {
		for _, p := range procs {
			if p.Exited() {
				return fmt.Errorf("%s exited; its log (%s) ends with:\n%s", p.Name, p.LogPath, p.LogTail(20))
			}
		}
		got := &corev1.Pod{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(pod), got); err == nil && got.Status.Phase == corev1.PodRunning {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the probe pod was not scheduled and Running in time; kube-scheduler's log ends with:\n%s\nkwok's:\n%s",
			procs[0].LogTail(20), procs[1].LogTail(20))
	}
	if err := c.Delete(ctx, pod); err != nil {
		return err
	}
	for ctx.Err() == nil {
		if err := c.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}); apierrors.IsNotFound(err) {
			return c.Delete(ctx, node)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("kwok did not delete the probe pod in time")
}

// newNode returns a kwok node with the given allocatable CPU and memory (and 110 pods).
func newNode(name, cpu, memory string) *corev1.Node {
	rl := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{nodeAnnotation: "fake"},
			Labels:      map[string]string{corev1.LabelHostname: name, "type": "kwok"},
		},
		Status: corev1.NodeStatus{Capacity: rl, Allocatable: rl},
	}
}

// createNode creates the node and takes off the node.kubernetes.io/not-ready taint kube-apiserver's
// TaintNodesByCondition admission gives every new node (the node lifecycle controller, which would
// take it off once kwok reports the node Ready, is not run: it would also taint nodes whose heartbeat
// is late on a loaded machine).
func createNode(ctx context.Context, node *corev1.Node) error {
	if err := env.Client.Create(ctx, node); err != nil {
		return err
	}
	for {
		got := &corev1.Node{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(node), got); err != nil {
			return err
		}
		if len(got.Spec.Taints) == 0 {
			return nil
		}
		got.Spec.Taints = nil
		err := env.Client.Update(ctx, got)
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
	}
}

// process is a component the suite runs (kube-scheduler, kwok), its output in <logDir>/<name>.log.
type process struct{ *framework.Process }

func startProcess(name, bin string, args ...string) (*process, error) {
	p, err := framework.StartProcess(name, filepath.Join(logDir, name+".log"), exec.Command(bin, args...))
	if err != nil {
		return nil, fmt.Errorf("%w (run `make tools`?)", err)
	}
	return &process{p}, nil
}

// stop sends SIGTERM, and SIGKILL when the process has not exited 10 s later.
func (p *process) stop() { _ = p.Stop(10 * time.Second) }

// cpuTime is the CPU time (user and system) the process has used so far, from /proc (Linux); 0 when
// it cannot be read.
func (p *process) cpuTime() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses): utime and stime are the 12th and
	// 13th, in clock ticks (100 per second on Linux).
	_, rest, ok := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
