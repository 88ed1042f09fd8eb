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
// URL in the driver's log is built from spark.driver.host.
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
			svcs := &corev1.ServiceList{}
			if err := k8s.List(ctx, svcs, client.InNamespace(app.Namespace),
				client.MatchingLabels{v1beta2.LabelSubmissionID: got.Status.SubmissionID}); err != nil {
				t.Fatal(err)
			}
			var host string
			for _, s := range svcs.Items {
				if strings.HasSuffix(s.Name, "-driver-svc") {
					host = s.Name + "." + s.Namespace + ".svc"
				}
			}
			switch {
			case tc.service && host == "":
				t.Fatalf("no driver Service for an application with spec.driver.serviceLabels")
			case !tc.service && host != "":
				t.Fatalf("a driver Service %s by default", host)
			case !tc.service:
				host = driver.Status.PodIP
			}
			if log := driverLog(t, ctx, got); !strings.Contains(log, "started at http://"+host+":4040") {
				t.Errorf("the driver does not advertise %s (spark.driver.host):\n%s", host, tail(log, 40))
			}
			t.Logf("%s on Spark %s: COMPLETED with %d executor(s); the driver advertised %s", tc.name, tc.version, tm.executors, host)
		})
	}
}
