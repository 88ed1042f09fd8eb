// Package scraper reads what the benchmarks measure from the outside: the API server's request
// counters (/metrics) and the CPU time and memory of processes (/proc).
package scraper

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// RequestCounts are the API server's apiserver_request_total counters of writes, summed by
// "VERB resource[/subresource]", with " (<code>)" for the requests that failed.
type RequestCounts map[string]float64

// ScrapeRequests reads the API server's /metrics and sums apiserver_request_total by verb and
// resource for the writing verbs.
func ScrapeRequests(ctx context.Context, cs kubernetes.Interface) (RequestCounts, error) {
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	counts := RequestCounts{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		l := parseLabels(labels)
		switch l["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		key := l["verb"] + " " + l["resource"]
		if sub := l["subresource"]; sub != "" {
			key += "/" + sub
		}
		if code := l["code"]; code != "" && !strings.HasPrefix(code, "2") {
			key += " (" + code + ")"
		}
		counts[key] += v
	}
	return counts, sc.Err()
}

// parseLabels parses `a="x",b="y"` (values without escaped quotes, as these labels are).
func parseLabels(s string) map[string]string {
	m := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, `="`)
		if !ok {
			break
		}
		v, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			break
		}
		m[k] = v
		s = strings.TrimPrefix(rest, ",")
	}
	return m
}

// PerApp is the writes per application between two scrapes, largest first, e.g.
// "POST events 6.0, POST services 2.3, ...".
func PerApp(before, after RequestCounts, n int) string {
	type kv struct {
		k string
		v float64
	}
	var list []kv
	total := 0.0
	for k, v := range after {
		d := (v - before[k]) / float64(n)
		if d >= 0.05 {
			list = append(list, kv{k, d})
			total += d
		}
	}
	slices.SortFunc(list, func(a, b kv) int {
		if a.v != b.v {
			if a.v > b.v {
				return -1
			}
			return 1
		}
		return strings.Compare(a.k, b.k)
	})
	parts := make([]string, 0, len(list))
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %.1f", e.k, e.v))
	}
	return fmt.Sprintf("%.1f in all: %s", total, strings.Join(parts, ", "))
}
