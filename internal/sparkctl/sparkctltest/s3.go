// Package sparkctltest holds what sparkctl's tests talk to besides the API server:
//
//   - S3Server: an S3-compatible server run in the test process. It is gofakes3
//     (github.com/johannesboyne/gofakes3, from the Go module proxy) with its in-memory backend, served
//     by net/http/httptest on a free 127.0.0.1 port; nothing is downloaded or installed, and it stops
//     with the test.
//   - CuttingProxy: a TCP proxy in front of it that cuts connections after a number of bytes, to
//     interrupt uploads in the middle of a request body.
//
// The fake kubelet the sparkctl integration tests use is internal/testing/fakekubelet.
package sparkctltest

import (
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials the S3 server accepts (gofakes3 accepts any; these are what the tests configure).
const (
	AccessKey = "sparkctl-test"
	SecretKey = "sparkctl-test-secret"
)

// S3Server is an in-process S3-compatible server.
type S3Server struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string
	// Backend is the in-memory storage, for checking what was stored.
	Backend *s3mem.Backend
	server  *httptest.Server
}

// StartS3 starts an S3 server with the given buckets; it stops when the test ends.
func StartS3(t testing.TB, buckets ...string) *S3Server {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatalf("creating bucket %s: %v", b, err)
		}
	}
	faker := gofakes3.New(backend, gofakes3.WithIntegrityCheck(true))
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	return &S3Server{URL: srv.URL, Backend: backend, server: srv}
}

// Keys lists the object keys of bucket, in order.
func (s *S3Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	list, err := s.Backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatalf("listing bucket %s: %v", bucket, err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// Object returns the content of an object.
func (s *S3Server) Object(t testing.TB, bucket, key string) []byte {
	t.Helper()
	obj, err := s.Backend.GetObject(bucket, key, nil)
	if err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Contents.Close()
	data, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

// CuttingProxy is a TCP proxy to a target address. While armed, it cuts each connection once more
// than a given number of bytes have gone from the client to the target on it, which interrupts an
// upload in the middle of a request body.
type CuttingProxy struct {
	// Addr is the proxy's address, 127.0.0.1:PORT.
	Addr string
	// URL is http://Addr.
	URL string

	target   string
	listener net.Listener
	cutAfter atomic.Int64
	cutsLeft atomic.Int64
	cuts     atomic.Int64
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// StartCuttingProxy starts a proxy to target (host:port); it stops when the test ends.
func StartCuttingProxy(t testing.TB, target string) *CuttingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CuttingProxy{Addr: l.Addr().String(), URL: "http://" + l.Addr().String(), target: target, listener: l, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = l.Close()
		// Idle keep-alive connections of the clients would otherwise stay open for minutes.
		p.mu.Lock()
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// CutAfter arms the proxy: the next times connections (all of them when times is negative) are cut
// once they have carried more than n bytes from the client. n = 0 disarms it.
func (p *CuttingProxy) CutAfter(n int64, times int) {
	p.cutsLeft.Store(int64(times))
	p.cutAfter.Store(n)
}

// Cuts returns how many connections were cut.
func (p *CuttingProxy) Cuts() int { return int(p.cuts.Load()) }

func (p *CuttingProxy) serve() {
	defer p.wg.Done()
	for {
		conn, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(conn)
		}()
	}
}

// handle copies one connection both ways, cutting it when armed.
func (p *CuttingProxy) handle(client net.Conn) {
	p.track(client, true)
	defer p.track(client, false)
	defer client.Close()
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer upstream.Close()
	go func() {
		_, _ = io.Copy(client, upstream)
		_ = client.Close()
	}()
	var sent int64
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			limit := p.cutAfter.Load()
			if limit > 0 && sent+int64(n) > limit && p.takeCut() {
				if keep := limit - sent; keep > 0 {
					_, _ = upstream.Write(buf[:keep])
				}
				p.cuts.Add(1)
				// Reset both sides, as a dropped network connection would look.
				resetClose(client)
				resetClose(upstream)
				return
			}
			sent += int64(n)
			if _, werr := upstream.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := upstream.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
			return
		}
	}
}

// track remembers the open client connections, so that stopping the proxy can close them.
func (p *CuttingProxy) track(c net.Conn, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if open {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

// takeCut consumes one cut when any is left.
func (p *CuttingProxy) takeCut() bool {
	for {
		left := p.cutsLeft.Load()
		if left == 0 {
			return false
		}
		if left < 0 || p.cutsLeft.CompareAndSwap(left, left-1) {
			return true
		}
	}
}

func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
