package lint

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/sparkctl/cmdutil"
	"github.com/sparkop/spark-operator/internal/sparkctl/manifest"
	"github.com/sparkop/spark-operator/internal/sparkctl/printing"
	"github.com/sparkop/spark-operator/internal/sparkctl/upload"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Severities of lint findings.
const (
	severityError   = "error"
	severityWarning = "warning"
	severityInfo    = "info"
)

// finding is one result of lint: what is wrong (or worth knowing) about a field, and why.
type finding struct {
	// Severity is error (the application will not run as written), warning (it runs, but probably
	// not as meant) or info (how the operator reads it).
	Severity string `json:"severity"`
	// Field is the path of the field concerned, e.g. spec.driver.memory or spec.sparkConf[spark.master].
	Field string `json:"field,omitempty"`
	// Message says what was found.
	Message string `json:"message"`
	// Explanation says why it matters and what to do.
	Explanation string `json:"explanation,omitempty"`
}

// linter runs the checks of one application and collects the findings.
type linter struct {
	a        *manifest.Application
	spec     *v1beta2.SparkApplicationSpec
	p        string // path of spec: "spec" or "spec.template"
	findings []finding
	// workDir is where relative local paths are resolved (the current directory).
	workDir string
}

func (l *linter) add(severity, field, message, explanation string) {
	l.findings = append(l.findings, finding{Severity: severity, Field: field, Message: message, Explanation: explanation})
}

// has reports whether an error was already reported for field (so Render's refusal of the same
// field is not reported twice).
func (l *linter) has(field string) bool {
	return slices.ContainsFunc(l.findings, func(f finding) bool {
		return f.Severity == severityError && (f.Field == field || strings.HasPrefix(f.Field, field+"[") || strings.HasPrefix(f.Field, field+"."))
	})
}

// lintApplication runs every check on a decoded application and returns the findings, errors first.
// kubeSchedulerNames are the operator's --kube-scheduler-names (batch schedulers it handles besides
// volcano and yunikorn).
func lintApplication(a *manifest.Application, workDir string, kubeSchedulerNames ...string) []finding {
	l := &linter{a: a, spec: a.Spec(), p: a.SpecPath(), workDir: workDir}
	l.checkFields()
	l.checkMetadata()
	l.checkLocalFiles()
	l.checkConf()
	l.checkPackages()
	l.checkMemoryNotation()
	l.checkSpec()
	l.checkBatchScheduler(kubeSchedulerNames)
	l.checkRender()
	slices.SortStableFunc(l.findings, func(x, y finding) int { return severityRank(x.Severity) - severityRank(y.Severity) })
	return l.findings
}

func severityRank(s string) int {
	switch s {
	case severityError:
		return 0
	case severityWarning:
		return 1
	}
	return 2
}

// checkFields reports unknown and duplicate fields.
func (l *linter) checkFields() {
	for _, p := range l.a.Problems {
		if p.Duplicate {
			l.add(severityWarning, p.Path, p.Message(), "YAML keeps the last value of a key given twice; remove the other one so the manifest says what runs.")
			continue
		}
		if p.InTemplate {
			l.add(severityWarning, p.Path, p.Message(),
				"A pod template is read as a Kubernetes v1 PodTemplateSpec, as Spark reads it; a field it does not have (misspelt, or in the wrong place: capabilities and allowPrivilegeEscalation belong to a container's securityContext, not the pod's) has no effect. The operator reports it in a SparkTemplateFieldsDropped Event.")
			continue
		}
		l.add(severityError, p.Path, p.Message(),
			"Fields are case-sensitive and must match the v1beta2 API (docs: api/v1beta2). kubectl apply refuses unknown fields by default (strict field validation); without it they are dropped silently and the setting has no effect.")
	}
}

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// checkMetadata checks the name, which the CRD requires to be a DNS-1035 label (it names the driver
// pod and Services).
func (l *linter) checkMetadata() {
	meta := l.a.Object()
	name := meta.GetName()
	switch {
	case name == "" && meta.GetGenerateName() == "":
		l.add(severityError, "metadata.name", "missing", "Every application needs a name (or generateName).")
	case name != "" && (len(name) > 63 || !dns1035.MatchString(name)):
		l.add(severityError, "metadata.name", fmt.Sprintf("%q is not a DNS-1035 label", name),
			"The name becomes the driver pod's and Services' names, so it must be at most 63 lower-case letters, digits or '-', start with a letter and end with a letter or digit; the API server refuses anything else.")
	}
}

