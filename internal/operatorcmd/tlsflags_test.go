package operatorcmd

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spf13/pflag"
)

// serveWith starts an HTTPS server whose tls.Config gets opts, as controller-runtime's metrics and
// webhook servers do with TLSOpts.
func serveWith(t *testing.T, opts []func(*tls.Config)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{}
	for _, o := range opts {
		o(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// handshake reports whether a client limited by limit completes a request to srv.
func handshake(srv *httptest.Server, limit func(*tls.Config)) error {
	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	limit(tr.TLSClientConfig)
	c.Transport = tr
	resp, err := c.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

// TestServerTLSFlags: --metric-tls-min-version and --metric-tls-cipher-suites (and the webhook's,
// the same code) set what a server accepts: a TLS 1.3 minimum refuses a TLS 1.2 client; named
// suites refuse a client offering only another one; the defaults accept both.
func TestServerTLSFlags(t *testing.T) {
	tls12 := func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }
	otherSuite := func(c *tls.Config) {
		c.MaxVersion = tls.VersionTLS12
		c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
	}
	for _, tc := range []struct {
		args             []string
		tls12OK, otherOK bool
	}{
		{nil, true, true},
		{[]string{"--metric-tls-min-version=VersionTLS13"}, false, false},
		{[]string{"--metric-tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, true, false},
	} {
		k := &kubeflowControllerOptions{}
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		k.addFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := k.tls.validate(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		srv := serveWith(t, tlsOptions(k.enableHTTP2, k.tls.options()...))
		if err := handshake(srv, func(*tls.Config) {}); err != nil {
			t.Errorf("%v: a default client: %v", tc.args, err)
		}
		if err := handshake(srv, tls12); (err == nil) != tc.tls12OK {
			t.Errorf("%v: a TLS 1.2 client: %v, want success %v", tc.args, err, tc.tls12OK)
		}
		if err := handshake(srv, otherSuite); (err == nil) != tc.otherOK {
			t.Errorf("%v: a client with another suite: %v, want success %v", tc.args, err, tc.otherOK)
		}
	}
}
