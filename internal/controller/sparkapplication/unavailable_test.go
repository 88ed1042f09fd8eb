package sparkapplication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
)

// TestRetryWhenUnavailable: errors that say the API server could not be reached become a requeue
// 2-4 s later with no error (no rate-limiter back-off); refusals of the request stay errors.
func TestRetryWhenUnavailable(t *testing.T) {
	gr := schema.GroupResource{Group: "sparkoperator.k8s.io", Resource: "sparkapplications"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	unavailable := []error{
		fmt.Errorf("creating the driver: %w", refused),
		fmt.Errorf("writing status: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
		apierrors.NewServiceUnavailable("etcdserver: leader changed"),
		apierrors.NewTimeoutError("etcdserver: request timed out", 1),
		apierrors.NewServerTimeout(gr, "update", 1),
		apierrors.NewTooManyRequests("slow down", 1),
		fmt.Errorf("get: %w", io.ErrUnexpectedEOF),
		context.DeadlineExceeded,
	}
	for _, err := range unavailable {
		res, got := retryWhenUnavailable(context.Background(), ctrl.Result{}, err)
		if got != nil || res.RequeueAfter < unavailableRetry || res.RequeueAfter >= unavailableRetry+unavailableJitter {
			t.Errorf("%v: (%+v, %v), want a requeue in [%s, %s) and no error", err, res, got, unavailableRetry, unavailableRetry+unavailableJitter)
		}
	}
	for _, err := range []error{
		apierrors.NewForbidden(gr, "pi", errors.New("no")),
		apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "pi-driver", nil),
		apierrors.NewConflict(gr, "pi", nil),
		errors.New("pod pi-driver is in the way"),
	} {
		if _, got := retryWhenUnavailable(context.Background(), ctrl.Result{}, err); got != err {
			t.Errorf("%v: got %v, want the error itself", err, got)
		}
	}
	res, err := retryWhenUnavailable(context.Background(), ctrl.Result{RequeueAfter: time.Minute}, nil)
	if err != nil || res.RequeueAfter != time.Minute {
		t.Errorf("success: (%+v, %v), want the result unchanged", res, err)
	}
}
