package sparkapplication

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// metadataOnly asks the API server to answer with the object's metadata alone (a
// meta.k8s.io/v1 PartialObjectMetadata), which it does for writes as for reads.
const metadataOnly = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

// statusWriter writes the status of SparkApplications (PUT .../status, with the resourceVersion
// as precondition like controller-runtime's Status().Update) and reads back only the metadata of
// the written object: the controller needs its new resourceVersion, not the spec and status it
// just sent, whose JSON decoding was most of a status write's CPU in the operator (issue 20).
type statusWriter struct {
	rest rest.Interface
}

// newStatusWriter builds a statusWriter on the manager's configuration and HTTP client; like each of
// controller-runtime's per-kind REST clients it has its own token bucket of the configured QPS and
// burst (--kube-api-qps, --kube-api-burst).
func newStatusWriter(mgr ctrl.Manager) (*statusWriter, error) {
	gvk := v1beta2.GroupVersion.WithKind("SparkApplication")
	rc, err := apiutil.RESTClientForGVK(gvk, true, false, mgr.GetConfig(), serializer.NewCodecFactory(mgr.GetScheme()), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("REST client for SparkApplication status writes: %w", err)
	}
	return &statusWriter{rest: rc}, nil
}

// update writes app's status and sets app's metadata to the written object's (resourceVersion,
// managedFields). Errors are the API server's, as apierrors (a conflict is IsConflict).
func (w *statusWriter) update(ctx context.Context, app *v1beta2.SparkApplication) error {
	app.APIVersion, app.Kind = v1beta2.GroupVersion.String(), "SparkApplication"
	body, err := json.Marshal(app)
	if err != nil {
		return err
	}
	raw, err := w.rest.Put().
		Namespace(app.Namespace).Resource("sparkapplications").Name(app.Name).SubResource("status").
		SetHeader("Content-Type", "application/json").SetHeader("Accept", metadataOnly).
		Body(body).Do(ctx).Raw()
	if err != nil {
		return err
	}
	var written metav1.PartialObjectMetadata
	if err := json.Unmarshal(raw, &written); err != nil {
		return fmt.Errorf("reading the reply to the status write: %w", err)
	}
	if written.Kind != "PartialObjectMetadata" || written.ResourceVersion == "" {
		return fmt.Errorf("the reply to the status write is a %q, not PartialObjectMetadata with a resourceVersion", written.Kind)
	}
	app.ObjectMeta = written.ObjectMeta
	return nil
}

// writeStatus writes the status of app: through the statusWriter with a manager, through the
// client's Status().Update without one (unit tests on a fake client).
func (r *Reconciler) writeStatus(ctx context.Context, app *v1beta2.SparkApplication) error {
	if r.status == nil {
		return r.client.Status().Update(ctx, app)
	}
	return r.status.update(ctx, app)
}
