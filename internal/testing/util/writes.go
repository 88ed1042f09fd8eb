package util

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// WriteCounter counts the write requests (POST, PUT, PATCH, DELETE) that clients built from one
// rest.Config send to the API server, by "<VERB> <resource>[/<subresource>]", e.g.
// "PUT sparkapplications/status" or "POST events" for the ones that succeeded, with the HTTP status
// appended for the others ("PUT sparkapplications/status (409)"), as hack/bench reports them. Safe
// for concurrent use.
type WriteCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// CountWrites returns a copy of cfg whose clients' write requests are counted by the returned
// WriteCounter (through rest.Config.WrapTransport; cfg itself is not changed).
func CountWrites(cfg *rest.Config) (*rest.Config, *WriteCounter) {
	w := &WriteCounter{counts: map[string]int{}}
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				key := req.Method + " " + resourceOf(req.URL.Path)
				switch {
				case err != nil:
					key += " (error)"
				case resp.StatusCode >= 300:
					key += " (" + strconv.Itoa(resp.StatusCode) + ")"
				}
				w.add(key)
			}
			return resp, err
		})
	})
	return out, w
}

// Count is the number of writes of key ("PUT sparkapplications/status") so far.
func (w *WriteCounter) Count(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[key]
}

// Counts is a copy of all counts so far, by key.
func (w *WriteCounter) Counts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.counts))
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}

func (w *WriteCounter) add(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[key]++
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// resourceOf turns an API path (/api/v1/namespaces/ns/pods/name/status,
// /apis/group/version/namespaces/ns/events) into "pods/status" or "events".
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return path
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	switch len(parts) {
	case 0:
		return "namespaces"
	case 1, 2:
		return parts[0]
	default:
		return parts[0] + "/" + parts[2]
	}
}
