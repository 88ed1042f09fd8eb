package processnode

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
)

// hostsManager keeps every pod's /etc/hosts current: the pod's own name, kubernetes.default.svc
// (the API server proxy), and for each Service with a selector the IPs of the running pods it
// selects, under <svc>.<ns>.svc.cluster.local, <svc>.<ns>.svc, <svc>.<ns>, and <svc> for pods of
// the same namespace. This stands in for cluster DNS and, for non-headless Services, kube-proxy
// (a Service's port must then equal its targetPort).
type hostsManager struct {
	pods     listerscorev1.PodLister
	services listerscorev1.ServiceLister
	proxyIP  string
	log      logr.Logger
	kick     chan struct{}

	mu      sync.Mutex
	entries map[types.UID]*hostsEntry
	writeMu sync.Mutex // serialises write
}

type hostsEntry struct {
	namespace, name, hostname, subdomain, ip, path string
	written                                        string
}

func newHostsManager(pods listerscorev1.PodLister, services listerscorev1.ServiceLister, proxyIP string, log logr.Logger) *hostsManager {
	return &hostsManager{pods: pods, services: services, proxyIP: proxyIP, log: log,
		kick: make(chan struct{}, 1), entries: map[types.UID]*hostsEntry{}}
}

// add registers a pod and writes its hosts file at once (before any container starts).
func (h *hostsManager) add(uid types.UID, pod *corev1.Pod, ip, path string) {
	e := &hostsEntry{namespace: pod.Namespace, name: pod.Name, hostname: podHostname(pod), subdomain: pod.Spec.Subdomain, ip: ip, path: path}
	services := h.serviceLines()
	h.mu.Lock()
	h.entries[uid] = e
	h.mu.Unlock()
	h.write(e, services)
}

func (h *hostsManager) remove(uid types.UID) {
	h.mu.Lock()
	delete(h.entries, uid)
	h.mu.Unlock()
}

// changed asks for a rewrite; rewrites are coalesced.
func (h *hostsManager) changed() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *hostsManager) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		}
		services := h.serviceLines()
		h.mu.Lock()
		entries := make([]*hostsEntry, 0, len(h.entries))
		for _, e := range h.entries {
			entries = append(entries, e)
		}
		h.mu.Unlock()
		for _, e := range entries {
			h.write(e, services)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type serviceLine struct {
	namespace, name string
	ips             []string
}

// serviceLines lists, for each Service with a selector, the IPs of the pods it selects that have
// an IP and have not ended.
func (h *hostsManager) serviceLines() []serviceLine {
	svcs, err := h.services.List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []serviceLine
	for _, svc := range svcs {
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		pods, err := h.pods.Pods(svc.Namespace).List(labels.SelectorFromSet(svc.Spec.Selector))
		if err != nil {
			continue
		}
		var ips []string
		for _, p := range pods {
			if p.Status.PodIP != "" && p.DeletionTimestamp == nil &&
				p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				ips = append(ips, p.Status.PodIP)
			}
		}
		if len(ips) == 0 {
			continue
		}
		sort.Strings(ips)
		out = append(out, serviceLine{namespace: svc.Namespace, name: svc.Name, ips: ips})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].namespace != out[j].namespace {
			return out[i].namespace < out[j].namespace
		}
		return out[i].name < out[j].name
	})
	return out
}

// write rewrites the pod's hosts file in place when its content changed. The file is bind-mounted
// into the containers, so it must keep its inode: the new content is written over the old one and
// the file then cut to length, the stable head (localhost, the pod, kubernetes) first.
func (h *hostsManager) write(e *hostsEntry, services []serviceLine) {
	var b strings.Builder
	b.WriteString("# Written by the process node: the pod, the API server and the cluster's Services.\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if e.subdomain != "" {
		fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.cluster.local\t%s\n", e.ip, e.hostname, e.subdomain, e.namespace, e.hostname)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", e.ip, e.hostname)
	}
	fmt.Fprintf(&b, "%s\tkubernetes.default.svc.cluster.local kubernetes.default.svc kubernetes.default kubernetes\n", h.proxyIP)
	for _, s := range services {
		names := fmt.Sprintf("%s.%s.svc.cluster.local %s.%s.svc %s.%s", s.name, s.namespace, s.name, s.namespace, s.name, s.namespace)
		if s.namespace == e.namespace {
			names += " " + s.name
		}
		for _, ip := range s.ips {
			fmt.Fprintf(&b, "%s\t%s\n", ip, names)
		}
	}
	content := b.String()
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	if content == e.written {
		return
	}
	f, err := os.OpenFile(e.path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		h.log.Error(err, "writing hosts file", "pod", e.namespace+"/"+e.name)
		return
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(content), 0); err != nil {
		h.log.Error(err, "writing hosts file", "pod", e.namespace+"/"+e.name)
		return
	}
	if err := f.Truncate(int64(len(content))); err != nil {
		return
	}
	e.written = content
}
