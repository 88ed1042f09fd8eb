package conformance_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// difference is one field that differs between spark-submit's object and ours.
type difference struct {
	Object      string // Pod, Service, ConfigMap (spark.properties), ExecutorTemplateConfigMap
	Path        string // flattened field path (normalize_test.go)
	Spark, Ours string // values; "<absent>" when the field is missing on that side
}

func (d difference) String() string {
	return fmt.Sprintf("%s %s: spark-submit=%q ours=%q", d.Object, d.Path, d.Spark, d.Ours)
}

// intended is a difference allowed by the table of intended differences in docs/submission.md.
type intended struct {
	Object string // the object kind, as in difference.Object
	Path   string // a regular expression the whole path must match
	// Only, when set, limits the entry to differences where this side has the field and the other has
	// not ("ours": a field only we set; "spark": a field only spark-submit sets).
	Only string
	// Versions, when set, is a regular expression the Spark version must match.
	Versions string
	// Reason is the "why" of the row of docs/submission.md's table; the test checks that it appears
	// there word for word. Known bugs (TODO entries) give the bug instead and are not in the doc.
	Reason string
	// Check, when set, must also accept the difference (e.g. spark-submit's env order must be a prefix
	// of ours).
	Check func(d difference) bool
	// Bug is set for a difference that is a bug in internal/submission, to be fixed (see the report of
	// issue #5); the entry goes once the fix is in.
	Bug string
}

// intendedDifferences mirrors the table "Intended differences from spark-submit" in
// docs/submission.md. Every difference the test finds must match one entry.
var intendedDifferences = []intended{
	// enableServiceLinks: false.
	{Object: "Pod", Path: `spec\.enableServiceLinks`, Reason: reasonServiceLinks,
		Check: func(d difference) bool { return d.Spark == "true" && d.Ours == "false" }},
	{Object: "ExecutorTemplateConfigMap", Path: `data\.podspec-configmap-key/spec\.enableServiceLinks`, Only: "ours", Reason: reasonServiceLinks},

	// Our labels on the objects owned by the driver pod.
	{Object: "Service|ConfigMap|ExecutorTemplateConfigMap", Path: `metadata\.labels\.sparkoperator\.k8s\.io/(app-name|created-by-spark-operator|submission-id)`, Only: "ours", Reason: reasonObjectLabels},

	// What Kubeflow's pod webhook adds to the driver pod after spark-submit created it.
	{Object: "Pod", Path: `spec\.containers\[spark-kubernetes-driver\]\.(env\[[^\]]+\]|envFrom\[[0-9]+\]|volumeMounts\[[^\]]+\]|securityContext|lifecycle|ports\[[^\]]+\]|resources\.limits)\..+`, Only: "ours", Reason: reasonWebhook},
	{Object: "Pod", Path: `spec\.(volumes\[[^\]]+\]\..+|securityContext\..+|affinity\..+|tolerations\[[0-9]+\]\..+|nodeSelector\..+|hostAliases.*|initContainers.*|dnsConfig\..+|priorityClassName|terminationGracePeriodSeconds|shareProcessNamespace|hostNetwork|dnsPolicy)`, Only: "ours", Reason: reasonWebhook},
	// A field the webhook sets that the API server defaults on spark-submit's pod.
	{Object: "Pod", Path: `spec\.(terminationGracePeriodSeconds|dnsPolicy|schedulerName)`, Reason: reasonWebhook,
		Check: func(d difference) bool { return serverDefaults[strings.TrimPrefix(d.Path, "spec.")] == d.Spark }},
	// The webhook appends env after Spark's, so Spark's order must be a prefix of ours.
	{Object: "Pod", Path: `spec\.containers\[spark-kubernetes-driver\]\.(env|ports)\.\$order`, Reason: reasonWebhook,
		Check: func(d difference) bool { return strings.HasPrefix(d.Ours, d.Spark+",") }},

	// The driver pod template Kubeflow passes only to carry the owner reference.
	{Object: "ConfigMap", Path: `data\.spark\.properties/spark\.kubernetes\.driver\.podTemplate(File|ContainerName)`, Only: "spark", Reason: reasonDriverTemplate},

	// One ConfigMap per submission: the executor pod template is a key of the spark.properties
	// ConfigMap, so its volume and "its" ConfigMap have that ConfigMap's name.
	{Object: "Pod", Path: `spec\.volumes\[pod-template-volume\]\.configMap\.name`, Reason: reasonOneConfigMap,
		Check: func(d difference) bool {
			return strings.HasSuffix(d.Spark, "-driver-podspec-conf-map") && strings.HasSuffix(d.Ours, "-conf-map")
		}},
	{Object: "ExecutorTemplateConfigMap", Path: `metadata\.name`, Reason: reasonOneConfigMap,
		Check: func(d difference) bool {
			return strings.HasSuffix(d.Spark, "-driver-podspec-conf-map") && strings.HasPrefix(d.Ours, "spark-drv-")
		}},

	// The executor pod template: ours carries the webhook's additions and no owner reference.
	{Object: "ExecutorTemplateConfigMap", Path: `data\.podspec-configmap-key/metadata\.ownerReferences\[[^\]]+\]\..+`, Only: "spark", Reason: reasonTemplateOwner},
	{Object: "ExecutorTemplateConfigMap", Path: `data\.podspec-configmap-key/spec\..+`, Reason: reasonExecutorTemplate},
}

// serverDefaults are the API server's defaults of pod fields the webhook may set.
var serverDefaults = map[string]string{
	"terminationGracePeriodSeconds": "30",
	"dnsPolicy":                     "ClusterFirst",
	"schedulerName":                 "default-scheduler",
}

// The reasons, word for word as in docs/submission.md's table of intended differences.
const (
	reasonServiceLinks     = `thousands of Services in a namespace overflow the container environment ("argument list too long")`
	reasonObjectLabels     = `garbage collection on application deletion; label-filtered caches`
	reasonWebhook          = `the pod is complete when created: no webhook is needed, and nothing runs without them`
	reasonDriverTemplate   = `Kubeflow's driver template only carries the owner reference to the application, which we set on the pod directly`
	reasonTemplateOwner    = `an owner reference in the executor template orphans executors (Kubeflow #2961)`
	reasonExecutorTemplate = `it carries what Kubeflow's webhook added to executors; no webhook is needed`
	reasonOneConfigMap     = `one object fewer to write per application; the driver reads the same files at the same paths`
)

func matchIntended(version, app string, d difference) int {
	for i, e := range intendedDifferences {
		if !regexp.MustCompile("^(?:"+e.Object+")$").MatchString(d.Object) || !regexp.MustCompile("^(?:"+e.Path+")$").MatchString(d.Path) {
			continue
		}
		if e.Versions != "" && !regexp.MustCompile("^(?:"+e.Versions+")").MatchString(version) {
			continue
		}
		switch e.Only {
		case "ours":
			if d.Spark != "<absent>" {
				continue
			}
		case "spark":
			if d.Ours != "<absent>" {
				continue
			}
		}
		if e.Check != nil && !e.Check(d) {
			continue
		}
		return i
	}
	return -1
}

// checkTableInDoc fails when an intended difference's reason is not in docs/submission.md.
func checkTableInDoc(t *testing.T, doc string) {
	t.Helper()
	for _, e := range intendedDifferences {
		if e.Bug != "" {
			continue
		}
		if !strings.Contains(doc, e.Reason) {
			t.Errorf("intended difference %s %s: its reason %q is not in docs/submission.md's table", e.Object, e.Path, e.Reason)
		}
	}
}
