package sparkapplication

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestConflictHoldsBackStaleCopy: after a status write lost to a Conflict, a reconcile that reads
// the same (stale) cached version does nothing (no create, no status write) and looks again soon,
// instead of running the submission again on it.
func TestConflictHoldsBackStaleCopy(t *testing.T) {
	var creates, statusWrites int
	clk := clocktesting.NewFakeClock(time.Now())
	c := util.NewFakeClient(clk, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			creates++
			return c.Create(ctx, obj, opts...)
		},
		SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			statusWrites++
			return apierrors.NewConflict(schema.GroupResource{Group: "sparkoperator.k8s.io", Resource: "sparkapplications"}, "pi", nil)
		},
	}, wrappers.MakeSparkApplication("pi", "default").Obj())
	r := NewReconciler(c, &events.FakeRecorder{}, clk, Options{})
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: "pi"}}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if creates == 0 || statusWrites != 1 {
		t.Fatalf("first reconcile: %d creates, %d status writes; want a submission and one (conflicting) status write", creates, statusWrites)
	}
	creates, statusWrites = 0, 0
	res, err := r.Reconcile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if creates != 0 || statusWrites != 0 {
		t.Errorf("reconcile of the stale copy after the Conflict: %d creates, %d status writes; want none", creates, statusWrites)
	}
	if res.RequeueAfter == 0 || res.RequeueAfter > time.Second {
		t.Errorf("reconcile of the stale copy: %+v, want a requeue within a second", res)
	}
}
