package webhook_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
	"github.com/sparkop/spark-operator/internal/webhook"
)

// TestResourceQuotaEnforcement: with --enable-resource-quota-enforcement, an application whose driver
// and executors do not fit in the namespace's ResourceQuota is refused at admission, with the quota,
// the resource and the shortfall named; one that fits is accepted; a suspended one (Kueue) is checked
// when resumed; editing a running application counts its current pods as freed.
func TestResourceQuotaEnforcement(t *testing.T) {
	c := startAdmission(t, webhook.WithResourceQuotaEnforcement())
	ctx := context.Background()
	const ns = "quota"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// 4Gi of memory requests, 1Gi used (status written as the quota controller would).
	hard := corev1.ResourceList{corev1.ResourceRequestsMemory: resource.MustParse("4Gi"), corev1.ResourceRequestsCPU: resource.MustParse("10")}
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "compute", Namespace: ns}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
	if err := c.Create(ctx, rq); err != nil {
		t.Fatal(err)
	}
	setUsed := func(memory string) {
		t.Helper()
		rq.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: corev1.ResourceList{
			corev1.ResourceRequestsMemory: resource.MustParse(memory), corev1.ResourceRequestsCPU: resource.MustParse("1"),
		}}
		if err := c.Status().Update(ctx, rq); err != nil {
			t.Fatal(err)
		}
	}
	setUsed("1Gi")

	// Driver 512m + 384Mi overhead = 896Mi; executors 2 x (2g + 384Mi) = 4864Mi; 5760Mi in all,
	// 3Gi left: short by 1Gi + 5760Mi - 4Gi = 2688Mi.
	big := wrappers.MakeSparkApplication("big", ns).DriverMemory("512m").ExecutorInstances(2).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.Executor.Memory = ptr.To("2g")
	}).Obj()
	err := c.Create(ctx, big.DeepCopy())
	if !apierrors.IsForbidden(err) {
		t.Fatalf("create of an application beyond the quota: %v; want Forbidden", err)
	}
	for _, want := range []string{`ResourceQuota "compute"`, "requests.memory", "needs 5760Mi", "3Gi of 4Gi left", "short by 2688Mi", "the driver and 2 executors"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("rejection %q does not say %q", err, want)
		}
	}

	// Driver and one executor of 512m: 1792Mi fits in 3Gi.
	small := wrappers.MakeSparkApplication("small", ns).DriverMemory("512m").ExecutorInstances(1).Spec(func(s *v1beta2.SparkApplicationSpec) {
		s.Executor.Memory = ptr.To("512m")
	}).Obj()
	if err := c.Create(ctx, small); err != nil {
		t.Fatalf("an application that fits was rejected: %v", err)
	}

	// Created suspended (as Kueue creates them): accepted; resuming it is checked.
	held := big.DeepCopy()
	held.Name = "held"
	held.Spec.Suspend = ptr.To(true)
	if err := c.Create(ctx, held); err != nil {
		t.Fatalf("a suspended application was rejected: %v", err)
	}
	held.Spec.Suspend = ptr.To(false)
	if err := c.Update(ctx, held); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "short by") {
		t.Errorf("resuming an application beyond the quota: %v; want Forbidden with the shortfall", err)
	}

	// small runs: its 1792Mi are in status.used. Two executors instead of one need 2688Mi, of which
	// the current 1792Mi are freed when the operator stops the running attempt: 896Mi more, 1280Mi left.
	setUsed("2816Mi")
	if err := c.Get(ctx, client.ObjectKeyFromObject(small), small); err != nil {
		t.Fatal(err)
	}
	small.Status.AppState.State = v1beta2.ApplicationStateRunning
	if err := c.Status().Update(ctx, small); err != nil {
		t.Fatal(err)
	}
	small.Spec.Executor.Instances = ptr.To(int32(2))
	if err := c.Update(ctx, small); err != nil {
		t.Errorf("growing a running application within the quota was rejected: %v", err)
	}
	// Six more executors do not fit: 1792Mi + 6 x 896Mi beyond what is freed.
	small.Spec.Executor.Instances = ptr.To(int32(8))
	if err := c.Update(ctx, small); !apierrors.IsForbidden(err) {
		t.Errorf("growing a running application beyond the quota: %v; want Forbidden", err)
	}
}