// checkLocalFiles reports files on the user's disk that were not uploaded.
func (l *linter) checkLocalFiles() {
	for _, r := range manifest.LocalFileRefs(l.spec, l.p) {
		local, _ := manifest.LocalPath(*r.Value)
		where := "it does not exist here either (relative paths are read from the current directory)"
		if st, err := os.Stat(manifest.ResolvePath(l.workDir, local)); err == nil && !st.IsDir() {
			where = fmt.Sprintf("it exists here (%s)", upload.HumanBytes(st.Size()))
		}
		l.add(severityError, r.Field, fmt.Sprintf("%q is a file on your disk, which the driver cannot read; %s", *r.Value, where),
			"The driver runs in the cluster and only sees the image and remote storage; the operator refuses local files (SUBMISSION_FAILED). "+
				"Upload it with `sparkctl create --upload-to s3://BUCKET/PATH`, which rewrites it to the uploaded s3a:// URI, or use local:///path for a file inside the image.")
	}
}

// deniedConf are the sparkConf keys the CRD refuses (its CEL rule on spec.sparkConf) and the spec
// field to use instead. TestDeniedConfMatchesCRD keeps the list in step with the CRD.
var deniedConf = map[string]string{
	"spark.master":                                              "the operator sets it",
	"spark.kubernetes.driver.master":                            "use spec.driver.kubernetesMaster",
	"spark.kubernetes.container.image":                          "use spec.image",
	"spark.kubernetes.driver.container.image":                   "use spec.driver.image",
	"spark.kubernetes.executor.container.image":                 "use spec.executor.image",
	"spark.kubernetes.authenticate.driver.serviceAccountName":   "use spec.driver.serviceAccount",
	"spark.kubernetes.authenticate.executor.serviceAccountName": "use spec.executor.serviceAccount",
	"spark.kubernetes.authenticate.oauthToken":                  "the driver uses its service account",
	"spark.kubernetes.authenticate.oauthTokenFile":              "the driver uses its service account",
	"spark.kubernetes.authenticate.driver.oauthToken":           "the driver uses its service account",
	"spark.kubernetes.authenticate.driver.oauthTokenFile":       "the driver uses its service account",
	"spark.kubernetes.authenticate.executor.oauthToken":         "executors use their service account",
	"spark.kubernetes.authenticate.executor.oauthTokenFile":     "executors use their service account",
}

// refusedConf are sparkConf keys the submitter refuses (SUBMISSION_FAILED), and why.
var refusedConf = map[string]string{
	"spark.driver.bindAddress": "the driver binds to its pod IP (SPARK_DRIVER_BIND_ADDRESS), as spark-submit arranges",
	"spark.driver.host":        "the operator sets it: the driver's pod IP, or its headless Service with --enable-driver-service",
}

// overriddenConf are sparkConf keys the operator always sets, so a value in sparkConf is ignored.
var overriddenConf = map[string]string{
	"spark.app.name":                                "the application's metadata.name",
	"spark.submit.deployMode":                       "cluster",
	"spark.kubernetes.submission.waitAppCompletion": "false",
	"spark.kubernetes.submitInDriver":               "true",
	"spark.app.submitTime":                          "the submission time",
	"spark.kubernetes.executor.podTemplateFile":     "the executor pod template it ships (it carries what spec.executor sets)",
}

