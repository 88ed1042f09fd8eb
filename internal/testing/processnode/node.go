// Package processnode is a small kubelet for tests: it registers Nodes with a real API server and
// runs the containers of the pods scheduled to them as local processes, so that a real Spark
// driver can start on a test cluster, create its executor pods through the API server with its
// service account's token, and talk to them.
//
// What a container gets (see ContainerSpec and Image):
//   - its own mount, UTS and PID namespaces: a tmpfs root with the host's /usr, /etc, /lib..., the
//     image's paths (for spark:* images, a Spark distribution at /opt/spark and an entrypoint
//     following the contract of Spark's entrypoint.sh), and the pod's volumes (emptyDir,
//     configMap, secret, downwardAPI, projected with TokenRequest service-account tokens,
//     hostPath) at their mount paths;
//   - a network namespace of its own with an address on the node's bridge (10.<PodIPBlock>.0.0/16,
//     routable from the node and accepted by EndpointSlices; see PodNetwork and network_linux.go),
//     or, where the host cannot make network namespaces, a loopback address 127.x.y.z in the
//     node's; and an /etc/hosts in which <service>.<namespace>.svc names resolve to the IPs of the
//     pods they select and kubernetes.default.svc to a proxy of the API server on 127.0.0.1:443;
//   - env with fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef values, envFrom, and
//     $(VAR) expansion, as the kubelet does.
//
// Pods report phase, IPs, conditions and container states with exit codes; deletion and eviction
// run preStop hooks and honour the grace period (hook, SIGTERM, then SIGKILL); logs are served to
// `kubectl logs` and ports to `kubectl port-forward` through the API server.
// Readiness probes (httpGet, tcpSocket) decide when a container is Ready.
//
// Not supported: network policies and Service virtual IPs (a Service name resolves to its pods'
// IPs, so a Service's port must equal its targetPort), resource limits, user IDs (processes run as
// the node's user), liveness and startup probes, exec and grpc readiness probes (they count as
// passing), exec, and volume types beyond those above
// (such pods stay ContainerCreating with a FailedMount event).
package processnode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// Config configures a process node.
type Config struct {
	// Client talks to the API server with the node's identity (an admin kubeconfig in tests).
	Client kubernetes.Interface
	// APIServer is the host:port of the API server; containers reach it as
	// https://kubernetes.default.svc through a TCP proxy on ServiceProxyAddress.
	APIServer string
	// NodeNames are the Nodes to register (default: one, "process-node"). All run in this process
	// and share its log server and API proxy.
	NodeNames []string
	// StateDir holds pod directories (volumes, logs, container specs) and the image files.
	StateDir string
	// Images says which images can run; see ImageConfig.
	Images ImageConfig
	// Capacity of each node (default: 32 CPUs, 64Gi of memory, 110 pods): the scheduler's view only,
	// nothing is enforced.
	Capacity corev1.ResourceList
	// ServiceProxyAddress is where the proxy of the API server listens and what
	// kubernetes.default.svc resolves to (default 127.0.0.1:443; port 0 picks a free port, given to
	// containers as KUBERNETES_SERVICE_PORT). Its IP must be in the API server certificate's SANs
	// for in-cluster clients that use KUBERNETES_SERVICE_HOST.
	ServiceProxyAddress string
	// KubeletAddress is where the node's log endpoint listens (default 127.0.0.1:10250); the API
	// server reaches it through the node's InternalIP and kubeletEndpoint port.
	KubeletAddress string
	// PodIPBlock is the second octet of the pod IPs: 10.<block>.0.0/16 on the pod network (all the
	// nodes of this process share it), else 127.<block+i>.x.y for node i (default 16). Process
	// nodes running at once on one host need distinct blocks.
	PodIPBlock int
	// PodNetwork is how pods get their addresses: PodNetworkAuto (the default: a network namespace
	// per pod, else loopback addresses with a log line saying why), PodNetworkNamespaces or
	// PodNetworkLoopback; see network_linux.go and docs/e2e.md.
	PodNetwork string
	// InitBinary is the executable started as each container's init (default: this program, which
	// must call MaybeRunInit).
	InitBinary string
	// Log receives the node's own log lines.
	Log logr.Logger
}

// Node runs pods on one or more Nodes. Create it with New and start it with Run.
type Node struct {
	cfg      Config
	client   kubernetes.Interface
	images   *imageStore
	hosts    *hostsManager
	network  *podNetwork // nil with PodNetworkLoopback; pods use it once it is enabled
	recorder record.EventRecorder
	log      logr.Logger

	pods      listerscorev1.PodLister
	services  listerscorev1.ServiceLister
	nodes     map[string]int // node name -> index (its pod IP block)
	proxyIP   string
	proxyPort int

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	ipNext  map[string]int
	wg      sync.WaitGroup
}

