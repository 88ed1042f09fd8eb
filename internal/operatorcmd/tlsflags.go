package operatorcmd

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// serverTLS is the TLS policy of the metrics and webhook servers set by the flags Kubeflow's
// operator has on its main branch after v2.5.2: --<prefix>-tls-min-version and
// --<prefix>-tls-cipher-suites, where the prefix is "metric" for `controller start` and "webhook"
// for `webhook start` (in both commands the policy applies to both servers, as in Kubeflow).
// --enable-http2 stays a flag of its own.
type serverTLS struct {
	prefix       string
	minVersion   string
	cipherSuites []string
}

// tlsVersions are the values of --<prefix>-tls-min-version, Kubeflow's: TLS 1.2 and 1.3 only.
var tlsVersions = map[string]uint16{"VersionTLS12": tls.VersionTLS12, "VersionTLS13": tls.VersionTLS13}

// addFlags registers --<prefix>-tls-min-version (default VersionTLS12) and
// --<prefix>-tls-cipher-suites (default none: Go's) on f.
func (s *serverTLS) addFlags(f *pflag.FlagSet, prefix string) {
	s.prefix = prefix
	f.StringVar(&s.minVersion, prefix+"-tls-min-version", "VersionTLS12", "minimum TLS version of the metrics and webhook servers: VersionTLS12 or VersionTLS13")
	f.StringSliceVar(&s.cipherSuites, prefix+"-tls-cipher-suites", nil, "cipher suites of the metrics and webhook servers for TLS 1.2, by Go's names (crypto/tls CipherSuites); empty: Go's defaults")
}

// validate refuses an unknown version, an unknown or insecure cipher suite, and cipher suites with
// a TLS 1.3 minimum (Go does not let TLS 1.3's suites be chosen: they would do nothing), naming the
// flag.
func (s *serverTLS) validate() error {
	if _, ok := tlsVersions[s.minVersion]; !ok {
		return fmt.Errorf("--%s-tls-min-version: %q is not VersionTLS12 or VersionTLS13", s.prefix, s.minVersion)
	}
	ids, err := s.suiteIDs()
	if err != nil {
		return err
	}
	if s.minVersion == "VersionTLS13" && len(ids) > 0 {
		return fmt.Errorf("--%s-tls-cipher-suites: TLS 1.3's cipher suites cannot be chosen; with --%s-tls-min-version=VersionTLS13 leave it empty", s.prefix, s.prefix)
	}
	return nil
}

// suiteIDs returns the IDs of the cipher suites named, or an error naming the flag and the suite.
func (s *serverTLS) suiteIDs() ([]uint16, error) {
	known := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		known[cs.Name] = cs.ID
	}
	var ids []uint16
	for _, name := range s.cipherSuites {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		id, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("--%s-tls-cipher-suites: %q is not one of Go's secure cipher suites (crypto/tls CipherSuites)", s.prefix, name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// options are the tls.Config settings of a validated policy: the minimum version, and the cipher
// suites when some are named.
func (s *serverTLS) options() []func(*tls.Config) {
	version := tlsVersions[s.minVersion]
	ids, _ := s.suiteIDs() // validated
	return []func(*tls.Config){func(c *tls.Config) {
		c.MinVersion = version
		if len(ids) > 0 {
			c.CipherSuites = ids
		}
	}}
}