// confSpec are sparkConf keys that a spec field also sets; the spec field wins when both are set.
func (l *linter) confSpec() map[string]struct {
	Field string
	Value *string
} {
	s := l.spec
	str := func(p *string) *string { return p }
	num := func(p *int32) *string {
		if p == nil {
			return nil
		}
		v := strconv.Itoa(int(*p))
		return &v
	}
	// executor.instances of 1 or 0 is the stored default and yields to sparkConf (see the API field).
	instances := func(p *int32) *string {
		if p != nil && *p <= 1 {
			return nil
		}
		return num(p)
	}
	type fv = struct {
		Field string
		Value *string
	}
	return map[string]fv{
		"spark.driver.cores":                          {"driver.cores", num(s.Driver.Cores)},
		"spark.executor.cores":                        {"executor.cores", num(s.Executor.Cores)},
		"spark.driver.memory":                         {"driver.memory", str(s.Driver.Memory)},
		"spark.executor.memory":                       {"executor.memory", str(s.Executor.Memory)},
		"spark.driver.memoryOverhead":                 {"driver.memoryOverhead", str(s.Driver.MemoryOverhead)},
		"spark.executor.memoryOverhead":               {"executor.memoryOverhead", str(s.Executor.MemoryOverhead)},
		"spark.executor.instances":                    {"executor.instances", instances(s.Executor.Instances)},
		"spark.kubernetes.memoryOverheadFactor":       {"memoryOverheadFactor", str(s.MemoryOverheadFactor)},
		"spark.kubernetes.pyspark.pythonVersion":      {"pythonVersion", str(s.PythonVersion)},
		"spark.kubernetes.container.image.pullPolicy": {"imagePullPolicy", str(s.ImagePullPolicy)},
		"spark.kubernetes.driver.request.cores":       {"driver.coreRequest", str(s.Driver.CoreRequest)},
		"spark.kubernetes.executor.request.cores":     {"executor.coreRequest", str(s.Executor.CoreRequest)},
		"spark.kubernetes.driver.limit.cores":         {"driver.coreLimit", str(s.Driver.CoreLimit)},
		"spark.kubernetes.executor.limit.cores":       {"executor.coreLimit", str(s.Executor.CoreLimit)},
	}
}

// checkConf checks sparkConf and hadoopConf keys.
func (l *linter) checkConf() {
	conf := l.spec.SparkConf
	field := func(k string) string { return fmt.Sprintf("%s.sparkConf[%s]", l.p, k) }
	specs := l.confSpec()
	for _, k := range printing.SortedStrings(conf) {
		v := conf[k]
		if instead, ok := deniedConf[k]; ok {
			l.add(severityError, field(k), "not allowed in sparkConf: "+instead,
				"The CRD refuses this key (the API server rejects the object), because the operator owns it: images, service accounts and credentials come from the spec so that the driver and executor pods are built consistently.")
			continue
		}
		if why, ok := refusedConf[k]; ok {
			l.add(severityError, field(k), "refused by the operator: "+why,
				"The operator would report SUBMISSION_FAILED. Remove the key.")
			continue
		}
		if set, ok := overriddenConf[k]; ok {
			l.add(severityWarning, field(k), fmt.Sprintf("ignored: the operator always sets it (to %s)", set), "Remove it to avoid confusion.")
			continue
		}
		switch {
		case k == "spark.kubernetes.namespace":
			if ns := l.a.Object().GetNamespace(); ns != "" && v != ns {
				l.add(severityError, field(k), fmt.Sprintf("%q differs from the application's namespace %q", v, ns),
					"The driver always runs in the application's namespace; the operator refuses a different value (SUBMISSION_FAILED). Remove the key.")
			}
		case k == "spark.kubernetes.file.upload.path":
			l.add(severityWarning, field(k), "has no effect: the operator does not upload files (spark-submit does, but the operator has no access to your disk)",
				"Local files are refused at submission. Upload them with `sparkctl create --upload-to s3://BUCKET/PATH`, or put them in the image or in remote storage yourself.")
		case k == "spark.jars" && (l.isJVM() || len(l.spec.Deps.Jars) > 0):
			l.add(severityWarning, field(k), "replaced by spec.deps.jars and the main application file",
				"The operator writes spark.jars from spec.deps.jars (plus the main jar of a Java or Scala application), as spark-submit's --jars would; put the jars in spec.deps.jars.")
		case k == "spark.submit.pyFiles":
			l.add(severityWarning, field(k), "replaced by spec.deps.pyFiles", "The operator always writes spark.submit.pyFiles from spec.deps.pyFiles, as spark-submit does; put the files there.")
		case k == "spark.files" && len(l.spec.Deps.Files) > 0, k == "spark.archives" && len(l.spec.Deps.Archives) > 0,
			k == "spark.jars.packages" && len(l.spec.Deps.Packages) > 0:
			l.add(severityWarning, field(k), "replaced by the matching spec.deps list", "Keep the list in one place: spec.deps.")
		case strings.HasPrefix(k, "fs.") || strings.HasPrefix(k, "hadoop.") || strings.HasPrefix(k, "yarn.") || strings.HasPrefix(k, "mapreduce."):
			l.add(severityWarning, field(k), "a Hadoop setting in sparkConf, where Spark ignores it",
				"Spark passes only spark.hadoop.* keys to Hadoop. Move it to spec.hadoopConf (the operator adds the spark.hadoop. prefix) or prefix it with spark.hadoop.")
		}
		if s, ok := specs[k]; ok && s.Value != nil && *s.Value != v {
			l.add(severityWarning, field(k), fmt.Sprintf("%q is overridden by %s.%s=%q", v, l.p, s.Field, *s.Value),
				"The spec field wins, as a later --conf does in spark-submit. Set the value in one place.")
		}
	}
	for _, k := range printing.SortedStrings(l.spec.HadoopConf) {
		if strings.HasPrefix(k, "spark.hadoop.") {
			l.add(severityWarning, fmt.Sprintf("%s.hadoopConf[%s]", l.p, k), "already has the spark.hadoop. prefix, which the operator adds again",
				fmt.Sprintf("It becomes spark.hadoop.%s, which Hadoop does not know. Write %s.", k, strings.TrimPrefix(k, "spark.hadoop.")))
		}
	}
}

