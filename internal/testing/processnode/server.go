package processnode

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// serveTCPProxy forwards every connection accepted on ln to target: kubernetes.default.svc:443
// for the containers, ending at the API server, whose certificate carries that name.
func serveTCPProxy(ctx context.Context, ln net.Listener, target string, log logr.Logger) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Error(err, "API server proxy stopped accepting")
			}
			return
		}
		go func() {
			defer conn.Close()
			up, err := net.DialTimeout("tcp", target, 10*time.Second)
			if err != nil {
				log.Error(err, "API server proxy cannot reach the API server", "target", target)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, conn); closeWrite(up); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, up); closeWrite(conn); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// selfSignedCert is the kubelet endpoint's serving certificate; the API server does not verify
// kubelet certificates unless started with --kubelet-certificate-authority.
func selfSignedCert(names []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "processnode"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// logServer serves the kubelet's /containerLogs/<namespace>/<pod>/<container> endpoint, which
// `kubectl logs` reaches through the API server, with follow, previous, tailLines, timestamps,
// sinceSeconds, sinceTime and limitBytes; and /portForward (see servePortForward).
func (n *Node) logServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", n.serveLogs)
	for _, path := range []string{"/portForward/{namespace}/{pod}", "/portForward/{namespace}/{pod}/{uid}"} {
		mux.HandleFunc(path, n.servePortForward)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

func (n *Node) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, podName, name := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	pod, err := n.pods.Pods(ns).Get(podName)
	if err != nil {
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	}
	dir := filepath.Join(n.cfg.StateDir, "pods", string(pod.UID), "containers", name)
	restarts := -1
	for _, cs := range append(pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses...) {
		if cs.Name == name {
			restarts = int(cs.RestartCount)
		}
	}
	q := r.URL.Query()
	if q.Get("previous") == "true" {
		restarts--
	}
	if restarts < 0 {
		http.Error(w, "container "+name+" has no logs", http.StatusBadRequest)
		return
	}
	f, err := os.Open(logPath(dir, restarts))
	if err != nil {
		http.Error(w, "container "+name+" has not started", http.StatusBadRequest)
		return
	}
	defer f.Close()
	opts := logOptions{timestamps: q.Get("timestamps") == "true", tail: -1, limit: -1}
	if v, err := strconv.Atoi(q.Get("tailLines")); err == nil {
		opts.tail = v
	}
	if v, err := strconv.ParseInt(q.Get("limitBytes"), 10, 64); err == nil {
		opts.limit = v
	}
	if v, err := strconv.Atoi(q.Get("sinceSeconds")); err == nil {
		opts.since = time.Now().Add(-time.Duration(v) * time.Second)
	}
	if v, err := time.Parse(time.RFC3339, q.Get("sinceTime")); err == nil {
		opts.since = v
	}
	w.Header().Set("Content-Type", "text/plain")
	follow := q.Get("follow") == "true"
	done := func() bool {
		c, err := n.pods.Pods(ns).Get(podName)
		if err != nil || c.UID != pod.UID {
			return true
		}
		for _, cs := range c.Status.ContainerStatuses {
			if cs.Name == name {
				return int(cs.RestartCount) != restarts || cs.State.Terminated != nil
			}
		}
		return false
	}
	_ = writeLogs(r.Context(), w, f, opts, follow, done)
}

type logOptions struct {
	timestamps bool
	tail       int
	limit      int64
	since      time.Time
}

// writeLogs copies CRI log lines from f to w (joining P-tagged partial lines), optionally only the
// last tail lines, then, when following, new lines until done reports the container ended.
func writeLogs(ctx context.Context, w io.Writer, f *os.File, opts logOptions, follow bool, done func() bool) error {
	r := bufio.NewReader(f)
	var lines []string
	var written int64
	emit := func(line string) bool {
		ts, rest, ok := strings.Cut(line, " ")
		if !ok {
			return true
		}
		_, rest, _ = strings.Cut(rest, " ") // stream
		tag, text, _ := strings.Cut(rest, " ")
		if !opts.since.IsZero() {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil && t.Before(opts.since) {
				return true
			}
		}
		out := text
		if tag != "P" {
			out += "\n"
		}
		if opts.timestamps {
			out = ts + " " + out
		}
		if opts.limit >= 0 && written+int64(len(out)) > opts.limit {
			out = out[:opts.limit-written]
		}
		n, err := io.WriteString(w, out)
		written += int64(n)
		if fl, ok := w.(http.Flusher); ok && follow {
			fl.Flush()
		}
		return err == nil && (opts.limit < 0 || written < opts.limit)
	}
	for {
		line, err := r.ReadString('\n')
		if err == nil {
			line = strings.TrimSuffix(line, "\n")
			if opts.tail >= 0 {
				lines = append(lines, line)
				if len(lines) > opts.tail {
					lines = lines[1:]
				}
			} else if !emit(line) {
				return nil
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		// At the end of what is written so far: flush the tail, then follow.
		for _, l := range lines {
			if !emit(l) {
				return nil
			}
		}
		lines, opts.tail = nil, -1
		if !follow {
			return nil
		}
		if done() {
			// One more pass for what was written before the end.
			rest, _ := io.ReadAll(r)
			for _, l := range strings.Split(strings.TrimSuffix(line+string(rest), "\n"), "\n") {
				if l != "" && !emit(l) {
					return nil
				}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
		// A partial read is kept for the next round.
		if line != "" {
			r = bufio.NewReader(io.MultiReader(strings.NewReader(line), f))
		}
	}
}
