package processnode

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
)

// servePortForward serves the kubelet's /portForward/<namespace>/<pod>[/<uid>] endpoint, which
// `kubectl port-forward` (pods/portforward through the API server) reaches, over SPDY or
// WebSockets with the kubelet's streaming library.
func (n *Node) servePortForward(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("pod")
	pod, err := n.pods.Pods(ns).Get(name)
	if err != nil {
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	}
	if uid := r.PathValue("uid"); uid != "" && uid != string(pod.UID) {
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, podPortForwarder{n}, name, string(pod.UID), opts,
		4*time.Hour, 30*time.Second, portforward.SupportedProtocols)
}

// podPortForwarder connects a port-forward stream to a pod's port: localhost:<port> inside the
// pod's network namespace, as the kubelet does, or <pod IP>:<port> for a pod on a loopback address.
type podPortForwarder struct{ n *Node }

// PortForward implements the streaming library's PortForwarder.
func (f podPortForwarder) PortForward(ctx context.Context, name, uid string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	var conn net.Conn
	var err error
	dial := func(host string) error {
		d := net.Dialer{Timeout: 10 * time.Second}
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
		return err
	}
	if path := f.n.network.netnsPath(types.UID(uid)); path != "" {
		err = inNetNS(path, func() error { return dial("127.0.0.1") })
	} else {
		ip := f.n.podIP(types.UID(uid))
		if ip == "" {
			return fmt.Errorf("pod %s has no IP", name)
		}
		err = dial(ip)
	}
	if err != nil {
		return fmt.Errorf("port-forward to pod %s port %d: %w", name, port, err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(conn, stream); closeWrite(conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(stream, conn); done <- struct{}{} }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// podIP returns the IP of the pod with this UID on the node, "" when it has none.
func (n *Node) podIP(uid types.UID) string {
	n.mu.Lock()
	w, ok := n.workers[uid]
	n.mu.Unlock()
	if !ok {
		return ""
	}
	pod, err := n.pods.Pods(w.namespace).Get(w.name)
	if err != nil || pod.UID != uid {
		return ""
	}
	return pod.Status.PodIP
}