func (l *linter) isJVM() bool {
	t := l.spec.Type
	return t == "" || t == v1beta2.SparkApplicationTypeJava || t == v1beta2.SparkApplicationTypeScala
}

// readOnlyHomes are directories that are read-only for the Spark user in the stock apache/spark
// images: spark.jars.ivy there fails (seed 004).
var readOnlyHomes = []string{"/home/", "/opt/spark", "/root"}

// checkPackages checks that Ivy can write where spark.jars.packages are resolved (seed 004: the stock
// image's $HOME is read-only, so Ivy's default ~/.ivy2 fails).
func (l *linter) checkPackages() {
	packages := l.spec.SparkConf["spark.jars.packages"]
	field := l.p + ".sparkConf[spark.jars.packages]"
	if len(l.spec.Deps.Packages) > 0 {
		packages, field = strings.Join(l.spec.Deps.Packages, ","), l.p+".deps.packages"
	}
	if strings.TrimSpace(packages) == "" {
		return
	}
	ivy, ivySet := l.spec.SparkConf["spark.jars.ivy"]
	ivyField := l.p + ".sparkConf[spark.jars.ivy]"
	const why = "The driver resolves spark.jars.packages with Ivy when it starts, downloading them from Maven Central (or spark.jars.repositories) on every run, into spark.jars.ivy. " +
		"Ivy's default is ~/.ivy2, but the stock Spark image's home (/home/spark) is read-only, so the driver fails at once (the seed 004 failure). "
	readOnlyRoot := l.readOnlyRootFilesystem()
	switch {
	case !ivySet || strings.TrimSpace(ivy) == "":
		msg := "spark.jars.packages is set without spark.jars.ivy: the operator sets spark.jars.ivy=/tmp/.ivy2"
		if readOnlyRoot && !l.driverMountCovers("/tmp/.ivy2") {
			l.add(severityError, field, msg+", but the driver's root filesystem is read-only and /tmp is not a volume",
				why+"Mount an emptyDir at /tmp in the driver (spec.volumes and spec.driver.volumeMounts) or set spark.jars.ivy to a writable volume.")
			return
		}
		l.add(severityInfo, field, msg, why+"/tmp is writable in the stock image; set spark.jars.ivy yourself to use another directory, or bake the jars into the image to avoid the download.")
	case !strings.HasPrefix(ivy, "/"):
		l.add(severityWarning, ivyField, fmt.Sprintf("%q is not an absolute path", ivy),
			why+"A relative or ~ path depends on the image's working directory or home, which may be read-only; use an absolute path such as /tmp/.ivy2.")
	case slices.ContainsFunc(readOnlyHomes, func(p string) bool { return strings.HasPrefix(ivy, p) }) && !l.driverMountCovers(ivy):
		l.add(severityWarning, ivyField, fmt.Sprintf("%q is probably not writable in the driver", ivy),
			why+"Use /tmp/.ivy2, or mount a writable volume (e.g. an emptyDir) at that path in the driver.")
	case readOnlyRoot && !l.driverMountCovers(ivy):
		l.add(severityError, ivyField, fmt.Sprintf("%q is on the driver's read-only root filesystem", ivy),
			why+"Mount a writable volume (e.g. an emptyDir) at that path in the driver.")
	default:
		l.add(severityInfo, ivyField, fmt.Sprintf("packages are resolved into %q", ivy),
			"The driver downloads spark.jars.packages on every run; bake the jars into the image to avoid the download.")
	}
}

