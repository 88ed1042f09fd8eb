package crd_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/testing/framework"
	"github.com/sparkop/spark-operator/internal/testing/kubeflow"
	"github.com/sparkop/spark-operator/internal/testing/util"
	"github.com/sparkop/spark-operator/internal/testing/wrappers"
)

// TestSparkConnectAccepted: Kubeflow's SparkConnect example of each release in kubeflow.Versions,
// unchanged, and ours (examples/sparkconnect) are accepted with strict field validation and decode
// strictly into api/v1alpha1.
func TestSparkConnectAccepted(t *testing.T) {
	all := readManifests(t, "examples/sparkconnect/*.yaml")
	for _, version := range kubeflow.Versions {
		kf := readManifestsUnder(t, kubeflow.MustModuleDir(t, version), "examples/sparkconnect/*.yaml", nil)
		for i := range kf {
			kf[i].file = "kubeflow-" + version + "/" + kf[i].file
		}
		all = append(all, kf...)
	}
	if len(all) < 1+len(kubeflow.Versions) {
		t.Fatalf("found %d SparkConnect manifests, want Kubeflow's and ours", len(all))
	}
	for _, m := range all {
		t.Run(m.file, func(t *testing.T) {
			obj := m.obj.DeepCopy()
			util.EnsureNamespace(t, env.Client, obj.GetNamespace())
			if err := env.Client.Create(context.Background(), obj, client.DryRunAll, client.FieldOwner(fieldOwner), client.FieldValidation("Strict")); err != nil {
				t.Fatalf("creating %s: %v", m, err)
			}
			conn := &v1alpha1.SparkConnect{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, conn, true); err != nil {
				t.Fatalf("%s does not decode strictly into api/v1alpha1: %v", m, err)
			}
		})
	}
}

// TestSparkConnectRejected: bad SparkConnects are refused at admission, naming the field.
func TestSparkConnectRejected(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*v1alpha1.SparkConnect)
		want   []string
	}{
		{"negative executor instances", func(c *v1alpha1.SparkConnect) { c.Spec.Executor.Instances = wrappers.Ptr[int32](-1) },
			[]string{"spec.executor.instances", "greater than or equal to 0"}},
		{"zero server cores", func(c *v1alpha1.SparkConnect) { c.Spec.Server.Cores = wrappers.Ptr[int32](0) },
			[]string{"spec.server.cores", "greater than or equal to 1"}},
		{"executor memory not Spark's notation", func(c *v1alpha1.SparkConnect) { c.Spec.Executor.Memory = wrappers.Ptr("lots") },
			[]string{"spec.executor.memory", "should match"}},
		{"no spark version", func(c *v1alpha1.SparkConnect) { c.Spec.SparkVersion = "" },
			[]string{"spec.sparkVersion"}},
		{"bad spark version", func(c *v1alpha1.SparkConnect) { c.Spec.SparkVersion = "four" },
			[]string{"spec.sparkVersion", "should match"}},
		{"empty image", func(c *v1alpha1.SparkConnect) { c.Spec.Image = wrappers.Ptr("") },
			[]string{"spec.image"}},
		{"spark.master in sparkConf", func(c *v1alpha1.SparkConnect) { c.Spec.SparkConf = map[string]string{"spark.master": "local"} },
			[]string{"spec.sparkConf", "sparkConf key spark.master is not allowed: the operator sets it"}},
		{"OAuth token in sparkConf", func(c *v1alpha1.SparkConnect) {
			c.Spec.SparkConf = map[string]string{"spark.kubernetes.authenticate.executor.oauthTokenFile": "/t"}
		}, []string{"spec.sparkConf", "sparkConf key spark.kubernetes.authenticate.executor.oauthTokenFile is not allowed"}},
		{"service account in sparkConf", func(c *v1alpha1.SparkConnect) {
			c.Spec.SparkConf = map[string]string{"spark.kubernetes.authenticate.driver.serviceAccountName": "admin"}
		}, []string{"spec.sparkConf", "sparkConf key spark.kubernetes.authenticate.driver.serviceAccountName is not allowed"}},
		{"name too long for the server Service", func(c *v1alpha1.SparkConnect) { c.Name = "sc-" + strings.Repeat("x", 54) },
			[]string{"metadata.name must be a DNS-1035 label of at most 56 characters"}},
		{"negative dynamic allocation maximum", func(c *v1alpha1.SparkConnect) {
			c.Spec.DynamicAllocation = &v1beta2.DynamicAllocation{Enabled: true, MaxExecutors: wrappers.Ptr[int32](-2)}
		}, []string{"spec.dynamicAllocation.maxExecutors"}},
	}
	ns := "sparkconnect-rejected"
	util.EnsureNamespace(t, env.Client, ns)
	for _, tc := range cases {
		t.Run(framework.DNSLabel(tc.name, 40), func(t *testing.T) {
			conn := wrappers.MakeSparkConnect("sc", ns).Obj()
			tc.mutate(conn)
			err := env.Client.Create(context.Background(), conn, client.DryRunAll)
			if err == nil {
				t.Fatalf("accepted, want rejected with %q", tc.want)
			}
			assertInvalid(t, err, tc.want...)
		})
	}
}
