// Package audit counts the API writes of a benchmark run by client and resource from the
// kube-apiserver's audit log (hack/bench -audit): the API server's apiserver_request_total has no
// client label, the audit log names the user and the user agent of every request.
//
// The cluster is started with Policy (kwokctl --kube-audit-policy), which logs the writing verbs
// (create, update, patch, delete, deletecollection) at level Metadata, one event per request (stage
// ResponseComplete; RequestReceived is omitted), as JSON lines to the file kwokctl names
// (<cluster dir>/logs/audit.log). Auditing costs the API server CPU, so runs that measure CPU leave
// it off.
package audit

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// Policy is the audit policy of a benchmark cluster: the writing verbs at level Metadata, nothing
// else, and no RequestReceived stage (so each request is logged once, when its response is sent).
const Policy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

// Writes are write requests counted by client (see Client) and by verb and resource ("create pods",
// "create pods/binding", "update sparkapplications/status", with " (<code>)" appended when the
// request failed).
type Writes map[string]map[string]int

// Add counts one request.
func (w Writes) Add(client, resource string) {
	if w[client] == nil {
		w[client] = map[string]int{}
	}
	w[client][resource]++
}

// Parse reads an audit log (JSON lines of audit.k8s.io/v1 Events) and counts the write requests
// whose response was sent in [from, to) (zero times: no bound). Events of other stages, reads
// and lines that are not events are skipped.
func Parse(r io.Reader, from, to time.Time) (Writes, error) {
	w := Writes{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var ev auditv1.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Stage != auditv1.StageResponseComplete || !isWrite(ev.Verb) {
			continue
		}
		at := ev.StageTimestamp.Time
		if (!from.IsZero() && at.Before(from)) || (!to.IsZero() && !at.Before(to)) {
			continue
		}
		w.Add(Client(ev.UserAgent, ev.User.Username), ev.Verb+" "+Resource(&ev))
	}
	return w, sc.Err()
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

// Resource is the event's resource with its subresource ("pods/binding"), the request's path when
// it names no resource, and " (<code>)" when the response was not a success.
func Resource(ev *auditv1.Event) string {
	res := ev.RequestURI
	if o := ev.ObjectRef; o != nil && o.Resource != "" {
		res = o.Resource
		if o.Subresource != "" {
			res += "/" + o.Subresource
		}
	}
	if s := ev.ResponseStatus; s != nil && (s.Code < 200 || s.Code > 299) {
		res += fmt.Sprintf(" (%d)", s.Code)
	}
	return res
}

// Client names who sent a request: the program of the user agent (its text up to the first "/",
// e.g. "kube-scheduler", "spark-operator", "sparkop-bench"), followed by the controller when the
// user agent or the user says which: client-go appends it to the default user agent
// ("kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/abc/endpointslice-controller"), and
// kube-controller-manager with --use-service-account-credentials acts as
// system:serviceaccount:kube-system:<controller>. A controller that ends the program's name
// ("kube-scheduler/... kubernetes/abc/scheduler") is left out.
func Client(userAgent, username string) string {
	program, _, _ := strings.Cut(userAgent, "/")
	if program == "" {
		program = username
	}
	controller := ""
	if f := strings.Fields(userAgent); len(f) > 1 {
		// "kubernetes/<commit>/<controller>": the last field of client-go's default agent.
		if parts := strings.SplitN(f[len(f)-1], "/", 3); len(parts) == 3 {
			controller = parts[2]
		}
	}
	if sa, ok := strings.CutPrefix(username, "system:serviceaccount:kube-system:"); ok && controller == "" {
		controller = sa
	}
	if controller != "" && !strings.HasSuffix(program, controller) { // not "kube-scheduler scheduler"
		return program + " " + controller
	}
	return program
}

// ClientWrites are one client's writes per application.
type ClientWrites struct {
	Client string
	// Total is the client's writes per application.
	Total float64
	// Resources are its writes per application by resource, largest first.
	Resources []ResourceWrites
}

// ResourceWrites is the writes per application to one resource.
type ResourceWrites struct {
	Resource string
	PerApp   float64
}

// PerApp divides the counts by n applications: clients largest first, each with its resources
// largest first (ties by name).
func (w Writes) PerApp(n int) []ClientWrites {
	var out []ClientWrites
	for client, byRes := range w {
		cw := ClientWrites{Client: client}
		for res, c := range byRes {
			v := float64(c) / float64(n)
			cw.Resources = append(cw.Resources, ResourceWrites{res, v})
			cw.Total += v
		}
		slices.SortFunc(cw.Resources, func(a, b ResourceWrites) int {
			return cmp.Or(cmp.Compare(b.PerApp, a.PerApp), strings.Compare(a.Resource, b.Resource))
		})
		out = append(out, cw)
	}
	slices.SortFunc(out, func(a, b ClientWrites) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), strings.Compare(a.Client, b.Client))
	})
	return out
}

// Total is the number of writes, and the number without Lease writes (node heartbeats and leader
// election, which follow the run's length rather than its applications).
func (w Writes) Total() (all, withoutLeases int) {
	for _, byRes := range w {
		for res, c := range byRes {
			all += c
			if f := strings.Fields(res); len(f) < 2 || f[1] != "leases" {
				withoutLeases += c
			}
		}
	}
	return all, withoutLeases
}

// String is the client's writes per application, e.g.
// "spark-operator 9.0: create events 3.0, update sparkapplications/status 3.0, create pods 1.0".
func (c ClientWrites) String() string {
	return fmt.Sprintf("%s %.1f: %s", c.Client, c.Total, c.ResourcesText())
}

// ResourcesText is "create events 3.0, create pods 1.0, ..." (resources under 0.05 per application left out,
// as "+ k more").
func (c ClientWrites) ResourcesText() string {
	var parts []string
	small := 0
	for _, r := range c.Resources {
		if r.PerApp < 0.05 {
			small++
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f", r.Resource, r.PerApp))
	}
	if small > 0 {
		parts = append(parts, fmt.Sprintf("%d more under 0.05", small))
	}
	return strings.Join(parts, ", ")
}
