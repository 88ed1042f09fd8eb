package processnode_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/internal/testing/processnode"
)

// webServer answers every HTTP request on port 8080 of all the pod's addresses with one line, one
// process per connection (a stuck client cannot block the others).
const webServer = `exec perl -MIO::Socket::INET -e '$SIG{CHLD} = "IGNORE"; $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0:8080", Listen => 20, ReuseAddr => 1) or die $!; while (1) { $c = $s->accept or next; if (fork() == 0) { alarm 10; while (<$c>) { last if /^\r?$/ } print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from web\n"; close $c; exit 0 } close $c }'`

// Pods get addresses on the pod network (a network namespace each, the default): EndpointSlices
// accept them, the API server's proxy and the node reach them, other pods reach them by their
// Service's name, and kubectl port-forward reaches a port inside the pod. PROCESSNODE_POD_NETWORK=1
// requires the namespaces (PodNetworkNamespaces) rather than skipping where the node falls back.
func TestPodNetwork(t *testing.T) {
	mode := processnode.PodNetworkAuto
	if os.Getenv("PROCESSNODE_POD_NETWORK") == "1" {
		mode = processnode.PodNetworkNamespaces
	}
	node, cs := startNode(t, func(c *processnode.Config) { c.PodNetwork = mode })
	ns := env.NewNamespace(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	web := shellPod(ns, "web", node, webServer)
	web.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, web, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	web = waitForPhase(t, cs, ns, "web", corev1.PodRunning)
	ip := web.Status.PodIP
	if strings.HasPrefix(ip, "127.") {
		t.Skipf("the process node fell back to loopback pod addresses (%s; its log says why): pods are not routable here", ip)
	}

	// The EndpointSlice API accepts the address (it refuses loopback ones).
	if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-manual", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}, metav1.CreateOptions{}); err != nil {
		t.Errorf("the EndpointSlice API refused the pod IP %s: %v", ip, err)
	}

	// The API server's pod proxy connects to the pod IP.
	var reply []byte
	waitFor(t, 30*time.Second, "the API server's proxy to reach the pod", func() bool {
		var err error
		reply, err = cs.CoreV1().Pods(ns).ProxyGet("http", "web", "8080", "/", nil).DoRaw(ctx)
		return err == nil
	})
	if !strings.Contains(string(reply), "hello from web") {
		t.Errorf("through the API server's pod proxy: %q", reply)
	}

	// Another pod reaches it by its Service's name.
	client := shellPod(ns, "client", node, `for i in $(seq 1 50); do wget -T 2 -t 1 -qO- http://web.`+ns+`.svc:8080/ && exit 0; sleep 0.5; done; exit 1`)
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, client, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForPhase(t, cs, ns, "client", corev1.PodSucceeded)
	if log := logsOf(t, cs, ns, "client", &corev1.PodLogOptions{}); !strings.Contains(log, "hello from web") {
		t.Errorf("the client pod did not reach web.%s.svc:8080:\n%s", ns, log)
	}

	// Port-forward, as kubectl port-forward does it (SPDY through the API server to the node).
	if got := portForwardGet(t, cs, ns, "web", 8080); !strings.Contains(got, "hello from web") {
		t.Errorf("through port-forward: %q", got)
	}
}

// portForwardGet forwards a local port to the pod's port and returns the body of GET /.
func portForwardGet(t *testing.T, cs *kubernetes.Clientset, ns, pod string, port int) string {
	t.Helper()
	transport, upgrader, err := spdy.RoundTripperFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	u := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	defer close(stop)
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("port-forward: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("port-forward was not ready within 30s")
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		t.Fatalf("port-forward ports: %v", err)
	}
	resp, err := http.Get((&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0].Local), Path: "/"}).String())
	if err != nil {
		t.Fatalf("GET through port-forward: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
