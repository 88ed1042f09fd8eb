// Command processnode runs process nodes (internal/testing/processnode) against a cluster: Nodes whose pods
// run as local processes, so that real Spark drivers and executors run on a test cluster.
//
//	processnode --kubeconfig KUBECONFIG --state-dir DIR \
//	    --spark-home 3.5.3=.cache/spark/3.5.3/pyspark --spark-examples-jar 3.5.3=path/to/pi.jar
//
// It needs root (mount namespaces) and stops, killing every container, on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkop/spark-operator/internal/testing/processnode"
)

// keyValues is a repeatable KEY=VALUE flag.
type keyValues map[string]string

func (kv keyValues) String() string { return fmt.Sprint(map[string]string(kv)) }
func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	kv[k] = v
	return nil
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	processnode.MaybeRunInit()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "processnode:", err)
		os.Exit(1)
	}
}

func run() error {
	sparkHomes, examples, binaries := keyValues{}, keyValues{}, keyValues{}
	var hostImages list
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster (admin)")
	nodes := flag.String("nodes", "process-node", "comma-separated names of the Nodes to register")
	stateDir := flag.String("state-dir", ".cache/processnode", "directory for pod volumes, logs and container specs")
	proxyAddr := flag.String("service-proxy-address", "127.0.0.1:443", "where kubernetes.default.svc listens (a TCP proxy of the API server)")
	kubeletAddr := flag.String("kubelet-address", "127.0.0.1:10250", "where the node's log endpoint listens")
	podNetwork := flag.String("pod-network", processnode.PodNetworkAuto, "pod addresses: auto (a network namespace per pod on a bridge, else loopback addresses with a log line saying why), namespaces (required) or loopback (127.<block>.x.y, which Services cannot have as endpoints)")
	flag.Var(sparkHomes, "spark-home", "VERSION=DIR: a Spark distribution (bin/, jars/) for spark:VERSION images; repeatable")
	flag.Var(examples, "spark-examples-jar", "VERSION=JAR: mounted at /opt/spark/examples/jars/spark-examples.jar; repeatable")
	flag.Var(binaries, "image-binary", "PATTERN=PATH: images whose repository matches PATTERN run the host executable PATH as entrypoint; repeatable")
	flag.Var(&hostImages, "host-image", "PATTERN: images whose repository matches PATTERN run their command on the host's programs; repeatable")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return err
	}
	apiServer := u.Host
	if _, _, err := net.SplitHostPort(apiServer); err != nil {
		apiServer = net.JoinHostPort(apiServer, "443")
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	abs := func(m keyValues) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			if p, err := filepath.Abs(v); err == nil {
				v = p
			}
			out[k] = v
		}
		return out
	}
	state, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	log := funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, prefix, args)
	}, funcr.Options{LogTimestamp: true})
	node, err := processnode.New(processnode.Config{
		Client:              client,
		APIServer:           apiServer,
		NodeNames:           strings.Split(*nodes, ","),
		StateDir:            state,
		ServiceProxyAddress: *proxyAddr,
		KubeletAddress:      *kubeletAddr,
		PodNetwork:          *podNetwork,
		Images: processnode.ImageConfig{
			SparkHomes:        abs(sparkHomes),
			SparkExamplesJars: abs(examples),
			Binaries:          abs(binaries),
			HostImages:        hostImages,
		},
		Log: logr.Logger(log),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return node.Run(ctx)
}
