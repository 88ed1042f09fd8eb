package processnode

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Pod network modes (Config.PodNetwork).
const (
	// PodNetworkAuto gives each pod a network namespace on the node's bridge when the host allows
	// it (root, the ip command, network namespaces, veth and bridge links), and falls back to
	// PodNetworkLoopback with a log line otherwise.
	PodNetworkAuto = "auto"
	// PodNetworkNamespaces requires the network namespaces: Run fails when they cannot be made.
	PodNetworkNamespaces = "namespaces"
	// PodNetworkLoopback gives pods loopback addresses 127.<block>.x.y in the host's network
	// namespace: no set-up, but the EndpointSlice API refuses such addresses, so Services have no
	// endpoints (no API server service proxy, no port-forward through a Service).
	PodNetworkLoopback = "loopback"
)

// netnsDir is where `ip netns add` keeps its named network namespaces.
const netnsDir = "/run/netns"

// podNetwork gives each pod (but hostNetwork ones) a network namespace of its own, the way a CNI
// bridge plugin does: a veth pair whose pod end is eth0 with an address of 10.<block>.0.0/16 and
// whose node end is enslaved to the bridge pnbr<block>, which holds the gateway 10.<block>.0.1.
// Pods reach each other and the node through the bridge, and the node (the API server's service
// proxy, probes, port-forward) reaches them by their addresses. In each namespace a listener on
// 127.0.0.1 at the API server proxy's port forwards to the API server, so that
// kubernetes.default.svc (and KUBERNETES_SERVICE_HOST) stay 127.0.0.1, which the API server's
// certificate names. Namespaces are made with the ip command (iproute2).
type podNetwork struct {
	block   int
	bridge  string
	gateway net.IP
	log     logr.Logger

	mu      sync.Mutex
	enabled bool
	next    int
	pods    map[types.UID]*podNetNS
}

// podNetNS is one pod's network namespace.
type podNetNS struct {
	name, path, hostVeth, ip string
	stopProxy                context.CancelFunc
}

func newPodNetwork(block int, log logr.Logger) *podNetwork {
	return &podNetwork{block: block, bridge: "pnbr" + strconv.Itoa(block),
		gateway: net.IPv4(10, byte(block), 0, 1).To4(), log: log, pods: map[types.UID]*podNetNS{}}
}

// nsPrefix starts the names of this node's network namespaces.
func (p *podNetwork) nsPrefix() string { return "pn" + strconv.Itoa(p.block) + "-" }

// start prepares the bridge and checks, by making a probe namespace, that pods can have their own.
// It returns an error naming what is missing; the caller decides whether to fall back.
func (p *podNetwork) start() error {
	if p.block < 1 || p.block > 254 {
		return fmt.Errorf("PodIPBlock %d does not give a 10.<block>.0.0/16 pod network", p.block)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("the ip command (iproute2) is missing: %w", err)
	}
	p.removeStale()
	if linkExists(p.bridge) {
		_ = ipCmd("link", "del", p.bridge)
	}
	if err := ipCmd("link", "add", p.bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := ipCmd("addr", "add", p.gateway.String()+"/16", "dev", p.bridge); err != nil {
		p.stop()
		return err
	}
	if err := ipCmd("link", "set", p.bridge, "up"); err != nil {
		p.stop()
		return err
	}
	probe, err := p.makeNS("probe", net.IPv4(10, byte(p.block), 255, 254).String())
	if err != nil {
		p.stop()
		return err
	}
	p.deleteNS(probe)
	p.mu.Lock()
	p.enabled = true
	p.mu.Unlock()
	return nil
}

// stop removes the bridge and any namespace left.
func (p *podNetwork) stop() {
	p.mu.Lock()
	uids := make([]types.UID, 0, len(p.pods))
	for uid := range p.pods {
		uids = append(uids, uid)
	}
	p.enabled = false
	p.mu.Unlock()
	for _, uid := range uids {
		p.remove(uid)
	}
	p.removeStale()
	if linkExists(p.bridge) {
		if err := ipCmd("link", "del", p.bridge); err != nil {
			p.log.Error(err, "removing the pod network bridge")
		}
	}
}

// removeStale deletes the network namespaces of this block, left by an earlier run that died.
func (p *podNetwork) removeStale() {
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), p.nsPrefix()) {
			_ = ipCmd("netns", "del", e.Name())
		}
	}
}