// New checks cfg and prepares the node's state directory.
func New(cfg Config) (*Node, error) {
	if cfg.Client == nil || cfg.APIServer == "" || cfg.StateDir == "" {
		return nil, errors.New("processnode: Client, APIServer and StateDir are required")
	}
	if len(cfg.NodeNames) == 0 {
		cfg.NodeNames = []string{"process-node"}
	}
	if cfg.ServiceProxyAddress == "" {
		cfg.ServiceProxyAddress = "127.0.0.1:443"
	}
	if cfg.KubeletAddress == "" {
		cfg.KubeletAddress = "127.0.0.1:10250"
	}
	if cfg.PodIPBlock == 0 {
		cfg.PodIPBlock = 16
	}
	switch cfg.PodNetwork {
	case "":
		cfg.PodNetwork = PodNetworkAuto
	case PodNetworkAuto, PodNetworkNamespaces, PodNetworkLoopback:
	default:
		return nil, fmt.Errorf("processnode: PodNetwork %q: want %q, %q or %q", cfg.PodNetwork, PodNetworkAuto, PodNetworkNamespaces, PodNetworkLoopback)
	}
	if cfg.InitBinary == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.InitBinary = self
	}
	if cfg.Capacity == nil {
		cfg.Capacity = corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse("32"),
			corev1.ResourceMemory:           resource.MustParse("64Gi"),
			corev1.ResourcePods:             resource.MustParse("110"),
			corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
		}
	}
	host, port, err := net.SplitHostPort(cfg.ServiceProxyAddress)
	if err != nil {
		return nil, fmt.Errorf("processnode: ServiceProxyAddress: %w", err)
	}
	n := &Node{cfg: cfg, client: cfg.Client, log: cfg.Log, proxyIP: host,
		workers: map[types.UID]*podWorker{}, nodes: map[string]int{}, ipNext: map[string]int{}}
	n.proxyPort, _ = strconv.Atoi(port)
	if cfg.PodNetwork != PodNetworkLoopback {
		n.network = newPodNetwork(cfg.PodIPBlock, cfg.Log)
	}
	for i, name := range cfg.NodeNames {
		n.nodes[name] = i
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "pods"), 0o755); err != nil {
		return nil, err
	}
	if n.images, err = newImageStore(cfg.Images, filepath.Join(cfg.StateDir, "images")); err != nil {
		return nil, err
	}
	return n, nil
}

// Run registers the nodes, serves their pods until ctx ends, then kills every container and marks
// the nodes NotReady. It returns the first fatal error.
func (n *Node) Run(ctx context.Context) error {
	proxy, err := net.Listen("tcp", n.cfg.ServiceProxyAddress)
	if err != nil {
		return fmt.Errorf("the API server proxy (kubernetes.default.svc) cannot listen: %w", err)
	}
	defer proxy.Close()
	n.proxyPort = proxy.Addr().(*net.TCPAddr).Port // the real one when the address said port 0
	go serveTCPProxy(ctx, proxy, n.cfg.APIServer, n.log)
	if err := n.startPodNetwork(); err != nil {
		return err
	}
	defer n.stopPodNetwork()

	kubeletLn, err := net.Listen("tcp", n.cfg.KubeletAddress)
	if err != nil {
		return fmt.Errorf("the kubelet endpoint cannot listen: %w", err)
	}
	cert, err := selfSignedCert(n.cfg.NodeNames)
	if err != nil {
		return err
	}
	kubeletLn = tls.NewListener(kubeletLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	srv := n.logServer()
	go func() { _ = srv.Serve(kubeletLn) }()
	defer srv.Close()
	kubeletPort := kubeletLn.Addr().(*net.TCPAddr).Port

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: n.client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	n.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "processnode", Host: n.cfg.NodeNames[0]})

	for _, name := range n.cfg.NodeNames {
		if err := n.registerNode(ctx, name, kubeletPort); err != nil {
			return err
		}
	}

	factory := informers.NewSharedInformerFactory(n.client, 0)
	podInformer := factory.Core().V1().Pods()
	svcInformer := factory.Core().V1().Services()
	n.pods, n.services = podInformer.Lister(), svcInformer.Lister()
	n.hosts = newHostsManager(n.pods, n.services, n.proxyIP, n.log)
	onPod := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			n.podChanged(ctx, pod)
		}
		n.hosts.changed()
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onPod,
		UpdateFunc: func(_, obj any) { onPod(obj) },
		DeleteFunc: onPod,
	}); err != nil {
		return err
	}
	onService := func(any) { n.hosts.changed() }
	if _, err := svcInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onService, UpdateFunc: func(_, o any) { onService(o) }, DeleteFunc: onService,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("the %v informer did not sync", typ)
		}
	}
	go n.hosts.run(ctx)
	for _, name := range n.cfg.NodeNames {
		go n.heartbeat(ctx, name, kubeletPort)
	}
	n.log.Info("process node is ready", "nodes", n.cfg.NodeNames, "apiProxy", n.cfg.ServiceProxyAddress,
		"kubeletPort", kubeletPort, "stateDir", n.cfg.StateDir)

	<-ctx.Done()
	n.log.Info("stopping: killing every container")
	factory.Shutdown()
	n.wg.Wait()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range n.cfg.NodeNames {
		n.setNodeReady(stopCtx, name, kubeletPort, false)
	}
	return nil
}

