package submission

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Fixed inputs make the golden files reproducible.
var (
	testUID  = types.UID("00000000-0000-0000-0000-000000000001")
	testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testOpts = Options{MasterURL: "k8s://https://10.96.0.1:443"}
)

// loadApp reads a SparkApplication YAML file strictly (unknown fields fail) and applies the schema
// defaults the API server would (type, mode, restart policy).
func loadApp(t testing.TB, path string) *v1beta2.SparkApplication {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	app := &v1beta2.SparkApplication{}
	if err := yaml.UnmarshalStrict(data, app); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	app.UID = testUID
	if app.Namespace == "" {
		app.Namespace = "default"
	}
	return app
}

// TestGolden renders every SparkApplication in examples/ and testdata/apps/ and compares the YAML
// stream with testdata/golden/<name>.yaml. Run `go test ./internal/submission -update` to accept a
// change, then review the diff.
func TestGolden(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../../examples/*.yaml", "testdata/apps/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	seen := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if !bytes.Contains(data, []byte("kind: SparkApplication\n")) {
			continue
		}
		seen++
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			app := loadApp(t, f)
			res, err := Render(app, NewSubmission(app.UID, "1", 1, testTime), testOpts)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got, err := res.YAML()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/submission -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("rendered objects differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
	if seen == 0 {
		t.Fatal("no SparkApplication found in examples/ or testdata/apps/")
	}
}

// app returns a minimal valid application, changed by mods.
func app(mods ...func(*v1beta2.SparkApplication)) *v1beta2.SparkApplication {
	a := &v1beta2.SparkApplication{}
	a.Name, a.Namespace, a.UID = "pi", "ns", testUID
	a.Spec = v1beta2.SparkApplicationSpec{
		Type:                v1beta2.SparkApplicationTypeScala,
		SparkVersion:        "3.5.3",
		Image:               ptr.To("spark:3.5.3"),
		MainClass:           ptr.To("org.apache.spark.examples.SparkPi"),
		MainApplicationFile: ptr.To("local:///opt/spark/examples/jars/spark-examples.jar"),
	}
	for _, m := range mods {
		m(a)
	}
	return a
}

func render(t *testing.T, a *v1beta2.SparkApplication) *Resources {
	t.Helper()
	res, err := Render(a, NewSubmission(a.UID, "1", 1, testTime), testOpts)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return res
}

func sparkContainer(t *testing.T, pod *corev1.Pod) *corev1.Container {
	t.Helper()
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == driverContainerName {
			return &pod.Spec.Containers[i]
		}
	}
	t.Fatalf("no %s container in %s", driverContainerName, pod.Name)
	return nil
}

// TestDriverMemory checks the pod memory arithmetic against Spark's own vectors
// (spark-submit-on-kubernetes.md section 11): request = limit = memory + overhead.
func TestDriverMemory(t *testing.T) {
	cases := map[string]struct {
		mod  func(*v1beta2.SparkApplication)
		want string
	}{
		"default 1g JVM":         {func(a *v1beta2.SparkApplication) {}, "1408Mi"},
		"4g JVM":                 {func(a *v1beta2.SparkApplication) { a.Spec.Driver.Memory = ptr.To("4g") }, "4505Mi"},
		"1g Python":              {func(a *v1beta2.SparkApplication) { a.Spec.Type = v1beta2.SparkApplicationTypePython }, "1433Mi"},
		"1g R":                   {func(a *v1beta2.SparkApplication) { a.Spec.Type = v1beta2.SparkApplicationTypeR }, "1433Mi"},
		"explicit overhead 512m": {func(a *v1beta2.SparkApplication) { a.Spec.Driver.MemoryOverhead = ptr.To("512m") }, "1536Mi"},
		"8g factor 0.2": {func(a *v1beta2.SparkApplication) {
			a.Spec.Driver.Memory = ptr.To("8g")
			a.Spec.MemoryOverheadFactor = ptr.To("0.2")
		}, "9830Mi"},
		"512m hits the 384Mi minimum": {func(a *v1beta2.SparkApplication) { a.Spec.Driver.Memory = ptr.To("512m") }, "896Mi"},
		"memory through sparkConf": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{"spark.driver.memory": "2048"}
		}, "2432Mi"},
		"driver factor wins over global": {func(a *v1beta2.SparkApplication) {
			a.Spec.Driver.Memory = ptr.To("10g")
			a.Spec.MemoryOverheadFactor = ptr.To("0.2")
			a.Spec.SparkConf = map[string]string{"spark.driver.memoryOverheadFactor": "0.5"}
		}, "15360Mi"},
		"minMemoryOverhead ignored before 4.0": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{"spark.driver.minMemoryOverhead": "1g"}
		}, "1408Mi"},
		"minMemoryOverhead on 4.0": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkVersion = "4.0.1"
			a.Spec.SparkConf = map[string]string{"spark.driver.minMemoryOverhead": "1g"}
		}, "2048Mi"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := render(t, app(tc.mod))
			c := sparkContainer(t, res.DriverPod)
			want := resource.MustParse(tc.want)
			for kind, list := range map[string]corev1.ResourceList{"request": c.Resources.Requests, "limit": c.Resources.Limits} {
				got := list[corev1.ResourceMemory]
				if got.Cmp(want) != 0 {
					t.Errorf("memory %s = %s, want %s", kind, got.String(), tc.want)
				}
			}
		})
	}
}

func TestDriverCPU(t *testing.T) {
	cases := map[string]struct {
		mod              func(*v1beta2.SparkApplication)
		request, limit   string
		overheadFactor   string
		wantResourceType string
	}{
		"default":      {func(a *v1beta2.SparkApplication) {}, "1", "", "0.1", "java"},
		"cores":        {func(a *v1beta2.SparkApplication) { a.Spec.Driver.Cores = ptr.To[int32](3) }, "3", "", "0.1", "java"},
		"coreRequest":  {func(a *v1beta2.SparkApplication) { a.Spec.Driver.CoreRequest = ptr.To("500m") }, "500m", "", "0.1", "java"},
		"coreLimit":    {func(a *v1beta2.SparkApplication) { a.Spec.Driver.CoreLimit = ptr.To("1200m") }, "1", "1200m", "0.1", "java"},
		"python 0.4":   {func(a *v1beta2.SparkApplication) { a.Spec.Type = v1beta2.SparkApplicationTypePython }, "1", "", "0.4", "python"},
		"factor given": {func(a *v1beta2.SparkApplication) { a.Spec.MemoryOverheadFactor = ptr.To("0.25") }, "1", "", "0.25", "java"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := render(t, app(tc.mod))
			c := sparkContainer(t, res.DriverPod)
			if got := c.Resources.Requests[corev1.ResourceCPU]; got.String() != tc.request {
				t.Errorf("cpu request = %s, want %s", got.String(), tc.request)
			}
			got, ok := c.Resources.Limits[corev1.ResourceCPU]
			if (tc.limit == "") == ok || (ok && got.String() != tc.limit) {
				t.Errorf("cpu limit = %v (set %v), want %q", got.String(), ok, tc.limit)
			}
			if f := res.Conf[keyMemoryOverheadFactor]; f != tc.overheadFactor {
				t.Errorf("%s = %s, want %s", keyMemoryOverheadFactor, f, tc.overheadFactor)
			}
			if r := res.Conf[keyResourceType]; r != tc.wantResourceType {
				t.Errorf("%s = %s, want %s", keyResourceType, r, tc.wantResourceType)
			}
		})
	}
}

func TestParseSparkMemory(t *testing.T) {
	cases := []struct {
		in      string
		wantMiB int64
		wantErr bool
	}{
		{"512m", 512, false}, {"512M", 512, false}, {"2g", 2048, false}, {"2G", 2048, false},
		{"1024k", 1, false}, {"1t", 1 << 20, false}, {"1gb", 1024, false}, {"4096", 4096, false},
		{"1048576b", 1, false}, {" 3g ", 3072, false},
		{"1Gi", 0, true}, {"", 0, true}, {"g", 0, true}, {"1.5g", 0, true}, {"-1g", 0, true},
		{"99999999999999999999g", 0, true},
	}
	for _, tc := range cases {
		got, err := parseSparkMemory(tc.in, "m")
		if (err != nil) != tc.wantErr || got != tc.wantMiB {
			t.Errorf("parseSparkMemory(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.wantMiB, tc.wantErr)
		}
	}
}

func TestParseMemoryQuantity(t *testing.T) {
	cases := map[string]string{"2g": "2Gi", "512m": "512Mi", "512M": "512Mi", "2Gi": "2Gi", "1024": "1Ki", "1536Mi": "1536Mi"}
	for in, want := range cases {
		got, err := parseMemoryQuantity(in)
		if err != nil || got.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("parseMemoryQuantity(%q) = %s, %v; want %s", in, got.String(), err, want)
		}
	}
	for _, bad := range []string{"2Xi", "abc", "1.5g"} {
		if _, err := parseMemoryQuantity(bad); err == nil {
			t.Errorf("parseMemoryQuantity(%q) accepted", bad)
		}
	}
}

func TestNames(t *testing.T) {
	labels := map[string]string{
		"Spark Pi!":                    "spark-pi",
		"--a--b--":                     "a-b",
		"a.b_c":                        "a-b-c",
		strings.Repeat("x", 70):        strings.Repeat("x", 63),
		strings.Repeat("y", 62) + "-z": strings.Repeat("y", 62),
	}
	for in, want := range labels {
		if got := sparkAppNameLabel(in); got != want {
			t.Errorf("sparkAppNameLabel(%q) = %q, want %q", in, got, want)
		}
	}
	prefixes := map[string]string{"Spark Pi!": "spark-pi-id", "123app": "x23app-id", "-foo": "foo-id", "a.b_c": "a-b-c-id"}
	for in, want := range prefixes {
		if got := resourceNamePrefix(in, "id"); got != want {
			t.Errorf("resourceNamePrefix(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a", 60)
	got := shortenName(long, "-driver-svc", 63)
	if len(got) != 63 || !strings.HasSuffix(got, "-driver-svc") || shortenName(long+"b", "-driver-svc", 63) == got {
		t.Errorf("shortenName(60 chars) = %q (%d chars): want 63 distinct characters ending in -driver-svc", got, len(got))
	}
	if got := shortenName("short", "-svc", 63); got != "short-svc" {
		t.Errorf("shortenName kept = %q", got)
	}
}

// TestLongNames checks that a 63-character application name still yields valid object names: the
// Service falls back to spark-<id>-driver-svc as in Spark, labels are cut to 63 characters.
func TestLongNames(t *testing.T) {
	name := "a" + strings.Repeat("b", 61) + "c"
	long := app(func(a *v1beta2.SparkApplication) { a.Name = name })
	res, err := Render(long, NewSubmission(long.UID, "1", 1, testTime), Options{DriverService: true})
	if err != nil {
		t.Fatal(err)
	}
	if svc := res.DriverService.Name; len(svc) > 63 || !strings.HasPrefix(svc, "spark-") {
		t.Errorf("service name %q: want Spark's spark-<id>-driver-svc fallback", svc)
	}
	if got := res.DriverPod.Name; got != name+"-driver" {
		t.Errorf("driver pod name = %q, want %s-driver", got, name)
	}
	for k, v := range res.DriverPod.Labels {
		if len(v) > 63 {
			t.Errorf("label %s=%q is longer than 63 characters", k, v)
		}
	}
	if host := res.Conf[keyDriverHost]; host != res.DriverService.Name+".ns.svc" {
		t.Errorf("spark.driver.host = %q, want the service's name", host)
	}
}

// TestDriverService: by default the driver has no Service and spark.driver.host is its pod IP,
// expanded by Kubernetes from the driver's arguments; with Options.DriverService, or when the
// application sets a key of the Service, the Service is created and spark.driver.host names it.
func TestDriverService(t *testing.T) {
	labelled := app(func(a *v1beta2.SparkApplication) { a.Spec.Driver.ServiceLabels = map[string]string{"team": "a"} })
	families := app(func(a *v1beta2.SparkApplication) {
		a.Spec.SparkConf = map[string]string{keyDriverServiceIPFamilies: "IPv6"}
	})
	for name, tc := range map[string]struct {
		app     *v1beta2.SparkApplication
		opts    Options
		service bool
	}{
		"default":                 {app(), Options{}, false},
		"--enable-driver-service": {app(), Options{DriverService: true}, true},
		"serviceLabels":           {labelled, Options{}, true},
		"ipFamilies":              {families, Options{}, true},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Render(tc.app, NewSubmission(tc.app.UID, "1", 1, testTime), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Join(sparkContainer(t, res.DriverPod).Args, " ")
			hasArg := strings.HasPrefix(args, "driver --conf "+driverHostFromPodIP+" --properties-file ")
			if tc.service {
				if res.DriverService == nil || res.Conf[keyDriverHost] != res.DriverService.Name+".ns.svc" || hasArg {
					t.Errorf("want the Service and spark.driver.host naming it; got Service %v, host %q, args %s", res.DriverService != nil, res.Conf[keyDriverHost], args)
				}
				if len(res.DriverOwned()) != 2 {
					t.Errorf("driver-owned objects: %d, want the ConfigMap and the Service", len(res.DriverOwned()))
				}
				return
			}
			if res.DriverService != nil || res.Conf[keyDriverHost] != "" || !hasArg {
				t.Errorf("want no Service and spark.driver.host from the pod IP; got Service %v, host %q, args %s", res.DriverService != nil, res.Conf[keyDriverHost], args)
			}
			if res.Conf[keyDriverPort] != "7078" || res.Conf[keyDriverBlockManagerPort] != "7079" {
				t.Errorf("driver ports %q %q, want 7078 and 7079", res.Conf[keyDriverPort], res.Conf[keyDriverBlockManagerPort])
			}
			if owned := res.DriverOwned(); len(owned) != 1 || owned[0] != res.ConfConfigMap {
				t.Errorf("driver-owned objects: %v, want the one ConfigMap", owned)
			}
		})
	}
}

func TestDriverPodName(t *testing.T) {
	cases := map[string]struct {
		mod  func(*v1beta2.SparkApplication)
		want string
	}{
		"default": {func(a *v1beta2.SparkApplication) {}, "pi-driver"},
		"podName": {func(a *v1beta2.SparkApplication) { a.Spec.Driver.PodName = ptr.To("my-driver") }, "my-driver"},
		"sparkConf": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{keyDriverPodName: "conf-driver"}
		}, "conf-driver"},
		"podName wins": {func(a *v1beta2.SparkApplication) {
			a.Spec.Driver.PodName = ptr.To("my-driver")
			a.Spec.SparkConf = map[string]string{keyDriverPodName: "conf-driver"}
		}, "my-driver"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := render(t, app(tc.mod))
			if res.DriverPod.Name != tc.want || res.Conf[keyDriverPodName] != tc.want {
				t.Errorf("pod %q, conf %q; want %q", res.DriverPod.Name, res.Conf[keyDriverPodName], tc.want)
			}
		})
	}
}

// TestSubmissionDeterministic: the same application and attempt always give the same identity and the
// same objects; another attempt gives new ones.
func TestSubmissionDeterministic(t *testing.T) {
	a, b := NewSubmission(testUID, "1", 1, testTime), NewSubmission(testUID, "1", 1, testTime.Add(time.Hour))
	if a.ID != b.ID || a.AppID != b.AppID {
		t.Fatalf("attempt 1 twice: %+v vs %+v", a, b)
	}
	c := NewSubmission(testUID, "1", 2, testTime)
	if c.ID == a.ID || c.AppID == a.AppID {
		t.Fatalf("attempts 1 and 2 share an identity: %+v", c)
	}
	if len(a.AppID) != len("spark-")+32 || len(a.ID) != 36 {
		t.Errorf("ids have the wrong shape: %q %q", a.ID, a.AppID)
	}
	x, _ := Render(app(), a, testOpts)
	y, _ := Render(app(), a, testOpts)
	xy, _ := x.YAML()
	yy, _ := y.YAML()
	if !bytes.Equal(xy, yy) {
		t.Error("two renders of the same submission differ")
	}
}

// TestRefusals: inputs spark-submit refuses, or that cannot work, end in a FieldError naming the field.
func TestRefusals(t *testing.T) {
	cases := map[string]struct {
		mod   func(*v1beta2.SparkApplication)
		field string
	}{
		"no image":             {func(a *v1beta2.SparkApplication) { a.Spec.Image = nil }, "spec.image"},
		"java without class":   {func(a *v1beta2.SparkApplication) { a.Spec.MainClass = nil }, "spec.mainClass"},
		"local main file":      {func(a *v1beta2.SparkApplication) { a.Spec.MainApplicationFile = ptr.To("/tmp/app.jar") }, "spec.mainApplicationFile"},
		"file: main file":      {func(a *v1beta2.SparkApplication) { a.Spec.MainApplicationFile = ptr.To("file:///tmp/app.jar") }, "spec.mainApplicationFile"},
		"missing main file":    {func(a *v1beta2.SparkApplication) { a.Spec.MainApplicationFile = nil }, "spec.mainApplicationFile"},
		"local jar dependency": {func(a *v1beta2.SparkApplication) { a.Spec.Deps.Jars = []string{"lib/x.jar"} }, "spec.deps.jars"},
		"client mode":          {func(a *v1beta2.SparkApplication) { a.Spec.Mode = v1beta2.DeployModeClient }, "spec.mode"},
		"namespace mismatch": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{keyNamespace: "other"}
		}, "spec.sparkConf"},
		"reserved driver label": {func(a *v1beta2.SparkApplication) { a.Spec.Driver.Labels = map[string]string{"spark-role": "x"} }, "spec.driver.labels"},
		"bind address": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{keyDriverBindAddress: "0.0.0.0"}
		}, "spec.sparkConf"},
		"driver host": {func(a *v1beta2.SparkApplication) { a.Spec.SparkConf = map[string]string{keyDriverHost: "x"} }, "spec.sparkConf"},
		"bad secretKeyRef": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{prefixDriverSecretKeyRef + "TOKEN": "no-colon"}
		}, "spec.sparkConf"},
		"mount without volume": {func(a *v1beta2.SparkApplication) {
			a.Spec.Driver.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, "spec.driver.volumeMounts"},
		"local dir without volume": {func(a *v1beta2.SparkApplication) {
			a.Spec.Executor.VolumeMounts = []corev1.VolumeMount{{Name: "spark-local-dir-1", MountPath: "/scratch"}}
		}, "spec.executor.volumeMounts"},
		"local dir of a secret": {func(a *v1beta2.SparkApplication) {
			a.Spec.Volumes = []corev1.Volume{{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
			a.Spec.Driver.VolumeMounts = []corev1.VolumeMount{{Name: "spark-local-dir-1", MountPath: "/scratch"}}
		}, "spec.volumes"},
		"memory limit below request": {func(a *v1beta2.SparkApplication) { a.Spec.Driver.MemoryLimit = ptr.To("1g") }, "spec.driver.memoryLimit"},
		"kubernetes memory notation": {func(a *v1beta2.SparkApplication) { a.Spec.Driver.Memory = ptr.To("1Gi") }, "spec.driver.memory"},
		"bad port":                   {func(a *v1beta2.SparkApplication) { a.Spec.SparkConf = map[string]string{keyUIPort: "http"} }, "spec.sparkConf"},
		"resource without vendor": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{"spark.driver.resource.gpu.amount": "1"}
		}, "spec.sparkConf"},
		"bad spark volume": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{prefixDriverVolumes + "weird.v.mount.path": "/x"}
		}, "spec.volumes"},
		"duplicate mount path": {func(a *v1beta2.SparkApplication) {
			a.Spec.SparkConf = map[string]string{
				prefixDriverVolumes + "emptyDir.a.mount.path": "/x",
				prefixDriverVolumes + "emptyDir.b.mount.path": "/x",
			}
		}, "spec.volumes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Render(app(tc.mod), NewSubmission(testUID, "1", 1, testTime), testOpts)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Render error = %v, want a FieldError for %s", err, tc.field)
			}
			if fe.Field != tc.field {
				t.Errorf("field = %q, want %q (error: %v)", fe.Field, tc.field, err)
			}
		})
	}
}

func TestPropertiesEscaping(t *testing.T) {
	got := propertiesText(Conf{
		"spark.master": "k8s://https://api:6443",
		"a key":        " leading space and = : # ! \\ \t\n",
	}, "header")
	want := "#header\n" +
		"a\\ key=\\ leading space and \\= \\: \\# \\! \\\\ \\t\\n\n" +
		"spark.master=k8s\\://https\\://api\\:6443\n"
	if got != want {
		t.Errorf("propertiesText:\n%q\nwant\n%q", got, want)
	}
}

// TestIvyDefault: spark.jars.packages without spark.jars.ivy points Ivy at /tmp/.ivy2 (the stock
// image's home is read-only, seed 004); an explicit spark.jars.ivy is kept.
func TestIvyDefault(t *testing.T) {
	res := render(t, app(func(a *v1beta2.SparkApplication) { a.Spec.Deps.Packages = []string{"org.postgresql:postgresql:42.3.3"} }))
	if res.Conf[keyIvy] != defaultIvyDir {
		t.Errorf("spark.jars.ivy = %q, want %q", res.Conf[keyIvy], defaultIvyDir)
	}
	if !strings.Contains(res.ConfConfigMap.Data[PropertiesFileName], "spark.jars.ivy=/tmp/.ivy2") {
		t.Error("the ivy default is not visible in spark.properties")
	}
	res = render(t, app(func(a *v1beta2.SparkApplication) {
		a.Spec.SparkConf = map[string]string{keyPackages: "x:y:1", keyIvy: "/data/ivy"}
	}))
	if res.Conf[keyIvy] != "/data/ivy" {
		t.Errorf("explicit spark.jars.ivy overridden: %q", res.Conf[keyIvy])
	}
	res = render(t, app())
	if _, ok := res.Conf[keyIvy]; ok {
		t.Error("spark.jars.ivy set without packages")
	}
}

// TestKueueLabelsNotPropagated: the application's own Kueue labels (queue-name) stay off the pods, so
// that Kueue's pod integration never queues them as workloads of their own; the per-role labels Kueue
// writes into spec.driver/spec.executor at admission (kueue.x-k8s.io/podset, which its topology
// ungater selects pods by) reach them.
func TestKueueLabelsNotPropagated(t *testing.T) {
	res := render(t, app(func(a *v1beta2.SparkApplication) {
		a.Labels = map[string]string{"kueue.x-k8s.io/queue-name": "q", "team": "data"}
		a.Spec.Driver.Labels = map[string]string{"kueue.x-k8s.io/podset": "driver"}
		a.Spec.Executor.Labels = map[string]string{"kueue.x-k8s.io/podset": "executor"}
	}))
	if _, ok := res.DriverPod.Labels["kueue.x-k8s.io/queue-name"]; ok {
		t.Error("the application's queue-name label reached the driver pod")
	}
	if _, ok := res.Conf[prefixExecutorLabel+"kueue.x-k8s.io/queue-name"]; ok {
		t.Error("the application's queue-name label reached the executors")
	}
	if res.DriverPod.Labels["team"] != "data" || res.Conf[prefixExecutorLabel+"team"] != "data" {
		t.Error("application label did not reach driver and executors")
	}
	if got := res.DriverPod.Labels["kueue.x-k8s.io/podset"]; got != "driver" {
		t.Errorf("driver pod kueue.x-k8s.io/podset = %q, want driver", got)
	}
	if got := res.Conf[prefixExecutorLabel+"kueue.x-k8s.io/podset"]; got != "executor" {
		t.Errorf("executor label kueue.x-k8s.io/podset = %q, want executor", got)
	}
}

// TestExecutorInstancesDefault: the schema stores instances: 1 when it is omitted, so 1, 0 and nil all
// mean "the default": they yield to spark.executor.instances in sparkConf and to dynamic allocation,
// as an omitted field did for Kubeflow; a larger count is passed as given.
func TestExecutorInstancesDefault(t *testing.T) {
	for _, tc := range []struct {
		name      string
		instances *int32
		sparkConf string
		da        bool
		want      string // "" for not set
	}{
		{name: "omitted", want: "1"},
		{name: "schema default", instances: ptr.To[int32](1), want: "1"},
		{name: "Kueue write-back 0", instances: ptr.To[int32](0), want: "1"},
		{name: "explicit 3", instances: ptr.To[int32](3), want: "3"},
		{name: "default yields to sparkConf", instances: ptr.To[int32](1), sparkConf: "5", want: "5"},
		{name: "explicit 3 overrides sparkConf", instances: ptr.To[int32](3), sparkConf: "5", want: "3"},
		{name: "default yields to dynamic allocation", instances: ptr.To[int32](1), da: true, want: ""},
		{name: "explicit 3 with dynamic allocation", instances: ptr.To[int32](3), da: true, want: "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := render(t, app(func(a *v1beta2.SparkApplication) {
				a.Spec.Executor.Instances = tc.instances
				if tc.sparkConf != "" {
					a.Spec.SparkConf = map[string]string{keyExecutorInstances: tc.sparkConf}
				}
				if tc.da {
					a.Spec.DynamicAllocation = &v1beta2.DynamicAllocation{Enabled: true}
				}
			}))
			if got := res.Conf[keyExecutorInstances]; got != tc.want {
				t.Errorf("spark.executor.instances = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOwnership: the driver pod is controlled by the application; the other objects get the
// spark-submit owner reference to the driver pod.
func TestOwnership(t *testing.T) {
	res := render(t, app())
	if refs := res.DriverPod.OwnerReferences; len(refs) != 1 || refs[0].Kind != "SparkApplication" || !*refs[0].Controller || refs[0].UID != testUID {
		t.Fatalf("driver owner references = %+v", refs)
	}
	res.DriverPod.UID = "pod-uid"
	OwnDriverResources(res.DriverPod, res.DriverOwned()...)
	for _, o := range res.DriverOwned() {
		refs := o.GetOwnerReferences()
		if len(refs) != 1 || refs[0].Kind != "Pod" || refs[0].UID != "pod-uid" || !*refs[0].Controller {
			t.Errorf("%s owner references = %+v", o.GetName(), refs)
		}
	}
	if res.DriverPod.Spec.EnableServiceLinks == nil || *res.DriverPod.Spec.EnableServiceLinks {
		t.Error("enableServiceLinks is not false on the driver")
	}
	if !strings.Contains(res.ExecutorTemplateConfigMap.Data[podTemplateKey], "enableServiceLinks: false") {
		t.Error("enableServiceLinks is not false in the executor template")
	}
}

// BenchmarkRenderSparkPi measures one native submission render of the seed spark-pi (target: well
// under a millisecond). Run: go test ./internal/submission -run '^$' -bench RenderSparkPi -benchmem
func BenchmarkRenderSparkPi(b *testing.B) {
	a := loadApp(b, "../../examples/spark-pi.yaml")
	sub := NewSubmission(a.UID, "1", 1, testTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(a, sub, testOpts); err != nil {
			b.Fatal(err)
		}
	}
}
