// Package fakekubelet is a scripted kubelet for tests against a real API server: an HTTPS server,
// registered as a Node, that answers the API server's container-log and port-forward requests from
// what the test scripts (WriteLog, EndLog, Forward), so that `kubectl logs`-style and port-forward
// clients (sparkctl log, sparkctl forward) take the same path through the API server as against a
// cluster. It runs no containers; pod status is the test's to write (util.SetPodStatus). For a node
// that runs pods as local processes and serves their real logs, see internal/testing/processnode.
package fakekubelet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// portForwardProtocol is the port-forward protocol the kubelet speaks (v1).
const portForwardProtocol = "portforward.k8s.io"

// Kubelet is a fake kubelet: an HTTPS server that answers the API server's requests for container
// logs (GET /containerLogs/NS/POD/CONTAINER) and port forwarding (POST /portForward/NS/POD, SPDY),
// registered as a Node whose address is 127.0.0.1 and whose kubelet port is the server's. Pods bound
// to the node (Bind) get their logs and port forwards from it. The API server does not verify the
// kubelet's certificate when it has no kubelet CA, as in envtest.
type Kubelet struct {
	// NodeName is the Node the kubelet registered.
	NodeName string

	server *httptest.Server
	cs     kubernetes.Interface

	mu    sync.Mutex
	logs  map[string]*logBuffer
	ports map[string]string // "ns/pod/port" -> target address
}

// logBuffer is the log of one container: what was written so far, and whether it ended.
type logBuffer struct {
	data    []byte
	ended   bool
	changed chan struct{}
}

// StartKubelet starts the fake kubelet and registers Node nodeName. The node is deleted and the
// server stopped when the test (or TestMain's cleanup function) ends.
func StartKubelet(ctx context.Context, cs kubernetes.Interface, nodeName string) (*Kubelet, func(), error) {
	k := &Kubelet{NodeName: nodeName, cs: cs, logs: map[string]*logBuffer{}, ports: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.serveLogs)
	mux.HandleFunc("POST /portForward/{ns}/{pod}", k.servePortForward)
	mux.HandleFunc("GET /portForward/{ns}/{pod}", k.servePortForward)
	k.server = httptest.NewUnstartedServer(mux)
	k.server.StartTLS()
	_, portStr, _ := net.SplitHostPort(k.server.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}
	node, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		k.server.Close()
		return nil, nil, fmt.Errorf("registering node %s: %w", nodeName, err)
	}
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
		Conditions:      []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		k.server.Close()
		return nil, nil, fmt.Errorf("setting the status of node %s: %w", nodeName, err)
	}
	reapCtx, cancel := context.WithCancel(context.Background())
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		k.reapPods(reapCtx)
	}()
	stop := func() {
		cancel()
		<-reaped
		_ = cs.CoreV1().Nodes().Delete(context.Background(), nodeName, metav1.DeleteOptions{})
		k.server.Close()
	}
	return k, stop, nil
}

// reapPods finishes the deletion of pods bound to the node, as a kubelet does once their containers
// stopped: a bound pod that is deleted stays Terminating until its kubelet confirms.
func (k *Kubelet) reapPods(ctx context.Context) {
	for {
		list, err := k.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + k.NodeName})
		if err == nil {
			for _, p := range list.Items {
				if p.DeletionTimestamp == nil || (p.DeletionGracePeriodSeconds != nil && *p.DeletionGracePeriodSeconds == 0) {
					continue
				}
				uid := p.UID
				_ = k.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
					GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &uid},
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Bind binds a pod to the kubelet's node, as the scheduler would.
func (k *Kubelet) Bind(t testing.TB, ns, pod string) {
	t.Helper()
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: ns}, Target: corev1.ObjectReference{Kind: "Node", Name: k.NodeName}}
	if err := k.cs.CoreV1().Pods(ns).Bind(context.Background(), b, metav1.CreateOptions{}); err != nil {
		t.Fatalf("binding pod %s to %s: %v", pod, k.NodeName, err)
	}
}

