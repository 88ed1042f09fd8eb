package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/controller/sparkapplication"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/operatortest"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// TestTakeoverFromSparkSubmit runs the real spark-submit with the arguments and pod templates
// Kubeflow's operator gives it (a random UUID as submission id), writes the status Kubeflow's
// controller writes after that submission (SUBMITTED, no sparkApplicationId yet), then starts our
// controller and plays the kubelet: the application must complete on spark-submit's driver pod,
// with no second driver. test/integration/controller/takeover_test.go covers the other states with
// hand-built objects; this checks that those objects are what spark-submit really creates.
func TestTakeoverFromSparkSubmit(t *testing.T) {
	if os.Getenv("SPARK_CONFORMANCE") != "1" {
		t.Skip("runs with SPARK_CONFORMANCE=1 (make conformance)")
	}
	root := framework.RepoRoot(t)
	const version = "3.5.3"
	ctx := context.Background()
	env := framework.Start(t, framework.WithScheme(v1beta2.AddToScheme))
	c := &caseRun{t: t, ctx: ctx, env: env, root: root, version: version, home: installSpark(t, root, version),
		javaHome: findJavaHome(t), creds: submitterCredentials(t, ctx, env)}
	ns := env.NewNamespace(t)
	for _, sa := range []string{"spark", "spark-operator-spark"} {
		util.Create(t, env.Client, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}})
	}
	app := c.loadApp(filepath.Join(root, "examples", "spark-pi.yaml"), ns)
	submissionID := string(uuid.NewUUID())
	submitted := c.sparkSubmit(app, submissionID)
	driver := submitted.pod
	if driver.Labels[v1beta2.LabelSubmissionID] != submissionID || len(driver.OwnerReferences) != 1 || driver.OwnerReferences[0].UID != app.UID {
		t.Fatalf("spark-submit's driver pod: labels %v, owners %+v", driver.Labels, driver.OwnerReferences)
	}

	// Kubeflow's submitSparkApplication: submission id, driver pod name, attempt counters, SUBMITTED.
	cur := &v1beta2.SparkApplication{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), cur); err != nil {
		t.Fatal(err)
	}
	cur.Status = v1beta2.SparkApplicationStatus{
		SubmissionID: submissionID, LastSubmissionAttemptTime: metav1.NewTime(time.Now().Add(-time.Minute)),
		SubmissionAttempts: 1, ExecutionAttempts: 1, DriverInfo: v1beta2.DriverInfo{PodName: driver.Name},
		AppState: v1beta2.ApplicationState{State: v1beta2.ApplicationStateSubmitted},
	}
	if err := env.Client.Status().Update(ctx, cur); err != nil {
		t.Fatal(err)
	}

	ctrl.SetLogger(util.Logger())
	mgr := operatortest.NewManager(t, env.Config, env.Scheme, []string{ns}, nil)
	r := sparkapplication.NewReconciler(mgr.GetClient(), operatortest.Recorder(t, mgr), clock.RealClock{},
		sparkapplication.Options{DriverPodCreationGracePeriod: 2 * time.Second, EnableUIService: true})
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	operatortest.Start(t, mgr)

	state := func() *v1beta2.SparkApplication {
		t.Helper()
		got := &v1beta2.SparkApplication{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if st := state().Status.AppState; st.State != v1beta2.ApplicationStateSubmitted {
			t.Fatalf("left SUBMITTED before the driver ran: %+v", st)
		}
	}
	kubelet := func(phase corev1.PodPhase, cs corev1.ContainerState) {
		t.Helper()
		pod := &corev1.Pod{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(driver), pod); err != nil {
			t.Fatal(err)
		}
		pod.Status.Phase = phase
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: pod.Spec.Containers[0].Name, Image: pod.Spec.Containers[0].Image, State: cs}}
		if err := env.Client.Status().Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(want v1beta2.ApplicationStateType) *v1beta2.SparkApplication {
		t.Helper()
		var got *v1beta2.SparkApplication
		framework.WaitFor(t, 30*time.Second, string(want), func() (bool, string) {
			got = state()
			return got.Status.AppState.State == want, fmt.Sprintf("%+v", got.Status.AppState)
		})
		return got
	}
	kubelet(corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}})
	running := waitFor(v1beta2.ApplicationStateRunning)
	if running.Status.SparkApplicationID != submitted.appID || !strings.HasPrefix(running.Status.SparkApplicationID, "spark-") {
		t.Errorf("sparkApplicationId %q, want spark-submit's %q", running.Status.SparkApplicationID, submitted.appID)
	}
	kubelet(corev1.PodSucceeded, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: metav1.Now()}})
	done := waitFor(v1beta2.ApplicationStateCompleted)
	if done.Status.SubmissionID != submissionID || done.Status.ExecutionAttempts != 1 {
		t.Errorf("completed status: %+v", done.Status)
	}
	drivers := &corev1.PodList{}
	if err := env.Client.List(ctx, drivers, client.InNamespace(ns), client.MatchingLabels{v1beta2.LabelSparkRole: v1beta2.SparkRoleDriver}); err != nil {
		t.Fatal(err)
	}
	if len(drivers.Items) != 1 || drivers.Items[0].UID != driver.UID {
		t.Errorf("driver pods after the takeover: %d, want spark-submit's only", len(drivers.Items))
	}
}
