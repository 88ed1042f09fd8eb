package sparkconnect

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

const ns = "ns"

// harness is one SparkConnect under a reconciler with a fake client and a fake clock.
type harness struct {
	t   *testing.T
	c   client.Client
	clk *clocktesting.FakeClock
	rec *util.Recorder
	r   *Reconciler
}

func newHarness(t *testing.T, conn *v1alpha1.SparkConnect) *harness {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	conn.UID, conn.Generation = types.UID("uid-"+conn.Name), 1
	c := util.NewFakeClient(clk, interceptor.Funcs{}, conn)
	rec := &util.Recorder{}
	return &harness{t: t, c: c, clk: clk, rec: rec, r: NewReconciler(c, rec, clk, Options{})}
}

func (h *harness) reconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	if err != nil {
		h.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (h *harness) conn(name string) *v1alpha1.SparkConnect {
	h.t.Helper()
	conn := &v1alpha1.SparkConnect{}
	util.Get(h.t, h.c, ns, name, conn)
	return conn
}

func (h *harness) pod(name string) *corev1.Pod {
	h.t.Helper()
	pod := &corev1.Pod{}
	err := h.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, pod)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return pod
}

// setServer plays the kubelet for the server pod: phase and the Spark container's readiness, or
// its termination, or a waiting reason.
func (h *harness) setServer(name string, phase corev1.PodPhase, cs util.ContainerState, ready bool) {
	h.t.Helper()
	util.SetPodStatus(h.t, h.c, ns, name+"-server", phase, cs)
	pod := h.pod(name + "-server")
	for i := range pod.Status.ContainerStatuses {
		pod.Status.ContainerStatuses[i].Ready = ready
	}
	if err := h.c.Status().Update(context.Background(), pod); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) bumpGeneration(name string, mutate func(*v1alpha1.SparkConnect)) {
	h.t.Helper()
	util.Update(h.t, h.c, ns, name, func() *v1alpha1.SparkConnect { return &v1alpha1.SparkConnect{} }, func(c *v1alpha1.SparkConnect) {
		mutate(c)
		c.Generation++
	})
}

func (h *harness) expectState(name string, want v1alpha1.SparkConnectState) *v1alpha1.SparkConnect {
	h.t.Helper()
	conn := h.conn(name)
	if conn.Status.State != want {
		h.t.Fatalf("state %q, want %q (conditions %+v, events %v)", conn.Status.State, want, conn.Status.Conditions, h.rec.Events())
	}
	return conn
}

func (h *harness) expectEvents(want ...string) {
	h.t.Helper()
	if got := h.rec.Reasons(); !slices.Equal(got, want) {
		h.t.Fatalf("events %v, want %v", h.rec.Events(), want)
	}
	h.rec.Reset()
}