// isEnabled says whether pods get network namespaces.
func (p *podNetwork) isEnabled() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.enabled
}

// add makes the pod's namespace with the next free address. When the API server proxy listens on
// a loopback address (proxyIP, proxyPort), the same address inside the namespace gets a listener
// that forwards to apiServer, so that kubernetes.default.svc means the same in every pod; any
// other address of the node the pod reaches through the gateway. It returns the pod's address
// and the namespace's path, for the containers to join.
func (p *podNetwork) add(uid types.UID, proxyIP string, proxyPort int, apiServer string) (ip, path string, err error) {
	p.mu.Lock()
	ip = p.allocate()
	p.mu.Unlock()
	ns, err := p.makeNS(strings.ReplaceAll(string(uid), "-", ""), ip)
	if err != nil {
		return "", "", err
	}
	if addr := net.ParseIP(proxyIP); addr != nil && addr.IsLoopback() {
		var ln net.Listener
		if err := inNetNS(ns.path, func() error {
			var err error
			ln, err = net.Listen("tcp", net.JoinHostPort(proxyIP, strconv.Itoa(proxyPort)))
			return err
		}); err != nil {
			p.deleteNS(ns)
			return "", "", fmt.Errorf("the API server proxy in the pod's network namespace: %w", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ns.stopProxy = cancel
		go serveTCPProxy(ctx, ln, apiServer, p.log)
	}
	p.mu.Lock()
	p.pods[uid] = ns
	p.mu.Unlock()
	return ip, ns.path, nil
}

// remove deletes the pod's namespace (its processes must be gone).
func (p *podNetwork) remove(uid types.UID) {
	if p == nil {
		return
	}
	p.mu.Lock()
	ns := p.pods[uid]
	delete(p.pods, uid)
	p.mu.Unlock()
	if ns != nil {
		ns.stopProxy()
		p.deleteNS(ns)
	}
}

// netnsPath returns the path of the pod's network namespace, "" when it has none.
func (p *podNetwork) netnsPath(uid types.UID) string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ns := p.pods[uid]; ns != nil {
		return ns.path
	}
	return ""
}

// allocate returns the next address of 10.<block>.0.0/16 that no pod holds, skipping .0 and
// .255 of each /24, the gateway 10.<block>.0.1 and the probe's 10.<block>.255.254. Called with
// p.mu held.
func (p *podNetwork) allocate() string {
	used := map[string]bool{}
	for _, ns := range p.pods {
		used[ns.ip] = true
	}
	for range 256 * 256 {
		p.next = (p.next + 1) % (256 * 256)
		hi, lo := p.next/256, p.next%256
		if lo == 0 || lo == 255 || hi == 0 && lo == 1 || hi == 255 && lo == 254 {
			continue
		}
		ip := fmt.Sprintf("10.%d.%d.%d", p.block, hi, lo)
		if !used[ip] {
			return ip
		}
	}
	return fmt.Sprintf("10.%d.%d.%d", p.block, p.next/256, p.next%256) // 65k pods: cannot happen
}

// makeNS creates the named namespace pn<block>-<id> with eth0 at ip/16 on the bridge, a loopback
// and a default route through the gateway.
func (p *podNetwork) makeNS(id, ip string) (*podNetNS, error) {
	name := p.nsPrefix() + id
	// Link names have at most 15 characters; the id (a pod UID without dashes) is unique enough.
	hostVeth := "pv" + id
	if len(hostVeth) > 15 {
		hostVeth = hostVeth[:15]
	}
	ns := &podNetNS{name: name, path: filepath.Join(netnsDir, name), hostVeth: hostVeth, ip: ip, stopProxy: func() {}}
	steps := [][]string{
		{"netns", "add", name},
		{"link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", name},
		{"link", "set", hostVeth, "master", p.bridge, "up"},
		{"-n", name, "addr", "add", ip + "/16", "dev", "eth0"},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "link", "set", "eth0", "up"},
		{"-n", name, "route", "add", "default", "via", p.gateway.String()},
	}
	for _, args := range steps {
		if err := ipCmd(args...); err != nil {
			p.deleteNS(ns)
			return nil, err
		}
	}
	return ns, nil
}

