package main

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/hack/bench/load"
)

// kind is what an application of the run is meant to do.
type kind string

const (
	// kindComplete runs its driver for the run duration and completes (restartPolicy Never).
	kindComplete kind = "complete"
	// kindFailRetry has a driver that fails every attempt (exit code 1) with restartPolicy OnFailure
	// and failRetries retries one second apart: it ends FAILED after failRetries+1 attempts.
	kindFailRetry kind = "fail-retry"
	// kindSuspend is suspended once RUNNING, resumed once SUSPENDED, and then completes.
	kindSuspend kind = "suspend-resume"
	// kindDelete is deleted once RUNNING: it and its driver pod must go.
	kindDelete kind = "delete-running"
	// kindCanary is created after each fault to time the recovery: like kindComplete.
	kindCanary kind = "canary"
)

// failRetries is the onFailureRetries of kindFailRetry.
const failRetries = 2

// kindOf is the kind of application i: of every 20, 10 complete, 4 fail and retry, 3 are suspended
// and resumed, 3 deleted while running.
func kindOf(i int) kind {
	switch m := i % 20; {
	case m < 10:
		return kindComplete
	case m < 14:
		return kindFailRetry
	case m < 17:
		return kindSuspend
	default:
		return kindDelete
	}
}

// expectsSuccess says whether an undisturbed application of kind k ends COMPLETED.
func (k kind) expectsSuccess() bool { return k != kindFailRetry && k != kindDelete }

// maxAttempts is how many driver attempts the policy of kind k allows, without disruptions: one per
// submission, plus the retries, plus one more submission for the resume.
func (k kind) maxAttempts() int32 {
	switch k {
	case kindFailRetry:
		return failRetries + 1
	case kindSuspend:
		return 2
	default:
		return 1
	}
}

// chaosApp is application name of kind k in namespace ns, with a driver that kwok runs for run.
func chaosApp(ns, name string, k kind, run time.Duration) *v1beta2.SparkApplication {
	app := load.App(ns, name, run)
	app.Labels["sparkop.dev/chaos-kind"] = string(k)
	switch k {
	case kindFailRetry:
		app.Spec.RestartPolicy = v1beta2.RestartPolicy{
			Type:                   v1beta2.RestartPolicyOnFailure,
			OnFailureRetries:       ptr.To[int32](failRetries),
			OnFailureRetryInterval: ptr.To[int64](1),
		}
		app.Spec.Driver.Annotations["kwok.sparkop.dev/exit-code"] = "1"
		app.Spec.Driver.Annotations[load.RunDurationAnnotation] = "2s"
	case kindSuspend, kindDelete:
		// Long enough to be caught RUNNING.
		app.Spec.Driver.Annotations[load.RunDurationAnnotation] = (3 * run).String()
	}
	return app
}

// untilDone calls f every 500 ms until it succeeds, returns an error done accepts, or timeout
// passes: the run's own requests outlast the outages it causes.
func untilDone(ctx context.Context, timeout time.Duration, done func(error) bool, f func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(rctx)
		cancel()
		if err == nil || done(err) {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func never(error) bool { return false }

// setSuspend patches spec.suspend of an application.
func setSuspend(ctx context.Context, rc *rest.RESTClient, ns, name string, suspend bool) error {
	body := fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, suspend)
	return untilDone(ctx, 5*time.Minute, never, func(ctx context.Context) error {
		return rc.Patch(types.MergePatchType).Namespace(ns).Resource("sparkapplications").Name(name).Body(body).Do(ctx).Error()
	})
}

// deleteApp deletes an application (in the background, as kubectl does; NotFound is success).
func deleteApp(ctx context.Context, rc *rest.RESTClient, ns, name string) error {
	return untilDone(ctx, 5*time.Minute, apierrors.IsNotFound, func(ctx context.Context) error {
		return rc.Delete().Namespace(ns).Resource("sparkapplications").Name(name).Body(&metav1.DeleteOptions{}).Do(ctx).Error()
	})
}