// podChanged hands a pod event to the pod's worker, starting one for a new pod of ours.
func (n *Node) podChanged(ctx context.Context, pod *corev1.Pod) {
	if _, ours := n.nodes[pod.Spec.NodeName]; !ours {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if w, ok := n.workers[pod.UID]; ok {
		w.wake()
		return
	}
	if ctx.Err() != nil || pod.DeletionTimestamp != nil && len(pod.Status.ContainerStatuses) == 0 && pod.Status.Phase == "" {
		// A pod deleted before it ever ran here: nothing to stop, only the final deletion.
		if ctx.Err() == nil {
			go n.finalDelete(ctx, pod)
		}
		return
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		if pod.DeletionTimestamp != nil {
			go n.finalDelete(ctx, pod)
		}
		return
	}
	w := newPodWorker(n, pod)
	n.workers[pod.UID] = w
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		w.run(ctx)
		n.mu.Lock()
		delete(n.workers, pod.UID)
		n.mu.Unlock()
	}()
}

// finalDelete removes a terminating pod that has no running containers here, as the kubelet does
// once its containers are gone (a deletion with grace period 0, guarded by the pod's UID).
func (n *Node) finalDelete(ctx context.Context, pod *corev1.Pod) {
	err := n.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		n.log.Error(err, "final deletion failed", "pod", pod.Namespace+"/"+pod.Name)
	}
}

// allocateIP returns the next pod IP of a node: 127.<PodIPBlock+node index>.<x>.<y>, skipping .0
// and .255.
func (n *Node) allocateIP(node string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ipNext[node]
	for {
		i = (i + 1) % (256 * 256)
		if lo := i % 256; lo != 0 && lo != 255 {
			break
		}
	}
	n.ipNext[node] = i
	return fmt.Sprintf("127.%d.%d.%d", n.cfg.PodIPBlock+n.nodes[node], i/256, i%256)
}

func (n *Node) nodeObject(name string, kubeletPort int) *corev1.Node {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "processnode",
			},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
		},
	}
	node.Status = n.nodeStatus(name, kubeletPort, true)
	return node
}

func (n *Node) nodeStatus(name string, kubeletPort int, ready bool) corev1.NodeStatus {
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	readyCond := cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "processnode is posting ready status")
	if !ready {
		readyCond = cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady", "processnode stopped")
	}
	return corev1.NodeStatus{
		Capacity:    n.cfg.Capacity,
		Allocatable: n.cfg.Capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", ""),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", ""),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", ""),
			readyCond,
		},
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(kubeletPort)}},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem:         "linux",
			Architecture:            "amd64",
			KubeletVersion:          "v1.36.3-processnode",
			ContainerRuntimeVersion: "processnode://1",
			OSImage:                 "processnode",
		},
	}
}

func (n *Node) registerNode(ctx context.Context, name string, kubeletPort int) error {
	nodes := n.client.CoreV1().Nodes()
	obj := n.nodeObject(name, kubeletPort)
	if _, err := nodes.Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering node %s: %w", name, err)
	}
	n.setNodeReady(ctx, name, kubeletPort, true)
	return nil
}

// setNodeReady writes the node's status, with a fresh heartbeat.
func (n *Node) setNodeReady(ctx context.Context, name string, kubeletPort int, ready bool) {
	node, err := n.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		n.log.Error(err, "reading node", "node", name)
		return
	}
	node.Status = n.nodeStatus(name, kubeletPort, ready)
	if _, err := n.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		n.log.Error(err, "updating node status", "node", name)
	}
}

// heartbeat renews the node's Lease in kube-node-lease every 10 s and its status every 40 s, as
// the kubelet does, so that the node lifecycle controller keeps it Ready.
func (n *Node) heartbeat(ctx context.Context, name string, kubeletPort int) {
	leases := n.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40),
					RenewTime: &now},
			}, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.RenewTime = &now
			lease.Spec.HolderIdentity = ptr.To(name)
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil && ctx.Err() == nil {
			n.log.Error(err, "renewing node lease", "node", name)
		}
		if i%4 == 3 {
			n.setNodeReady(ctx, name, kubeletPort, true)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