// readOnlyRootFilesystem reports whether the driver's Spark container runs with a read-only root
// filesystem.
func (l *linter) readOnlyRootFilesystem() bool {
	sc := l.spec.Driver.SecurityContext
	return sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
}

// driverMountCovers reports whether a driver volume mount contains dir.
func (l *linter) driverMountCovers(dir string) bool {
	for _, m := range l.spec.Driver.VolumeMounts {
		mp := strings.TrimSuffix(m.MountPath, "/")
		if (dir == mp || strings.HasPrefix(dir, mp+"/")) && !m.ReadOnly {
			return true
		}
	}
	return false
}

// checkMemoryNotation reports memory settings Spark cannot read, such as Kubernetes' "2Gi".
func (l *linter) checkMemoryNotation() {
	check := func(field, v string, inConf bool) {
		if v == "" {
			return
		}
		if _, err := submission.ParseSparkMemoryMiB(v); err == nil {
			return
		}
		msg := fmt.Sprintf("%q is not a Spark memory size", v)
		if q, err := resource.ParseQuantity(v); err == nil {
			mib := q.Value() >> 20
			msg = fmt.Sprintf("%q is Kubernetes notation, which Spark cannot read; write %dm", v, mib)
			if mib%1024 == 0 && mib > 0 {
				msg = fmt.Sprintf("%q is Kubernetes notation, which Spark cannot read; write %dg", v, mib/1024)
			}
		}
		why := "Spark reads memory as a number with an optional unit k, m, g, t or p (binary multiples): 512m, 2g. "
		if inConf {
			why += "The operator refuses the submission (SUBMISSION_FAILED), or Spark fails at start."
		} else {
			why += "The API server refuses other forms for this field."
		}
		l.add(severityError, field, msg, why)
	}
	s := l.spec
	for _, f := range []struct {
		Field string
		v     *string
	}{
		{"driver.memory", s.Driver.Memory}, {"driver.memoryOverhead", s.Driver.MemoryOverhead},
		{"executor.memory", s.Executor.Memory}, {"executor.memoryOverhead", s.Executor.MemoryOverhead},
	} {
		if f.v != nil {
			check(l.p+"."+f.Field, *f.v, false)
		}
	}
	for _, k := range []string{"spark.driver.memory", "spark.executor.memory", "spark.driver.memoryOverhead", "spark.executor.memoryOverhead"} {
		if v, ok := s.SparkConf[k]; ok {
			check(fmt.Sprintf("%s.sparkConf[%s]", l.p, k), v, true)
		}
	}
}

// checkSpec checks spec settings that are accepted but do not do what they seem to.
func (l *linter) checkSpec() {
	s := l.spec
	if !l.isJVM() && s.MainClass != nil && *s.MainClass != "" {
		l.add(severityWarning, l.p+".mainClass", fmt.Sprintf("ignored for a %s application", s.Type),
			"Only Java and Scala applications have a main class; Python and R run mainApplicationFile.")
	}
	if len(s.NodeSelector) > 0 && (len(s.Driver.NodeSelector) > 0 || len(s.Executor.NodeSelector) > 0) {
		l.add(severityError, l.p+".nodeSelector", "cannot be combined with driver.nodeSelector or executor.nodeSelector",
			"The CRD refuses the combination (as Kubeflow's does); put the selector on the driver and the executor instead.")
	}
	rp := s.RestartPolicy
	if rp.Type == v1beta2.RestartPolicyOnFailure && (rp.OnFailureRetries == nil || *rp.OnFailureRetries == 0) &&
		(rp.OnSubmissionFailureRetries == nil || *rp.OnSubmissionFailureRetries == 0) {
		l.add(severityWarning, l.p+".restartPolicy", "OnFailure without onFailureRetries or onSubmissionFailureRetries never retries",
			"Retries are counted as in Kubeflow: onFailureRetries N allows N+1 runs. Set onFailureRetries (and onSubmissionFailureRetries) to the number of retries you want.")
	}
	if da := s.DynamicAllocation; da != nil && da.Enabled && da.MaxExecutors == nil && s.SparkConf["spark.dynamicAllocation.maxExecutors"] == "" {
		l.add(severityWarning, l.p+".dynamicAllocation.maxExecutors", "unset: dynamic allocation may ask for executors without bound",
			"Spark's default maximum is unlimited; set maxExecutors so that a large stage cannot fill the cluster (or its quota).")
	}
}

