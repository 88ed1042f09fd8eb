package connect

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// fakeFactory serves a fake client in namespace "default"; it has no REST config (no forwarding).
type fakeFactory struct{ c client.WithWatch }

func (f fakeFactory) Client() (client.WithWatch, error)        { return f.c, nil }
func (f fakeFactory) Clientset() (kubernetes.Interface, error) { return nil, nil }
func (f fakeFactory) RESTConfig() (*rest.Config, error)        { return &rest.Config{}, nil }
func (f fakeFactory) Namespace() (string, bool, error)         { return "default", false, nil }

func run(t *testing.T, f Factory, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := NewCommand(f, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	cmd.SetArgs(args)
	cmd.SetContext(context.Background())
	err := cmd.Execute()
	return out.String(), err
}

// TestCommands: list, status, url --in-cluster and delete on a Ready SparkConnect.
func TestCommands(t *testing.T) {
	conn := wrappers.MakeSparkConnect("sc", "default").Obj()
	conn.CreationTimestamp = metav1.NewTime(time.Now().Add(-time.Hour))
	conn.Status = v1alpha1.SparkConnectStatus{State: v1alpha1.SparkConnectStateReady, Executors: map[string]int{"running": 2},
		Server: v1alpha1.SparkConnectServerStatus{PodName: "sc-server", PodIP: "10.0.0.1", ServiceName: "sc-server"}}
	c := util.NewFakeClient(clocktesting.NewFakeClock(time.Now()), interceptor.Funcs{}, conn)
	f := fakeFactory{c}

	out, err := run(t, f, "list")
	if err != nil || !strings.Contains(out, "sc") || !strings.Contains(out, "Ready") || !strings.Contains(out, "running=2") || !strings.Contains(out, "60m") {
		t.Errorf("list: %v\n%s", err, out)
	}
	out, err = run(t, f, "status", "sc")
	if err != nil || !strings.Contains(out, "sc://sc-server.default.svc:15002") || !strings.Contains(out, "10.0.0.1") {
		t.Errorf("status: %v\n%s", err, out)
	}
	out, err = run(t, f, "url", "sc", "--in-cluster")
	if err != nil || out != "sc://sc-server.default.svc:15002\n" {
		t.Errorf("url --in-cluster: %v %q", err, out)
	}
	if _, err := run(t, f, "status", "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("status of a missing SparkConnect: %v", err)
	}
	if out, err := run(t, f, "delete", "sc"); err != nil || !strings.Contains(out, "deleted") {
		t.Errorf("delete: %v %s", err, out)
	}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: "sc"}, &v1alpha1.SparkConnect{}); !apierrors.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
}

// TestURLNotReady: forwarding needs a Ready server.
func TestURLNotReady(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	conn := wrappers.MakeSparkConnect("sc", "default").Obj()
	f := fakeFactory{util.NewFakeClient(clocktesting.NewFakeClock(time.Now()), interceptor.Funcs{}, conn)}
	if _, err := run(t, f, "url", "sc"); err == nil || !strings.Contains(err.Error(), "not Ready") {
		t.Errorf("url of a new SparkConnect: %v", err)
	}
}
