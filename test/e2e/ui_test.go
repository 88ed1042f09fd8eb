package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

var forwarding = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+)`)

// TestSparkUIService: while a real driver runs, its UI Service (<app>-ui-svc) has the driver's
// address as an endpoint, and the Spark UI answers through the API server's service proxy and
// through `kubectl port-forward svc/<app>-ui-svc`, as users reach it.
func TestSparkUIService(t *testing.T) {
	requireCluster(t)
	app := loadExample(t, "spark-pi-python")
	app.Name = "spark-ui"
	// About 10 s of work per 10 partitions here: long enough to look at the running UI.
	app.Spec.Arguments = []string{"60"}
	create(t, app)
	running := waitForState(t, app, appTimeout, v1beta2.ApplicationStateRunning)
	ctx := context.Background()
	svc := running.Status.DriverInfo.WebUIServiceName
	if svc == "" {
		t.Fatalf("status.driverInfo.webUIServiceName is empty while %s runs", app.Name)
	}
	driver, err := clientset.CoreV1().Pods(app.Namespace).Get(ctx, running.Status.DriverInfo.PodName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(driver.Status.PodIP, "127.") {
		t.Skipf("the process node fell back to loopback pod addresses (%s; its log line \"pod network: cannot make network namespaces, FALLING BACK\" says why), which Services cannot have as endpoints", driver.Status.PodIP)
	}
	port := strconv.Itoa(int(running.Status.DriverInfo.WebUIPort))

	deadline := time.Now().Add(2 * time.Minute)
	for !hasEndpoint(ctx, app.Namespace, svc, driver.Status.PodIP) {
		if time.Now().After(deadline) {
			t.Fatalf("the EndpointSlices of Service %s never listed the driver's address %s", svc, driver.Status.PodIP)
		}
		time.Sleep(time.Second)
	}

	// The API server's service proxy (kubectl proxy, dashboards, Kubeflow's e2e use it).
	var body []byte
	// The UI answers "Spark is starting up" (200) until the application has registered: wait for it.
	for deadline = time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		body, err = clientset.CoreV1().Services(app.Namespace).ProxyGet("http", svc, port, "api/v1/applications", nil).DoRaw(ctx)
		if err == nil && strings.Contains(string(body), `"id"`) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || !strings.Contains(string(body), `"id"`) {
		t.Errorf("GET api/v1/applications through the service proxy of %s: %v %s", svc, err, body)
	}

	// kubectl port-forward svc/<app>-ui-svc.
	pf := exec.Command(filepath.Join(root, "bin", "kubectl"), "--kubeconfig", kubeconfig, "-n", app.Namespace,
		"port-forward", "svc/"+svc, ":"+port)
	stdout, err := pf.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	pf.Stderr = os.Stderr
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pf.Process.Kill(); _ = pf.Wait() }()
	local := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := forwarding.FindStringSubmatch(sc.Text()); m != nil {
				local <- m[1]
			}
		}
	}()
	select {
	case p := <-local:
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/api/v1/applications", p))
		if err != nil {
			t.Fatalf("GET through kubectl port-forward svc/%s: %v", svc, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(data), `"id"`) {
			t.Errorf("GET api/v1/applications through kubectl port-forward svc/%s: %s %s", svc, resp.Status, data)
		}
	case <-time.After(time.Minute):
		t.Fatalf("kubectl port-forward svc/%s did not start forwarding within a minute", svc)
	}
}

// hasEndpoint says whether an EndpointSlice of the Service lists ip.
func hasEndpoint(ctx context.Context, ns, svc, ip string) bool {
	slices, err := clientset.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return false
	}
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			for _, a := range e.Addresses {
				if a == ip {
					return true
				}
			}
		}
	}
	return false
}
