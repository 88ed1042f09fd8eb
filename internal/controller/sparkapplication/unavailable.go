package sparkapplication

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	ctrl "sigs.k8s.io/controller-runtime"
)

// unavailableRetry is the shortest wait before an application whose reconcile failed because the
// API server could not be reached is reconciled again; unavailableJitter is added at random, so
// that thousands of applications do not come back in one burst.
const (
	unavailableRetry  = 2 * time.Second
	unavailableJitter = 2 * time.Second
)

// retryWhenUnavailable turns an error that says the API server (or etcd behind it) could not be
// reached — connection refused or reset, a timeout, an EOF, 503, 504, 429 — into a plain requeue
// 2-4 s later. Returned as an error it would go through the workqueue's rate limiter: a per-item
// back-off that doubles with every failure of an outage (5 ms to 1000 s) and a token bucket that
// every failing application draws on (10/s by default), so that after a minute-long outage some
// applications would wait minutes for their next reconcile while newer ones overtook them
// (found by `make chaos`). Every other error is returned as it is.
func retryWhenUnavailable(ctx context.Context, res ctrl.Result, err error) (ctrl.Result, error) {
	if err == nil || !apiUnavailable(err) {
		return res, err
	}
	after := unavailableRetry + rand.N(unavailableJitter)
	ctrl.LoggerFrom(ctx).V(1).Info("The API server could not be reached; reconciling again soon", "after", after, "error", err.Error())
	return ctrl.Result{RequeueAfter: after}, nil
}

// apiUnavailable says whether err means the API server or etcd could not serve the request, as
// opposed to a refusal of the request itself.
func apiUnavailable(err error) bool {
	switch {
	case apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsUnexpectedServerError(err):
		return true
	case utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), utilnet.IsHTTP2ConnectionLost(err),
		utilnet.IsProbableEOF(err), utilnet.IsTimeout(err):
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