func logKey(ns, pod, container string) string { return ns + "/" + pod + "/" + container }

func (k *Kubelet) buffer(key string) *logBuffer {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.logs[key]
	if !ok {
		b = &logBuffer{changed: make(chan struct{})}
		k.logs[key] = b
	}
	return b
}

// WriteLog appends text to the log of a container.
func (k *Kubelet) WriteLog(ns, pod, container, text string) {
	b := k.buffer(logKey(ns, pod, container))
	k.mu.Lock()
	defer k.mu.Unlock()
	b.data = append(b.data, text...)
	close(b.changed)
	b.changed = make(chan struct{})
}

// EndLog marks the log of a container as ended: a follower's stream ends.
func (k *Kubelet) EndLog(ns, pod, container string) {
	b := k.buffer(logKey(ns, pod, container))
	k.mu.Lock()
	defer k.mu.Unlock()
	b.ended = true
	close(b.changed)
	b.changed = make(chan struct{})
}

// Forward makes port port of pod ns/pod reach target (host:port) through port forwarding.
func (k *Kubelet) Forward(ns, pod string, port int, target string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ports[fmt.Sprintf("%s/%s/%d", ns, pod, port)] = target
}

// serveLogs writes a container's log; with follow=true it streams until the log ends or the
// request is cancelled.
func (k *Kubelet) serveLogs(w http.ResponseWriter, r *http.Request) {
	key := logKey(r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"))
	follow := r.URL.Query().Get("follow") == "true"
	k.mu.Lock()
	_, known := k.logs[key]
	k.mu.Unlock()
	if !known && !follow {
		http.Error(w, "no log for "+key, http.StatusNotFound)
		return
	}
	b := k.buffer(key)
	w.Header().Set("Content-Type", "text/plain")
	flusher, _ := w.(http.Flusher)
	sent := 0
	for {
		k.mu.Lock()
		data, ended, changed := b.data[sent:], b.ended, b.changed
		k.mu.Unlock()
		if len(data) > 0 {
			if _, err := w.Write(data); err != nil {
				return
			}
			sent += len(data)
			if flusher != nil {
				flusher.Flush()
			}
		}
		if !follow || ended {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

// servePortForward speaks the kubelet's SPDY port-forward protocol: each forwarded connection is a
// pair of streams (error, data) with the same requestID; the data stream is connected to the
// target registered with Forward.
func (k *Kubelet) servePortForward(w http.ResponseWriter, r *http.Request) {
	ns, pod := r.PathValue("ns"), r.PathValue("pod")
	if _, err := httpstream.Handshake(r, w, []string{portForwardProtocol}); err != nil {
		return
	}
	streams := make(chan httpstream.Stream, 4)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(time.Minute)
	type pair struct{ errStream, dataStream httpstream.Stream }
	pairs := map[string]*pair{}
	for {
		select {
		case <-conn.CloseChan():
			return
		case s := <-streams:
			id := s.Headers().Get("requestID")
			p := pairs[id]
			if p == nil {
				p = &pair{}
				pairs[id] = p
			}
			if s.Headers().Get("streamType") == "error" {
				p.errStream = s
			} else {
				p.dataStream = s
			}
			if p.errStream != nil && p.dataStream != nil {
				delete(pairs, id)
				go k.forward(ns, pod, s.Headers().Get("port"), p.errStream, p.dataStream)
			}
		}
	}
}

// forward connects one data stream to its target.
func (k *Kubelet) forward(ns, pod, port string, errStream, data httpstream.Stream) {
	defer errStream.Close()
	k.mu.Lock()
	target, ok := k.ports[ns+"/"+pod+"/"+port]
	k.mu.Unlock()
	if !ok {
		fmt.Fprintf(errStream, "nothing listens on port %s of pod %s/%s", port, ns, pod)
		data.Close()
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		fmt.Fprintf(errStream, "dialing %s: %v", target, err)
		data.Close()
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, data)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(data, up)
	data.Close()
	<-done
}
