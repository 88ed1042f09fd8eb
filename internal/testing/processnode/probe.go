package processnode

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeReadiness runs the container's readiness probe until the container exits, as the kubelet
// does: after initialDelaySeconds, every periodSeconds (default 10), with timeoutSeconds (default
// 1); successThreshold successes in a row make the container ready, failureThreshold failures in
// a row (default 3) unready. wake is called on every change. httpGet and tcpSocket probes run
// against the pod IP (or the probe's host); exec and grpc probes are not run and count as success.
func (c *container) probeReadiness(p *corev1.Probe, ports []corev1.ContainerPort, podIP string, wake func()) {
	period := secondsOr(p.PeriodSeconds, 10)
	timeout := secondsOr(p.TimeoutSeconds, 1)
	successes, failures := 0, 0
	successNeeded, failuresNeeded := max(int(p.SuccessThreshold), 1), max(int(p.FailureThreshold), 1)
	if p.FailureThreshold == 0 {
		failuresNeeded = 3
	}
	wait := time.Duration(p.InitialDelaySeconds) * time.Second
	done := c.done
	for {
		select {
		case <-done:
			return
		case <-time.After(wait):
		}
		wait = period
		if err := runProbe(p, ports, podIP, timeout); err != nil {
			successes, failures = 0, failures+1
			if failures >= failuresNeeded && c.ready.Swap(false) {
				wake()
			}
			continue
		}
		successes, failures = successes+1, 0
		if successes >= successNeeded && !c.ready.Swap(true) {
			wake()
		}
	}
}

func secondsOr(s int32, def int) time.Duration {
	if s <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(s) * time.Second
}

// runProbe runs one probe; nil means success.
func runProbe(p *corev1.Probe, ports []corev1.ContainerPort, podIP string, timeout time.Duration) error {
	switch {
	case p.HTTPGet != nil:
		g := p.HTTPGet
		port, err := probePort(g.Port, ports)
		if err != nil {
			return err
		}
		host := g.Host
		if host == "" {
			host = podIP
		}
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), g.Path), nil)
		if err != nil {
			return err
		}
		for _, h := range g.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		client := &http.Client{Timeout: timeout, Transport: &http.Transport{
			// The kubelet does not verify a probed pod's certificate either.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		}}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with status %d", resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		port, err := probePort(p.TCPSocket.Port, ports)
		if err != nil {
			return err
		}
		host := p.TCPSocket.Host
		if host == "" {
			host = podIP
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), timeout)
		if err != nil {
			return err
		}
		return conn.Close()
	default:
		return nil
	}
}

// probePort resolves a probe's port, a number or the name of a container port.
func probePort(port intstr.IntOrString, ports []corev1.ContainerPort) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("no container port named %q", port.StrVal)
}