// TestStart: a new SparkConnect gets its server pod (rendered by the submitter, relabelled and owned
// by the SparkConnect), the pod's ConfigMaps and headless Service, and the client Service; it is
// Provisioning until the server container is ready, then Ready, with its executors counted.
func TestStart(t *testing.T) {
	h := newHarness(t, wrappers.MakeSparkConnect("sc", ns).Obj())
	h.reconcile("sc")
	conn := h.expectState("sc", v1alpha1.SparkConnectStateProvisioning)
	h.expectEvents(ReasonServerCreated)
	if conn.Status.Server.PodName != "sc-server" || conn.Status.Server.ServiceName != "sc-server" || conn.Status.StartTime.IsZero() {
		t.Fatalf("status.server %+v, startTime %v", conn.Status.Server, conn.Status.StartTime)
	}

	pod := h.pod("sc-server")
	if pod == nil {
		t.Fatal("no server pod")
	}
	if !metav1.IsControlledBy(pod, conn) {
		t.Errorf("server pod owners %+v", pod.OwnerReferences)
	}
	l := pod.Labels
	if l[v1alpha1.LabelSparkConnectName] != "sc" || l[v1beta2.LabelSparkRole] != v1alpha1.SparkRoleConnectServer || l[v1beta2.LabelAppName] != "" || l[v1beta2.LabelLaunchedBySparkOperator] != "true" {
		t.Errorf("server pod labels %v", l)
	}
	c := pod.Spec.Containers[0]
	if args := strings.Join(c.Args, " "); !strings.Contains(args, "--class "+ServerClass+" spark-internal") {
		t.Errorf("server args %q", args)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.TCPSocket == nil || c.ReadinessProbe.TCPSocket.Port.IntValue() != ServerPort {
		t.Errorf("readiness probe %+v", c.ReadinessProbe)
	}
	if pod.Spec.ServiceAccountName != "spark" {
		t.Errorf("service account %q", pod.Spec.ServiceAccountName)
	}

	cms := &corev1.ConfigMapList{}
	if err := h.c.List(context.Background(), cms, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var props string
	for _, cm := range cms.Items {
		if cm.Labels[v1alpha1.LabelSparkConnectName] != "sc" || !metav1.IsControlledBy(&cm, pod) {
			t.Errorf("ConfigMap %s labels %v owners %v", cm.Name, cm.Labels, cm.OwnerReferences)
		}
		props += cm.Data["spark.properties"]
	}
	for _, want := range []string{"spark.kubernetes.executor.label.sparkoperator.k8s.io/connect-name=sc", "spark.executor.instances=1", "spark.kubernetes.authenticate.driver.serviceAccountName=spark"} {
		if !strings.Contains(strings.ReplaceAll(props, `\:`, ":"), want) {
			t.Errorf("spark.properties lacks %s:\n%s", want, props)
		}
	}
	if strings.Contains(props, "label.sparkoperator.k8s.io/app-name") {
		t.Errorf("spark.properties labels executors with app-name:\n%s", props)
	}

	svcs := &corev1.ServiceList{}
	if err := h.c.List(context.Background(), svcs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var headless, clientSvc *corev1.Service
	for i, s := range svcs.Items {
		switch {
		case s.Name == "sc-server":
			clientSvc = &svcs.Items[i]
		case s.Spec.ClusterIP == corev1.ClusterIPNone:
			headless = &svcs.Items[i]
		}
	}
	if headless == nil || !metav1.IsControlledBy(headless, pod) {
		t.Fatalf("headless Service %+v", headless)
	}
	for k, v := range headless.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("the headless Service selects %s=%s; the server pod has %q", k, v, pod.Labels[k])
		}
	}
	if clientSvc == nil || !metav1.IsControlledBy(clientSvc, conn) || clientSvc.Spec.Ports[0].Port != ServerPort ||
		clientSvc.Spec.Selector[v1beta2.LabelSparkRole] != v1alpha1.SparkRoleConnectServer {
		t.Fatalf("client Service %+v", clientSvc)
	}

	h.setServer("sc", corev1.PodRunning, util.Running, false)
	h.reconcile("sc")
	h.expectState("sc", v1alpha1.SparkConnectStateProvisioning)
	h.expectEvents()

	h.setServer("sc", corev1.PodRunning, util.Running, true)
	for i, phase := range []corev1.PodPhase{corev1.PodRunning, corev1.PodRunning, corev1.PodPending} {
		util.Create(t, h.c, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sc-exec-" + string(rune('1'+i)), Namespace: ns,
			Labels: map[string]string{v1alpha1.LabelSparkConnectName: "sc", v1beta2.LabelSparkRole: v1beta2.SparkRoleExecutor}},
			Status: corev1.PodStatus{Phase: phase}})
	}
	h.reconcile("sc")
	conn = h.expectState("sc", v1alpha1.SparkConnectStateReady)
	h.expectEvents(ReasonServerReady)
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("conditions %+v", conn.Status.Conditions)
	}
	if conn.Status.Server.PodIP != util.PodIP || conn.Status.Executors["running"] != 2 || conn.Status.Executors["pending"] != 1 {
		t.Errorf("status %+v", conn.Status)
	}

	// Nothing changed: no write, no event.
	rv := conn.ResourceVersion
	h.reconcile("sc")
	if h.conn("sc").ResourceVersion != rv {
		t.Error("a reconcile with nothing new wrote the status")
	}
	h.expectEvents()
}

// TestRestart: a ready server whose pod dies is started again (NotReady while its pod is not
// ready, Provisioning while the new one starts), with new names for the new pod's dependents.
func TestRestart(t *testing.T) {
	h := newHarness(t, wrappers.MakeSparkConnect("sc", ns).Obj())
	h.reconcile("sc")
	first := h.pod("sc-server")
	h.setServer("sc", corev1.PodRunning, util.Running, true)
	h.reconcile("sc")
	h.setServer("sc", corev1.PodRunning, util.Running, false)
	h.reconcile("sc")
	h.expectState("sc", v1alpha1.SparkConnectStateNotReady)
	h.rec.Reset()

	h.setServer("sc", corev1.PodFailed, util.Exited(137), false)
	h.reconcile("sc")
	h.expectState("sc", v1alpha1.SparkConnectStateProvisioning)
	h.expectEvents(ReasonServerRestarted)
	if h.pod("sc-server") != nil {
		t.Fatal("the dead server pod was not deleted")
	}
	h.clk.Step(time.Second)
	h.reconcile("sc")
	second := h.pod("sc-server")
	h.expectEvents(ReasonServerCreated)
	if second == nil || second.Annotations[AnnotationRevision] == first.Annotations[AnnotationRevision] {
		t.Fatalf("restarted pod %v has the revision of the first", second)
	}
}

