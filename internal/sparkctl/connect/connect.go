// Package connect is `sparkctl connect`: list, status, delete and url of SparkConnects
// (sparkoperator.k8s.io/v1alpha1), the operator's long-running Spark Connect servers
// (docs/spark-connect.md). It works on any Factory that gives a client whose scheme knows v1alpha1.
package connect

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
)

// ServerPort is the Spark Connect gRPC port of the server pod and the client Service.
const ServerPort = 15002

// Factory is what the commands need from sparkctl's factory (*sparkctl.Factory has it).
type Factory interface {
	Client() (client.WithWatch, error)
	Clientset() (kubernetes.Interface, error)
	RESTConfig() (*rest.Config, error)
	Namespace() (ns string, explicit bool, err error)
}

// NewCommand returns `sparkctl connect` with its subcommands.
func NewCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "List, inspect, delete and connect to SparkConnect servers",
		Long: `SparkConnect resources (sparkoperator.k8s.io/v1alpha1) are long-running Spark Connect servers.
"url NAME" prints the sc:// address a PySpark or Scala Connect client connects to.`,
	}
	cmd.AddCommand(listCommand(f, streams), statusCommand(f, streams), deleteCommand(f, streams), urlCommand(f, streams))
	return cmd
}

func listCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "List SparkConnects with their state, server pod, executors and age",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			list := &v1alpha1.SparkConnectList{}
			opts := []client.ListOption{}
			if !all {
				opts = append(opts, client.InNamespace(ns))
			}
			if err := c.List(cmd.Context(), list, opts...); err != nil {
				return err
			}
			return printList(streams.Out, list.Items, all, time.Now())
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the SparkConnects of every namespace")
	return cmd
}

// printList writes one line per SparkConnect: NAME, STATE, SERVER, EXECUTORS, AGE (NAMESPACE first with -A).
func printList(out io.Writer, items []v1alpha1.SparkConnect, withNamespace bool, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	header := "NAME\tSTATE\tSERVER\tEXECUTORS\tAGE"
	if withNamespace {
		header = "NAMESPACE\t" + header
	}
	fmt.Fprintln(w, header)
	for _, c := range items {
		state := string(c.Status.State)
		if state == "" {
			state = "New"
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", c.Name, state, dash(c.Status.Server.PodName), executors(c.Status.Executors), duration.HumanDuration(now.Sub(c.CreationTimestamp.Time)))
		if withNamespace {
			line = c.Namespace + "\t" + line
		}
		fmt.Fprintln(w, line)
	}
	return w.Flush()
}

func statusCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use: "status NAME", Short: "Show a SparkConnect's state, server, executors and conditions",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := get(cmd.Context(), f, args[0])
			if err != nil {
				return err
			}
			printStatus(streams.Out, conn)
			return nil
		},
	}
}

// printStatus writes the status as "Field: value" lines, then the conditions.
func printStatus(out io.Writer, c *v1alpha1.SparkConnect) {
	st := c.Status
	fmt.Fprintf(out, "Name:          %s\nNamespace:     %s\nSpark:         %s\nState:         %s\n", c.Name, c.Namespace, c.Spec.SparkVersion, dash(string(st.State)))
	fmt.Fprintf(out, "Server pod:    %s\nServer IP:     %s\nService:       %s\nURL:           %s\n", dash(st.Server.PodName), dash(st.Server.PodIP), dash(st.Server.ServiceName), InClusterURL(c))
	fmt.Fprintf(out, "Executors:     %s\n", executors(st.Executors))
	if !st.StartTime.IsZero() {
		fmt.Fprintf(out, "Start time:    %s\n", st.StartTime.UTC().Format(time.RFC3339))
	}
	for _, cond := range st.Conditions {
		fmt.Fprintf(out, "Condition:     %s=%s (%s) %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
	}
	if cond := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionServerPodReady); cond == nil {
		fmt.Fprintln(out, "Condition:     none yet (is the operator running with sparkConnect.enable?)")
	}
}

func deleteCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME...", Short: "Delete SparkConnects (their server, executors and Services go with them)",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := clientAndNamespace(f)
			if err != nil {
				return err
			}
			for _, name := range args {
				conn := &v1alpha1.SparkConnect{}
				conn.Name, conn.Namespace = name, ns
				if err := c.Delete(cmd.Context(), conn); err != nil {
					return fmt.Errorf("deleting SparkConnect %s: %w", name, err)
				}
				fmt.Fprintf(streams.Out, "sparkconnect %q deleted\n", name)
			}
			return nil
		},
	}
}

func urlCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var inCluster bool
	var localPort int
	cmd := &cobra.Command{
		Use:   "url NAME",
		Short: "Print the sc:// address of a SparkConnect (port-forwarding to it from outside the cluster)",
		Long: `Inside the cluster (KUBERNETES_SERVICE_HOST is set) or with --in-cluster, print the address of the
client Service, sc://<service>.<namespace>.svc:15002, and exit. Outside the cluster, forward a local
port (15002 by default) to the server pod through the API server, as kubectl port-forward does, print
sc://localhost:<port>, and keep forwarding until interrupted.`,
		Example: `  sparkctl connect url spark-connect              # sc://localhost:15002, until Ctrl-C
  sparkctl connect url spark-connect --in-cluster # sc://spark-connect-server.default.svc:15002`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := get(cmd.Context(), f, args[0])
			if err != nil {
				return err
			}
			if inCluster || os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
				fmt.Fprintln(streams.Out, InClusterURL(conn))
				return nil
			}
			if conn.Status.State != v1alpha1.SparkConnectStateReady || conn.Status.Server.PodName == "" {
				return fmt.Errorf("SparkConnect %s is %q, not Ready: no server to forward to", conn.Name, conn.Status.State)
			}
			return forward(cmd.Context(), f, conn, localPort, func(port uint16) {
				fmt.Fprintf(streams.Out, "sc://localhost:%d\n", port)
			})
		},
	}
	cmd.Flags().BoolVar(&inCluster, "in-cluster", false, "print the in-cluster Service address instead of forwarding")
	cmd.Flags().IntVarP(&localPort, "local-port", "l", ServerPort, "local port to forward (0 picks a free one)")
	return cmd
}

// InClusterURL is the address of conn's client Service: sc://<service>.<namespace>.svc:15002.
func InClusterURL(conn *v1alpha1.SparkConnect) string {
	svc := conn.Status.Server.ServiceName
	if svc == "" {
		svc = conn.Name + "-server"
		if s := conn.Spec.Server.Service; s != nil && s.Name != "" {
			svc = s.Name
		}
	}
	return fmt.Sprintf("sc://%s.%s.svc:%d", svc, conn.Namespace, ServerPort)
}

// forward port-forwards localPort to the server pod's 15002 until ctx ends, calling ready with the
// local port once it listens.
func forward(ctx context.Context, f Factory, conn *v1alpha1.SparkConnect, localPort int, ready func(uint16)) error {
	cfg, err := f.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := f.Clientset()
	if err != nil {
		return err
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(conn.Namespace).Name(conn.Status.Server.PodName).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stop, readyCh := make(chan struct{}), make(chan struct{})
	go func() { <-ctx.Done(); close(stop) }()
	pf, err := portforward.NewOnAddresses(dialer, []string{"localhost"}, []string{fmt.Sprintf("%d:%d", localPort, ServerPort)}, stop, readyCh, io.Discard, io.Discard)
	if err != nil {
		return err
	}
	errCh := make(chan error, 1)
	go func() { errCh <- pf.ForwardPorts() }()
	select {
	case <-readyCh:
		ports, err := pf.GetPorts()
		if err != nil || len(ports) == 0 {
			return fmt.Errorf("port forward: %v", err)
		}
		ready(ports[0].Local)
		return <-errCh
	case err := <-errCh:
		return err
	}
}

func get(ctx context.Context, f Factory, name string) (*v1alpha1.SparkConnect, error) {
	c, ns, err := clientAndNamespace(f)
	if err != nil {
		return nil, err
	}
	conn := &v1alpha1.SparkConnect{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, conn); err != nil {
		return nil, fmt.Errorf("SparkConnect %s/%s: %w", ns, name, err)
	}
	return conn, nil
}

func clientAndNamespace(f Factory) (client.Client, string, error) {
	ns, _, err := f.Namespace()
	if err != nil {
		return nil, "", err
	}
	c, err := f.Client()
	return c, ns, err
}

// executors formats status.executors as "running=2,pending=1" in phase order, "-" when empty.
func executors(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
