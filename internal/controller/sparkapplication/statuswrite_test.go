package sparkapplication

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TestStatusWriterReadsMetadataOnly: the status write is a PUT of the whole application to the
// status subresource that asks for PartialObjectMetadata back; the reply's metadata becomes the
// application's; API errors keep their type; a reply that is not metadata only is refused.
func TestStatusWriterReadsMetadataOnly(t *testing.T) {
	var reply func(w http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPut || r.URL.Path != "/apis/sparkoperator.k8s.io/v1beta2/namespaces/ns/sparkapplications/pi/status" ||
			r.Header.Get("Accept") != metadataOnly || !strings.Contains(string(body), `"kind":"SparkApplication"`) || !strings.Contains(string(body), `"state":"RUNNING"`) {
			t.Errorf("unexpected request %s %s (Accept %q): %s", r.Method, r.URL.Path, r.Header.Get("Accept"), body)
		}
		w.Header().Set("Content-Type", "application/json")
		reply(w)
	}))
	defer srv.Close()
	scheme := runtime.NewScheme()
	if err := v1beta2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	rc, err := apiutil.RESTClientForGVK(v1beta2.GroupVersion.WithKind("SparkApplication"), true, false, &rest.Config{Host: srv.URL}, serializer.NewCodecFactory(scheme), srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	w := &statusWriter{rest: rc}
	app := func() *v1beta2.SparkApplication {
		a := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pi", ResourceVersion: "1"}}
		a.Status.AppState.State = v1beta2.ApplicationStateRunning
		return a
	}
	writeJSON := func(code int, v any) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(v)
		}
	}

	reply = writeJSON(http.StatusOK, metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pi", ResourceVersion: "2", UID: "uid-pi"},
	})
	a := app()
	if err := w.update(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if a.ResourceVersion != "2" || a.UID != "uid-pi" || a.Status.AppState.State != v1beta2.ApplicationStateRunning {
		t.Errorf("after the write: resourceVersion %q, uid %q, state %q", a.ResourceVersion, a.UID, a.Status.AppState.State)
	}

	reply = writeJSON(http.StatusConflict, apierrors.NewConflict(v1beta2.GroupVersion.WithResource("sparkapplications").GroupResource(), "pi", nil).Status())
	if err := w.update(context.Background(), app()); !apierrors.IsConflict(err) {
		t.Errorf("a 409 gave %v, want a conflict", err)
	}

	reply = writeJSON(http.StatusOK, app())
	if err := w.update(context.Background(), app()); err == nil {
		t.Error("a full SparkApplication as the reply was taken for metadata")
	}
}