// TestFailedBeforeReady: a server that terminates before it was ever ready fails the SparkConnect
// with the container's exit code, keeps its pod, and is not started again until the spec changes.
func TestFailedBeforeReady(t *testing.T) {
	h := newHarness(t, wrappers.MakeSparkConnect("sc", ns).Obj())
	h.reconcile("sc")
	h.rec.Reset()
	h.setServer("sc", corev1.PodFailed, util.Exited(1), false)
	h.reconcile("sc")
	conn := h.expectState("sc", v1alpha1.SparkConnectStateFailed)
	h.expectEvents(ReasonFailed)
	c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady)
	if c == nil || c.Reason != v1alpha1.ReasonServerFailed || !strings.Contains(c.Message, "ExitCode: 1") {
		t.Fatalf("condition %+v", c)
	}
	if h.pod("sc-server") == nil {
		t.Fatal("the failed pod was deleted; its log is the reason")
	}
	h.reconcile("sc")
	h.expectState("sc", v1alpha1.SparkConnectStateFailed)
	h.expectEvents()

	// A spec change replaces the failed pod and starts again.
	h.bumpGeneration("sc", func(c *v1alpha1.SparkConnect) {
		c.Spec.SparkConf = map[string]string{"spark.sql.shuffle.partitions": "4"}
	})
	h.reconcile("sc")
	h.expectEvents(ReasonServerReplaced)
	h.reconcile("sc")
	h.expectState("sc", v1alpha1.SparkConnectStateProvisioning)
	h.expectEvents(ReasonServerCreated)
	if pod := h.pod("sc-server"); revisionGeneration(pod) != "2" {
		t.Fatalf("new pod revision %q", pod.Annotations[AnnotationRevision])
	}
}

// TestImagePullTimeout: an image that does not pull fails the SparkConnect after ImagePullTimeout
// (the reconcile asks to be called back then), and the stuck pod is deleted.
func TestImagePullTimeout(t *testing.T) {
	h := newHarness(t, wrappers.MakeSparkConnect("sc", ns).Obj())
	h.reconcile("sc")
	h.rec.Reset()
	h.setServer("sc", corev1.PodPending, util.ContainerState{Waiting: "ImagePullBackOff", Message: "not found"}, false)
	h.clk.Step(30 * time.Second)
	if res := h.reconcile("sc"); res.RequeueAfter != DefaultImagePullTimeout-30*time.Second {
		t.Fatalf("requeue after %v", res.RequeueAfter)
	}
	h.expectState("sc", v1alpha1.SparkConnectStateProvisioning)
	h.clk.Step(DefaultImagePullTimeout)
	h.reconcile("sc")
	conn := h.expectState("sc", v1alpha1.SparkConnectStateFailed)
	h.expectEvents(ReasonFailed)
	if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); !strings.Contains(c.Message, "did not pull within 2m0s: ImagePullBackOff") {
		t.Fatalf("condition %+v", c)
	}
	if h.pod("sc-server") != nil {
		t.Fatal("the stuck pod was not deleted")
	}
	h.reconcile("sc")
	h.expectState("sc", v1alpha1.SparkConnectStateFailed)
	if h.pod("sc-server") != nil {
		t.Fatal("a failed SparkConnect started a server again")
	}
}

// TestSpecChangeReplacesServer: a spec change while Ready deletes the server pod and starts one
// of the new generation; the client Service follows the spec.
func TestSpecChangeReplacesServer(t *testing.T) {
	h := newHarness(t, wrappers.MakeSparkConnect("sc", ns).Obj())
	h.reconcile("sc")
	h.setServer("sc", corev1.PodRunning, util.Running, true)
	h.reconcile("sc")
	h.rec.Reset()
	h.bumpGeneration("sc", func(c *v1alpha1.SparkConnect) {
		c.Spec.Executor.Instances = ptrTo[int32](3)
		c.Spec.Server.Service = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"team": "a"}}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}}
	})
	h.reconcile("sc")
	h.expectEvents(ReasonServerReplaced)
	h.expectState("sc", v1alpha1.SparkConnectStateProvisioning)
	h.reconcile("sc")
	h.expectEvents(ReasonServerCreated)
	svc := &corev1.Service{}
	util.Get(t, h.c, ns, "sc-server", svc)
	if svc.Labels["team"] != "a" || svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Fatalf("client Service not updated: %+v", svc)
	}
}

// TestRenderError: a spec the submitter refuses fails at once, naming the field.
// TestRenderError: a spec the submitter refuses fails the SparkConnect, naming the field, and creates
// no pod: no image; a spark.kubernetes.namespace other than the object's (refused by Kubeflow's
// webhook since v2.5.2; a CEL rule cannot compare with metadata.namespace).
func TestRenderError(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*v1alpha1.SparkConnectSpec)
		want   string
	}{
		"no image": {func(s *v1alpha1.SparkConnectSpec) { s.Image = nil }, "spec.image"},
		"namespace in sparkConf": {func(s *v1alpha1.SparkConnectSpec) {
			s.SparkConf = map[string]string{"spark.kubernetes.namespace": "kube-system"}
		}, `sparkConf key "spark.kubernetes.namespace" is not allowed`},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, wrappers.MakeSparkConnect("sc", ns).Spec(tc.mutate).Obj())
			h.reconcile("sc")
			conn := h.expectState("sc", v1alpha1.SparkConnectStateFailed)
			if c := meta.FindStatusCondition(conn.Status.Conditions, v1alpha1.ConditionServerPodReady); !strings.Contains(c.Message, tc.want) {
				t.Fatalf("condition %+v, want a message with %q", c, tc.want)
			}
			if h.pod("sc-server") != nil {
				t.Fatal("a pod was created")
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