func (p *podNetwork) deleteNS(ns *podNetNS) {
	if linkExists(ns.hostVeth) {
		_ = ipCmd("link", "del", ns.hostVeth)
	}
	if _, err := os.Stat(ns.path); err == nil {
		if err := ipCmd("netns", "del", ns.name); err != nil {
			p.log.Error(err, "removing a pod's network namespace")
		}
	}
}

// ipCmd runs `ip ARGS...`; the error carries the command and its output.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// inNetNS runs fn on an OS thread that has joined the network namespace at path: sockets that fn
// opens belong to that namespace for their whole life. The thread then goes back to the node's
// own namespace and to the Go scheduler. It must not end instead: a thread that ends sends the
// parent-death signal (SIGKILL, see containerCommand) to every process it forked (prctl(2)
// PR_SET_PDEATHSIG is tied to the creating thread, https://go.dev/issue/27505), and Go forks from
// any thread, so discarding threads killed random containers (docs/e2e.md, "Why pod-to-pod
// traffic used to fail"). Only when the thread cannot go back is it left locked, and so discarded.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("the node's network namespace: %w", err)
			return
		}
		defer own.Close()
		f, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("joining the network namespace %s: %w", path, err)
			return
		}
		err = fn()
		if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the goroutine ends locked and the runtime discards the thread
		errc <- err
	}()
	return <-errc
}

// joinNetNS moves the calling thread, locked to it for good, into the network namespace at path:
// the container init calls it before exec, so that the container's processes live there.
func joinNetNS(path string) error {
	runtime.LockOSThread()
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("the pod's network namespace: %w", err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("joining the pod's network namespace %s: %w", path, err)
	}
	return nil
}

// startPodNetwork sets up the pod network that cfg.PodNetwork asks for; with PodNetworkAuto a
// host that cannot make network namespaces leaves pods on loopback addresses, said in the log.
func (n *Node) startPodNetwork() error {
	if n.cfg.PodNetwork == PodNetworkLoopback {
		n.log.Info("pod network: loopback addresses (PodNetwork loopback); Services get no endpoints",
			"podIPs", fmt.Sprintf("127.%d.0.0/16", n.cfg.PodIPBlock))
		return nil
	}
	network := n.network
	if err := network.start(); err != nil {
		if n.cfg.PodNetwork == PodNetworkNamespaces {
			return fmt.Errorf("pod network: %w", err)
		}
		n.log.Info("pod network: cannot make network namespaces, FALLING BACK to loopback pod addresses; "+
			"Services get no endpoints (no API server service proxy, no port-forward to a Service)",
			"reason", err.Error(), "podIPs", fmt.Sprintf("127.%d.0.0/16", n.cfg.PodIPBlock))
		return nil
	}
	n.log.Info("pod network: a network namespace per pod on a bridge", "bridge", network.bridge,
		"podIPs", fmt.Sprintf("10.%d.0.0/16", n.cfg.PodIPBlock), "gateway", network.gateway.String())
	return nil
}

func (n *Node) stopPodNetwork() {
	if n.network.isEnabled() {
		n.network.stop()
	}
}

// podAddress gives a new pod its IP and, on the pod network, its network namespace (path
// returned). hostNetwork pods, and every pod when there is no pod network, get a loopback
// address in the node's own namespace.
func (n *Node) podAddress(pod *corev1.Pod) (ip, netns string, err error) {
	if !n.network.isEnabled() || pod.Spec.HostNetwork {
		return n.allocateIP(pod.Spec.NodeName), "", nil
	}
	ip, netns, err = n.network.add(pod.UID, n.proxyIP, n.proxyPort, n.cfg.APIServer)
	if err != nil {
		return "", "", fmt.Errorf("setting up the pod's network: %w", err)
	}
	return ip, netns, nil
}

// RoutablePodIPs says whether pods get addresses on the pod network (accepted by EndpointSlices
// and reachable from the node) rather than loopback ones; known once Run has started.
func (n *Node) RoutablePodIPs() bool { return n.network.isEnabled() }