// checkRender renders the application with the operator's submitter and reports what it refuses, and
// the memory each pod requests.
func (l *linter) checkRender() {
	app := &v1beta2.SparkApplication{}
	if l.a.Scheduled != nil {
		app.ObjectMeta = *l.a.Scheduled.ObjectMeta.DeepCopy()
		app.Spec = *l.a.Scheduled.Spec.Template.DeepCopy()
	} else {
		app = l.a.App.DeepCopy()
	}
	if app.Name == "" {
		app.Name = strings.TrimSuffix(app.GenerateName, "-") + "-x"
	}
	if app.Namespace == "" {
		app.Namespace = "default"
	}
	app.UID = types.UID("00000000-0000-0000-0000-000000000000")
	// Local files are reported above; render as if they had been uploaded.
	for _, r := range manifest.LocalFileRefs(&app.Spec, "spec") {
		local, frag := manifest.LocalPath(*r.Value)
		*r.Value = "s3a://uploaded/" + path.Base(local) + frag
	}
	res, err := submission.Render(app, submission.NewSubmission(app.UID, "1", 1, time.Unix(0, 0)), submission.Options{})
	if err != nil {
		var fe *submission.FieldError
		field, msg := "", err.Error()
		if errors.As(err, &fe) {
			field, msg = strings.Replace(fe.Field, "spec", l.p, 1), fe.Detail
		}
		if !l.has(field) {
			l.add(severityError, field, msg, "The operator would not submit the application: its state would be SUBMISSION_FAILED with this message.")
		}
		return
	}
	l.memory(app, res)
}

// podMemory is the memory arithmetic of one pod, in MiB.
type podMemory struct {
	heap, overhead, offHeap, pyspark int64
	// how describes the overhead: "explicit" or "max(0.1 x 1024Mi, 384Mi)".
	how string
}

func (m podMemory) total() int64 { return m.heap + m.overhead + m.offHeap + m.pyspark }

func (m podMemory) String() string {
	s := fmt.Sprintf("%dMi = heap %dMi + overhead %dMi (%s)", m.total(), m.heap, m.overhead, m.how)
	if m.offHeap > 0 {
		s += fmt.Sprintf(" + off-heap %dMi", m.offHeap)
	}
	if m.pyspark > 0 {
		s += fmt.Sprintf(" + PySpark %dMi", m.pyspark)
	}
	return s
}

// roleMemory computes the memory of the driver (role "driver") or of one executor ("executor") from
// the rendered Spark configuration, with Spark's rules (BasicDriverFeatureStep,
// BasicExecutorFeatureStep) and the submitter's helpers.
func roleMemory(app *v1beta2.SparkApplication, conf submission.Conf, role string) (podMemory, error) {
	var m podMemory
	memStr := conf["spark."+role+".memory"]
	if memStr == "" {
		memStr = "1g"
	}
	heap, err := submission.ParseSparkMemoryMiB(memStr)
	if err != nil {
		return m, err
	}
	m.heap = heap
	factor := submission.DefaultMemoryOverheadFactor(app.Spec.Type)
	if f, err := strconv.ParseFloat(conf["spark.kubernetes.memoryOverheadFactor"], 64); err == nil && f > 0 {
		factor = f
	}
	if f, err := strconv.ParseFloat(conf["spark."+role+".memoryOverheadFactor"], 64); err == nil && f > 0 {
		factor = f
	}
	minMiB := int64(submission.MinMemoryOverheadMiB)
	if v := conf["spark."+role+".minMemoryOverhead"]; v != "" && submission.SparkVersionAtLeast(app.Spec.SparkVersion, 4, 0) {
		if minMiB, err = submission.ParseSparkMemoryMiB(v); err != nil {
			return m, err
		}
	}
	var explicit *int64
	if v := conf["spark."+role+".memoryOverhead"]; v != "" {
		e, err := submission.ParseSparkMemoryMiB(v)
		if err != nil {
			return m, err
		}
		explicit = &e
		m.how = "memoryOverhead"
	} else {
		m.how = fmt.Sprintf("max(%s x %dMi, %dMi)", strconv.FormatFloat(factor, 'f', -1, 64), heap, minMiB)
	}
	m.overhead = submission.MemoryOverheadMiB(heap, factor, explicit, minMiB)
	if role == "executor" {
		if strings.EqualFold(conf["spark.memory.offHeap.enabled"], "true") {
			if v := conf["spark.memory.offHeap.size"]; v != "" {
				if m.offHeap, err = submission.ParseSparkMemoryMiB(v); err != nil {
					return m, err
				}
			}
		}
		if t := app.Spec.Type; t == v1beta2.SparkApplicationTypePython {
			if v := conf["spark.executor.pyspark.memory"]; v != "" {
				if m.pyspark, err = submission.ParseSparkMemoryMiB(v); err != nil {
					return m, err
				}
			}
		}
	}
	return m, nil
}

