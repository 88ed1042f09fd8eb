package sparkctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// defaultUIPort is the Spark UI port (spark.ui.port's default) and the default local port.
const defaultUIPort = 4040

// ForwardOptions are the flags and arguments of `sparkctl forward`.
type ForwardOptions struct {
	target
	// LocalPort is the local port; 0 picks a free one.
	LocalPort int
	// RemotePort is the driver's UI port; 0 finds it from the pod (the spark-ui port).
	RemotePort int
	// Addresses are the local addresses to listen on.
	Addresses []string

	// ready, when set, receives the local port once forwarding works (tests use it).
	ready func(localPort int)
}

// NewForwardCommand returns `sparkctl forward`.
func NewForwardCommand(f *Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ForwardOptions{target: newTarget(f, streams, nil), LocalPort: defaultUIPort}
	cmd := oneAppCommand(f, o, &cobra.Command{
		Use:   "forward NAME",
		Short: "Forward a local port to the driver's Spark UI",
		Long: `Forward a local port (4040 by default) to the Spark UI of the application's driver pod, through the
API server as kubectl port-forward does, until interrupted. The driver must be running.`,
		Example: `  sparkctl forward spark-pi                 # then open http://localhost:4040
  sparkctl forward spark-pi --local-port 8080`,
	})
	cmd.Flags().IntVarP(&o.LocalPort, "local-port", "l", o.LocalPort, "local port (0 picks a free one)")
	cmd.Flags().IntVarP(&o.RemotePort, "remote-port", "r", 0, "the driver's UI port (default: its spark-ui container port, else spark.ui.port, else 4040)")
	cmd.Flags().StringSliceVar(&o.Addresses, "address", []string{"localhost"}, "local addresses to listen on (comma-separated)")
	return cmd
}

// Validate checks the ports.
func (o *ForwardOptions) Validate() error {
	if o.LocalPort < 0 || o.LocalPort > 65535 {
		return fmt.Errorf("--local-port %d is not a port number", o.LocalPort)
	}
	if o.RemotePort < 0 || o.RemotePort > 65535 {
		return fmt.Errorf("--remote-port %d is not a port number", o.RemotePort)
	}
	if len(o.Addresses) == 0 {
		return errors.New("--address needs at least one address")
	}
	return nil
}

// Run forwards until ctx ends or the connection to the pod is lost.
func (o *ForwardOptions) Run(ctx context.Context) error {
	c, app, err := o.app(ctx)
	if err != nil {
		return err
	}
	pod, err := o.driverPod(ctx, c, app)
	if err != nil {
		return err
	}
	remote := o.RemotePort
	if remote == 0 {
		remote = uiPort(pod, app)
	}
	cfg, err := o.f.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := o.f.Clientset()
	if err != nil {
		return err
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return err
	}
	// As kubectl: try the WebSocket protocol first, and fall back to SPDY on servers without it.
	dialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	tunneling, err := portforward.NewSPDYOverWebsocketDialerForStreaming(url, cfg)
	if err != nil {
		return err
	}
	dialer = portforward.NewFallbackDialerForStreaming(tunneling, dialer, func(err error) bool {
		return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
	})
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddressesForStreaming(dialer, o.Addresses, []string{fmt.Sprintf("%d:%d", o.LocalPort, remote)}, stop, ready, io.Discard, o.streams.ErrOut)
	if err != nil {
		return fmt.Errorf("forwarding to %s: %w", pod.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	// stopForwarding stops the forwarder and waits for it; its error no longer matters.
	stopForwarding := func() {
		close(stop)
		<-done //nolint:errcheck // drained after stop
	}
	select {
	case <-ready:
	case err := <-done:
		return o.forwardError(pod, remote, err)
	case <-ctx.Done():
		stopForwarding()
		return nil
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		stopForwarding()
		return fmt.Errorf("forwarding to %s: no local port: %v", pod.Name, err)
	}
	local := int(ports[0].Local)
	host := o.Addresses[0]
	fmt.Fprintf(o.streams.Out, "Spark UI of %s (pod %s, port %d): http://%s:%d\n", app.Name, pod.Name, remote, host, local)
	fmt.Fprintln(o.streams.Out, "Forwarding until interrupted (Ctrl-C).")
	if o.ready != nil {
		o.ready(local)
	}
	select {
	case err := <-done:
		return o.forwardError(pod, remote, err)
	case <-ctx.Done():
		stopForwarding()
		return nil
	}
}

func (o *ForwardOptions) forwardError(pod *corev1.Pod, remote int, err error) error {
	if err == nil {
		return fmt.Errorf("the connection to the driver pod %s was closed (did the driver end?)", pod.Name)
	}
	if strings.Contains(err.Error(), "address already in use") {
		return fmt.Errorf("local port %d is in use; choose another with --local-port (0 picks a free one): %w", o.LocalPort, err)
	}
	return fmt.Errorf("forwarding to port %d of %s: %w", remote, pod.Name, err)
}

// driverPod returns the running driver pod, or says why the UI is not available.
func (o *ForwardOptions) driverPod(ctx context.Context, c client.Client, app *v1beta2.SparkApplication) (*corev1.Pod, error) {
	if isFinished(app) {
		return nil, fmt.Errorf("%s is %s: its driver, and the Spark UI with it, is gone (a Spark history server keeps UIs of finished applications)", app.Name, state(app))
	}
	name := driverPodName(app)
	pod := &corev1.Pod{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: name}, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s has no driver pod (state %s); the Spark UI is served by the driver while it runs", app.Name, state(app))
		}
		return nil, fmt.Errorf("reading the driver pod %s: %w", name, err)
	}
	if pod.Status.Phase != corev1.PodRunning {
		return nil, fmt.Errorf("the driver pod %s is %s (state %s); the Spark UI is served once the driver runs", name, pod.Status.Phase, state(app))
	}
	return pod, nil
}

// uiPort finds the driver's UI port: the Spark container's port named spark-ui, else spark.ui.port,
// else 4040.
func uiPort(pod *corev1.Pod, app *v1beta2.SparkApplication) int {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == "spark-ui" {
				return int(p.ContainerPort)
			}
		}
	}
	if p, err := strconv.Atoi(app.Spec.SparkConf["spark.ui.port"]); err == nil && p > 0 && p < 65536 {
		return p
	}
	return defaultUIPort
}
