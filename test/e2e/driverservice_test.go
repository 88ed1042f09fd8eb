package e2e_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TestDriverServiceModes runs a short job in each of the two ways executors reach the driver
// (docs/submission.md, "The driver Service"): by default at the driver's pod IP, with no driver
// Service (Spark 4.0.1 here; TestSparkPi and TestFailingApplication, with its retry, run the same way
// on 3.5.3), and through spark-submit's headless Service, which an application gets when it sets the
// Service's labels (Spark 3.5.3; --enable-driver-service gives every application this). Each must
// complete with its executor, and the driver must advertise the address it was given: the Spark UI
// URL in the driver's log is built from spark.driver.host. (The driver Service is gone by the end:
// Spark deletes it when the driver stops.)
func TestDriverServiceModes(t *testing.T) {
	requireCluster(t)
	for _, tc := range []struct {
		name, version string
		service       bool
	}{
		{"pod-ip", "4.0.1", false},
		{"service", "3.5.3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := sparkExitApp(t, "driver-"+tc.name, 0, 0)
			app.Spec.Image = ptr.To("spark:" + tc.version)
			app.Spec.SparkVersion = tc.version
			if tc.service {
				app.Spec.Driver.ServiceLabels = map[string]string{"e2e": "driver-service"}
			}
			tm := runToCompletion(t, app)
			if tm.executors < 1 {
				t.Errorf("no executor was tracked: the job cannot have run on one")
			}
			ctx := context.Background()
			got := &v1beta2.SparkApplication{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
				t.Fatal(err)
			}
			driver := &corev1.Pod{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: got.Status.DriverInfo.PodName}, driver); err != nil {
				t.Fatal(err)
			}
			// The driver Service itself is gone by now: Spark deletes it when the driver stops
			// (spark.kubernetes.driver.service.deleteOnTermination). spark.properties says whether
			// the submission pointed spark.driver.host at it.
			cms := &corev1.ConfigMapList{}
			if err := k8s.List(ctx, cms, client.InNamespace(app.Namespace),
				client.MatchingLabels{v1beta2.LabelSubmissionID: got.Status.SubmissionID}); err != nil {
				t.Fatal(err)
			}
			var host string
			for _, cm := range cms.Items {
				for _, line := range strings.Split(cm.Data["spark.properties"], "\n") {
					if v, ok := strings.CutPrefix(line, "spark.driver.host="); ok {
						host = v
					}
				}
			}
			switch {
			case tc.service && !strings.HasSuffix(host, "-driver-svc."+app.Namespace+".svc"):
				t.Fatalf("spark.driver.host = %q, want the driver Service of an application with spec.driver.serviceLabels", host)
			case !tc.service && host != "":
				t.Fatalf("spark.driver.host = %q in spark.properties, want none (the pod IP comes from the driver's arguments)", host)
			case !tc.service:
				host = driver.Status.PodIP
			}
			// "Bound SparkUI to 0.0.0.0, and started at http://<host>:<port>" and "Stopped Spark web
			// UI at http://<host>:<port>" (4040, or the next free port when another driver on the
			// node has it).
			if log := driverLog(t, ctx, got); !strings.Contains(log, "web UI at http://"+host+":") {
				t.Errorf("the driver does not advertise %s (spark.driver.host):\n%s", host, tail(log, 40))
			}
			t.Logf("%s on Spark %s: COMPLETED with %d executor(s); the driver advertised %s", tc.name, tc.version, tm.executors, host)
		})
	}
}