// minHeapMiB is the smallest heap Spark starts with: 1.5 x its 300 MiB reserved memory
// (UnifiedMemoryManager); below it the driver or executor exits with "System memory ... must be at
// least 471859200".
const minHeapMiB = 450

// memory reports the memory arithmetic of the driver and the executors.
func (l *linter) memory(app *v1beta2.SparkApplication, res *submission.Resources) {
	for _, role := range []string{"driver", "executor"} {
		m, err := roleMemory(app, res.Conf, role)
		if err != nil {
			continue // reported by checkMemoryNotation or Render
		}
		field := l.p + "." + role
		if m.heap < minHeapMiB {
			l.add(severityError, field+".memory", fmt.Sprintf("heap %dMi is below Spark's minimum of %dMi", m.heap, minHeapMiB),
				"Spark reserves 300 MiB and refuses to start with less than 1.5 times that (\"System memory ... must be at least 471859200\"). Use at least 512m.")
		}
		if role == "driver" {
			pod := res.DriverPod
			for _, c := range pod.Spec.Containers {
				if c.Name != cmdutil.SparkContainer(pod, true) {
					continue
				}
				if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok && q.Value()>>20 != m.total() {
					// Never expected: the arithmetic above is the submitter's; trust the pod.
					l.add(severityInfo, field, fmt.Sprintf("driver pod requests %s of memory", q.String()), "")
					m = podMemory{}
				}
			}
			if m.heap > 0 {
				l.add(severityInfo, field, "driver pod memory "+m.String(),
					"Kubernetes gives the pod the heap plus the overhead (off-heap JVM memory, Python workers, buffers) as request and limit; a driver using more is OOM-killed (exit code 137).")
			}
			continue
		}
		l.add(severityInfo, field, fmt.Sprintf("each executor pod memory %s; %s", m.String(), executorTotal(res.Conf, m.total())),
			"Spark sets each executor pod's request and limit to this total; raise memoryOverhead (not memory) when executors are OOM-killed while the JVM heap is fine.")
	}
}

// executorTotal says how many executors run and how much memory they need together, each needing
// perPod MiB.
func executorTotal(conf submission.Conf, perPod int64) string {
	if strings.EqualFold(conf["spark.dynamicAllocation.enabled"], "true") {
		if n, err := strconv.Atoi(conf["spark.dynamicAllocation.maxExecutors"]); err == nil {
			return fmt.Sprintf("dynamic allocation up to %d executors: up to %s", n, humanMiB(int64(n)*perPod))
		}
		return "dynamic allocation without maxExecutors: no upper bound"
	}
	n, err := strconv.Atoi(conf["spark.executor.instances"])
	if err != nil {
		n = 1
	}
	return fmt.Sprintf("%d executor(s): %s in total", n, humanMiB(int64(n)*perPod))
}

// humanMiB formats MiB as "1408Mi" or "4.5Gi".
func humanMiB(mib int64) string {
	if mib >= 10240 || (mib >= 1024 && mib%1024 == 0) {
		return strconv.FormatFloat(float64(mib)/1024, 'f', -1, 64) + "Gi"
	}
	return fmt.Sprintf("%dMi", mib)
}
