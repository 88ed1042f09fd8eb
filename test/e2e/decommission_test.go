package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

var shuffleResult = regexp.MustCompile(`shuffle_twice: result (\d+) map records, (\d+) cached records computed \(of (\d+) each\)`)

// drainCase is one run of TestDrainWithDecommissioning.
type drainCase struct {
	name, version string
	decommission  bool
	// sparkDefaults leaves spark.storage.decommission.replicationReattemptInterval at Spark's 30 s:
	// the evidence for the executors' grace period.
	sparkDefaults bool
}

// TestDrainWithDecommissioning evicts (the Eviction API, as kubectl drain does) an executor that
// holds shuffle output and cached blocks, between two jobs that read them:
//   - with decommissioning, its preStop hook makes it migrate its blocks to the other executor
//     before it exits, and the second job computes no map record and no cached record again;
//   - without (the control), the second job recomputes the lost map outputs and cached blocks.
func TestDrainWithDecommissioning(t *testing.T) {
	requireCluster(t)
	cases := []drainCase{{"decom-353", "3.5.3", true, false}}
	if os.Getenv("SPARK_E2E_DRAIN_EVIDENCE") == "1" {
		// The evidence behind docs/fault-tolerance.md (three more runs): the control, Spark's own
		// migration interval, and Spark 4.0.
		cases = append(cases, drainCase{"nodecom-353", "3.5.3", false, false}, drainCase{"decom-defaults-353", "3.5.3", true, true},
			drainCase{"decom-401", "4.0.1", true, false})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := filepath.Join(workDir, "decommission", tc.name)
			_ = os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			app := loadExample(t, "spark-pi-python")
			app.Name = "drain-" + tc.name
			app.Spec.Image = ptr.To("spark:" + tc.version)
			app.Spec.SparkVersion = tc.version
			app.Spec.MainApplicationFile = ptr.To("local:///opt/app/shuffle_twice.py")
			app.Spec.Arguments = []string{"/data"}
			app.Spec.Executor.Instances = ptr.To[int32](2)
			app.Spec.SparkConf = map[string]string{
				// Both executors take part in the first job.
				"spark.scheduler.minRegisteredResourcesRatio":       "1.0",
				"spark.scheduler.maxRegisteredResourcesWaitingTime": "600s",
				// A loaded machine can take more than Spark's 10 s to connect to the API server.
				"spark.kubernetes.driver.connectionTimeout": "60000",
				"spark.kubernetes.driver.requestTimeout":    "60000",
			}
			if tc.decommission {
				// The operator's one switch: decommissioning (which makes Spark give each executor
				// the preStop hook /opt/decom.sh, sending it SIGPWR), shuffle and cached block
				// migration, a 5 s migration recheck and a 60 s executor grace period.
				app.Annotations = map[string]string{v1beta2.AnnotationExecutorDecommissioning: "true"}
				if tc.sparkDefaults {
					// sparkConf wins over the switch: Spark's own 30 s recheck.
					app.Spec.SparkConf["spark.storage.decommission.replicationReattemptInterval"] = "30s"
				}
			}
			app.Spec.Volumes = []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}}},
				{Name: "app", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: filepath.Join(root, "test", "e2e", "testdata", "decommission")}}},
			}
			app.Spec.Driver.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "app", MountPath: "/opt/app", ReadOnly: true}}
			create(t, app)

			var ready struct {
				MapHosts []string `json:"mapHosts"`
			}
			// Three JVMs start before the first job: on a loaded 2-core machine that alone can
			// take minutes.
			deadline := time.Now().Add(2 * appTimeout)
			for {
				data, err := os.ReadFile(filepath.Join(dir, "ready"))
				if err == nil {
					if err := json.Unmarshal(data, &ready); err != nil {
						t.Fatal(err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the first job did not finish within %s", 2*appTimeout)
				}
				time.Sleep(200 * time.Millisecond)
			}
			victim := executorPod(t, ctx, app, ready.MapHosts)
			if victim == nil {
				t.Fatalf("no executor pod ran map tasks (their hosts: %v)", ready.MapHosts)
			}
			t.Logf("map tasks ran on %v; evicting executor %s", ready.MapHosts, victim.Name)
			if tc.decommission && (victim.Spec.Containers[0].Lifecycle == nil || victim.Spec.Containers[0].Lifecycle.PreStop == nil) {
				t.Errorf("Spark gave executor %s no preStop hook", victim.Name)
			}
			grace := ptr.Deref(victim.Spec.TerminationGracePeriodSeconds, 30)
			if tc.decommission && grace != 60 {
				t.Errorf("executor %s has a grace period of %d s, want the switch's 60", victim.Name, grace)
			}
			evicted := time.Now()
			if err := clientset.PolicyV1().Evictions(app.Namespace).Evict(ctx, &policyv1.Eviction{
				ObjectMeta: metav1.ObjectMeta{Name: victim.Name, Namespace: app.Namespace}}); err != nil {
				t.Fatal(err)
			}
			deadline = time.Now().Add(2 * time.Minute)
			for {
				p := &corev1.Pod{}
				err := k8s.Get(ctx, client.ObjectKeyFromObject(victim), p)
				if apierrors.IsNotFound(err) || err == nil && p.UID != victim.UID {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the evicted executor %s was not gone within 2 min", victim.Name)
				}
				time.Sleep(100 * time.Millisecond)
			}
			gone := time.Since(evicted)
			if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			got := waitForState(t, app, appTimeout, v1beta2.ApplicationStateCompleted)
			log := driverLog(t, ctx, got)
			m := shuffleResult.FindStringSubmatch(log)
			if m == nil {
				t.Fatalf("the driver log has no result line:\n%s", tail(log, 40))
			}
			mapRecords, _ := strconv.Atoi(m[1])
			cacheRecords, _ := strconv.Atoi(m[2])
			total, _ := strconv.Atoi(m[3])
			missing := missingParents(log)
			report := fmt.Sprintf("| %s: Spark %s, decommissioning %v | evicted executor gone after %.1f s (grace %d s); second job: %d of %d map records and %d of %d cached records computed again; missing parents of the second shuffle read: %s |",
				tc.name, tc.version, tc.decommission, gone.Seconds(), grace, mapRecords-total, total, cacheRecords-total, total, missing)
			t.Log(report)
			appendReport(t, "drain.md", report)
			if tc.decommission {
				if mapRecords != total || cacheRecords != total || missing != "List()" {
					t.Errorf("with decommissioning the second job recomputed blocks of the evicted executor")
				}
			} else if mapRecords == total {
				t.Errorf("without decommissioning the second job recomputed no map record: the control shows nothing")
			}
		})
	}
}

// executorPod returns a running executor pod of app whose host name is one of hosts.
func executorPod(t *testing.T, ctx context.Context, app *v1beta2.SparkApplication, hosts []string) *corev1.Pod {
	t.Helper()
	for _, p := range appPods(t, ctx, app) {
		if p.Labels[v1beta2.LabelSparkRole] != "executor" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, h := range hosts {
			if h != "" && (p.Name == h || p.Spec.Hostname == h || strings.HasPrefix(p.Name, h)) {
				return &p
			}
		}
	}
	return nil
}

// missingParents is what the DAGScheduler logged as the missing parent stages of the last job
// that read the shuffle ("Missing parents: List(...)"): "List()" when the map outputs were all
// there.
func missingParents(log string) string {
	re := regexp.MustCompile(`Missing parents: (List\([^)]*\))`)
	all := re.FindAllStringSubmatch(log, -1)
	if len(all) == 0 {
		return "not logged"
	}
	// Jobs in order: the first shuffle read, the first cache, the second shuffle read, the second cache.
	if len(all) >= 3 {
		return all[2][1]
	}
	return all[len(all)-1][1]
}
