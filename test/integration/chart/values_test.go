package chart_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sparkop/spark-operator/internal/operatorcmd"
	"github.com/sparkop/spark-operator/internal/testing/util"
)

// This file is a helm-unittest style suite in Go: each case renders the chart with some values and
// asserts on documents selected by template, kind and name.

// doc selects the rendered documents of one template with a kind and a name (and a namespace,
// when not empty).
type doc struct {
	template, kind, name, namespace string
}

// check is one assertion of a case.
type check struct {
	doc   doc
	path  string
	op    string // equal, contains, notContains, hasPrefixItem, noPrefixItem, exists, notExists, count
	value any
}

func (d doc) equal(path string, v any) check       { return check{d, path, "equal", v} }
func (d doc) contains(path string, v any) check    { return check{d, path, "contains", v} }
func (d doc) notContains(path string, v any) check { return check{d, path, "notContains", v} }

// noPrefix checks that no string of the list at path starts with prefix (e.g. no --namespaces flag).
func (d doc) noPrefix(path, prefix string) check { return check{d, path, "noPrefixItem", prefix} }
func (d doc) exists(path string) check           { return check{d, path, "exists", nil} }
func (d doc) notExists(path string) check        { return check{d, path, "notExists", nil} }

// count checks how many documents match d (name and namespace may be empty to match any).
func (d doc) count(n int) check { return check{d, "", "count", n} }

// in returns d for namespace ns.
func (d doc) in(ns string) doc { d.namespace = ns; return d }

const (
	args       = "spec.template.spec.containers[0].args"
	container  = "spec.template.spec.containers[0]"
	podSpec    = "spec.template.spec"
	deployTmpl = "templates/controller/deployment.yaml"
	// webhookDeployTmpl renders the webhook's Deployment (webhook start).
	webhookDeployTmpl = "templates/webhook/deployment.yaml"
	rbacTmpl          = "templates/controller/rbac.yaml"
	sparkTmpl         = "templates/spark/rbac.yaml"
)

var (
	deployment         = doc{deployTmpl, "Deployment", "spark-operator-controller", defaultNamespace}
	operatorSA         = doc{"templates/controller/serviceaccount.yaml", "ServiceAccount", "spark-operator-controller", defaultNamespace}
	operatorRole       = doc{rbacTmpl, "Role", "spark-operator-controller", ""}
	operatorRB         = doc{rbacTmpl, "RoleBinding", "spark-operator-controller", ""}
	clusterRole        = doc{rbacTmpl, "ClusterRole", "spark-operator-controller", ""}
	clusterRB          = doc{rbacTmpl, "ClusterRoleBinding", "spark-operator-controller", ""}
	leRole             = doc{rbacTmpl, "Role", "spark-operator-controller-leader-election", defaultNamespace}
	leRB               = doc{rbacTmpl, "RoleBinding", "spark-operator-controller-leader-election", defaultNamespace}
	sparkSA            = doc{sparkTmpl, "ServiceAccount", "spark", ""}
	sparkRole          = doc{sparkTmpl, "Role", "spark-operator-spark", ""}
	sparkRB            = doc{sparkTmpl, "RoleBinding", "spark-operator-spark", ""}
	metricsService     = doc{"templates/controller/service.yaml", "Service", "spark-operator-controller-metrics", defaultNamespace}
	podMonitor         = doc{"templates/prometheus/podmonitor.yaml", "PodMonitor", "spark-operator-podmonitor", defaultNamespace}
	pdb                = doc{"templates/controller/poddisruptionbudget.yaml", "PodDisruptionBudget", "spark-operator-controller", defaultNamespace}
	anyWebhook         = []doc{{"", "MutatingWebhookConfiguration", "", ""}, {"", "ValidatingWebhookConfiguration", "", ""}}
	webhookDeployment  = doc{webhookDeployTmpl, "Deployment", "spark-operator-webhook", defaultNamespace}
	webhookService     = doc{"templates/webhook/service.yaml", "Service", "spark-operator-webhook-svc", defaultNamespace}
	webhookSA          = doc{"templates/webhook/serviceaccount.yaml", "ServiceAccount", "spark-operator-webhook", defaultNamespace}
	webhookPDB         = doc{"templates/webhook/poddisruptionbudget.yaml", "PodDisruptionBudget", "spark-operator-webhook-pdb", defaultNamespace}
	webhookConfig      = doc{"templates/webhook/validatingwebhookconfiguration.yaml", "ValidatingWebhookConfiguration", "spark-operator-webhook", ""}
	webhookRole        = doc{"templates/webhook/rbac.yaml", "Role", "spark-operator-webhook", ""}
	webhookReadRole    = doc{"templates/webhook/rbac.yaml", "Role", "spark-operator-webhook-read", ""}
	webhookClusterRole = doc{"templates/webhook/rbac.yaml", "ClusterRole", "spark-operator-webhook", ""}
	certificate        = doc{"templates/certmanager/certificate.yaml", "Certificate", "spark-operator-certificate", defaultNamespace}
	issuer             = doc{"templates/certmanager/certificate.yaml", "Issuer", "spark-operator-self-signed-issuer", defaultNamespace}
	hookJob            = doc{"templates/hook/upgradecrd.yaml", "Job", "spark-operator-hook", defaultNamespace}
	hookConfigMap      = doc{"templates/hook/upgradecrd.yaml", "ConfigMap", "spark-operator-hook-crds", defaultNamespace}
	hookClusterRole    = doc{"templates/hook/upgradecrd.yaml", "ClusterRole", "spark-operator-hook", ""}
)

// valuesCase is one rendering and its checks; when failWith is set, rendering must fail with it.
type valuesCase struct {
	name     string
	values   string
	checks   []check
	failWith string
	// notes are substrings NOTES.txt must contain.
	notes []string
}

var valuesCases = []valuesCase{
	{
		name: "defaults",
		checks: []check{
			deployment.count(1),
			deployment.equal("spec.replicas", 1),
			deployment.equal(container+".image", "ghcr.io/sparkop/spark-operator:0.1.0"),
			deployment.equal(container+".imagePullPolicy", "IfNotPresent"),
			deployment.equal(podSpec+".serviceAccountName", "spark-operator-controller"),
			deployment.equal(args+"[0]", "controller"),
			deployment.equal(args+"[1]", "start"),
			deployment.contains(args, "--namespaces=default"),
			deployment.contains(args, "--controller-threads=10"),
			deployment.contains(args, "--zap-log-level=info"),
			deployment.contains(args, "--zap-encoder=console"),
			deployment.contains(args, "--leader-election=true"),
			deployment.contains(args, "--leader-election-lock-name=spark-operator-controller-lock"),
			deployment.contains(args, "--leader-election-lock-namespace=spark-operator"),
			deployment.contains(args, "--leader-election-lease-duration=15s"),
			deployment.contains(args, "--metrics-bind-address=:8080"),
			deployment.contains(args, "--enable-metrics=true"),
			deployment.contains(args, "--metrics-endpoint=/metrics"),
			// SparkConnect on (Kubeflow's operator always runs it); the driver Service off.
			deployment.contains(args, "--enable-spark-connect=true"),
			deployment.noPrefix(args, "--enable-driver-service"),
			deployment.contains(args, "--health-probe-bind-address=:8081"),
			// Kubeflow's chart defaults, with Kubeflow's flags.
			deployment.contains(args, "--feature-gates=PartialRestart=false,LoadSparkDefaults=false"),
			deployment.contains(args, "--workqueue-ratelimiter-bucket-qps=50"),
			deployment.contains(args, "--workqueue-ratelimiter-bucket-size=500"),
			deployment.contains(args, "--workqueue-ratelimiter-max-delay=6h"),
			deployment.contains(args, "--scheduled-spark-application-timestamp-precision=nanos"),
			deployment.noPrefix(args, "--pprof-bind-address"),
			deployment.noPrefix(args, "--enable-batch-scheduler"),
			deployment.noPrefix(args, "--enable-driver-pdb"),
			deployment.noPrefix(args, "--enable-webhook"),
			deployment.equal(`spec.template.metadata.annotations."prometheus.io/scrape"`, "true"),
			deployment.equal(`spec.template.metadata.annotations."prometheus.io/port"`, "8080"),
			deployment.equal(podSpec+".automountServiceAccountToken", true),
			deployment.notExists(podSpec + ".hostUsers"),
			deployment.contains(args, "--enable-ui-service=true"),
			deployment.contains(args, "--driver-start-timeout=0s"),
			deployment.contains(args, "--max-tracked-executor-per-app=1000"),
			deployment.noPrefix(args, "--ingress-"),
			deployment.noPrefix(args, "--namespace-selector"),
			deployment.contains(args, "--metrics-labels=app_type"),
			deployment.noPrefix(args, "--metrics-prefix"),
			deployment.noPrefix(args, "--metrics-job-"),
			deployment.equal(container+".ports[name=metrics].containerPort", 8080),
			deployment.equal(container+".livenessProbe.httpGet.path", "/healthz"),
			deployment.equal(container+".livenessProbe.httpGet.port", "probes"),
			deployment.equal(container+".readinessProbe.httpGet.path", "/readyz"),
			deployment.equal(container+".ports[name=probes].containerPort", 8081),
			deployment.equal(container+".securityContext.readOnlyRootFilesystem", true),
			deployment.equal(container+".securityContext.runAsNonRoot", true),
			deployment.equal(container+".securityContext.allowPrivilegeEscalation", false),
			deployment.equal(container+".securityContext.capabilities.drop", []any{"ALL"}),
			deployment.equal(podSpec+".securityContext.runAsNonRoot", true),
			deployment.notExists(container + ".resources"),
			deployment.notExists(podSpec + ".imagePullSecrets"),
			deployment.equal(`spec.selector.matchLabels."app.kubernetes.io/component"`, "controller"),
			deployment.equal(`spec.template.metadata.labels."app.kubernetes.io/instance"`, "spark-operator"),
			operatorSA.count(1),
			// The operator watches only "default": a Role there, nothing cluster-wide.
			operatorRole.in("default").count(1),
			operatorRole.count(1),
			operatorRole.in("default").contains("rules[*].resources[*]", "pods"),
			operatorRole.in("default").notContains("rules[*].resources[*]", "namespaces"),
			operatorRB.in("default").equal("subjects[0].name", "spark-operator-controller"),
			operatorRB.in("default").equal("subjects[0].namespace", defaultNamespace),
			operatorRB.in("default").equal("roleRef.kind", "Role"),
			clusterRole.count(0),
			clusterRB.count(0),
			leRole.contains("rules[0].resources", "leases"),
			leRole.equal("rules[0].verbs", []any{"get", "create", "update"}),
			leRB.equal("subjects[0].name", "spark-operator-controller"),
			sparkSA.in("default").count(1),
			sparkSA.count(1),
			sparkSA.in("default").equal("automountServiceAccountToken", true),
			sparkRole.in("default").equal("rules[0].resources", []any{"pods"}),
			sparkRole.in("default").contains("rules[0].verbs", "deletecollection"),
			sparkRole.in("default").notContains("rules[2].verbs", "create"), // services: the driver creates none
			sparkRB.in("default").equal("subjects[0].name", "spark"),
			sparkRB.in("default").equal("subjects[0].namespace", "default"),
			sparkRB.in("default").equal("roleRef.name", "spark-operator-spark"),
			metricsService.equal("spec.ports[0].port", 8080),
			metricsService.equal("spec.ports[0].targetPort", "metrics"),
			metricsService.equal(`spec.selector."app.kubernetes.io/component"`, "controller"),
			podMonitor.count(0),
			pdb.count(0),
			anyWebhook[0].count(0),
			anyWebhook[1].count(0),
			webhookDeployment.count(0),
			doc{"", "Job", "", ""}.count(0),
			doc{"", "Certificate", "", ""}.count(0),
		},
		notes: []string{"serves SparkApplications in: default", "spec.driver.serviceAccount: spark"},
	},
	{
		name: "several job namespaces",
		values: `
spark:
  jobNamespaces: [team-a, team-b, team-a]
`,
		checks: []check{
			deployment.contains(args, "--namespaces=team-a,team-b"),
			operatorRole.count(2),
			operatorRole.in("team-a").count(1),
			operatorRole.in("team-b").count(1),
			operatorRB.in("team-b").equal("subjects[0].namespace", defaultNamespace),
			clusterRole.count(0),
			sparkSA.count(2),
			sparkRole.in("team-b").count(1),
			sparkRB.in("team-a").equal("subjects[0].namespace", "team-a"),
			sparkSA.in("default").count(0),
		},
		notes: []string{"serves SparkApplications in: team-a, team-b"},
	},
	{
		name: "all namespaces (empty list)",
		values: `
spark:
  jobNamespaces: []
`,
		checks: []check{
			deployment.noPrefix(args, "--namespaces"),
			clusterRole.count(1),
			clusterRole.contains("rules[0].resources", "pods"),
			clusterRB.equal("subjects[0].name", "spark-operator-controller"),
			clusterRB.equal("subjects[0].namespace", defaultNamespace),
			clusterRB.equal("roleRef.kind", "ClusterRole"),
			operatorRole.count(0),
			sparkSA.count(0),
			sparkRole.count(0),
		},
		notes: []string{"all namespaces"},
	},
	{
		name: `all namespaces ("" in the list), spark RBAC in the named ones`,
		values: `
spark:
  jobNamespaces: ["", jobs]
`,
		checks: []check{
			deployment.noPrefix(args, "--namespaces"),
			clusterRole.count(1),
			operatorRole.count(0),
			sparkSA.count(1),
			sparkSA.in("jobs").count(1),
		},
	},
	{
		name: "namespace selector",
		values: `
spark:
  jobNamespaceSelector: spark=enabled
`,
		checks: []check{
			deployment.contains(args, "--namespaces=default"),
			deployment.contains(args, "--namespace-selector=spark=enabled"),
			// Namespaces matching the selector can appear at any time: the cache watches all of them.
			clusterRole.count(1),
			clusterRole.contains("rules[*].resources[*]", "namespaces"),
			clusterRB.count(1),
			operatorRole.count(0),
			sparkSA.in("default").count(1),
		},
		notes: []string{"namespaces labelled spark=enabled and in: default"},
	},
	{
		name: "namespace selector only",
		values: `
spark:
  jobNamespaces: []
  jobNamespaceSelector: team in (a, b)
`,
		checks: []check{
			deployment.noPrefix(args, "--namespaces="),
			deployment.contains(args, "--namespace-selector=team in (a, b)"),
			clusterRole.count(1),
			sparkSA.count(0),
		},
	},
	{
		name: "leader election off",
		values: `
controller:
  leaderElection:
    enable: false
`,
		checks: []check{
			deployment.contains(args, "--leader-election=false"),
			deployment.noPrefix(args, "--leader-election-"),
			leRole.count(0),
			leRB.count(0),
		},
	},
	{
		name: "leader election timings",
		values: `
controller:
  replicas: 2
  leaderElection:
    leaseDuration: 30s
    renewDeadline: 20s
    retryPeriod: 5s
`,
		checks: []check{
			deployment.equal("spec.replicas", 2),
			deployment.contains(args, "--leader-election-lease-duration=30s"),
			deployment.contains(args, "--leader-election-renew-deadline=20s"),
			deployment.contains(args, "--leader-election-retry-period=5s"),
		},
	},
	{
		name: "metrics off",
		values: `
prometheus:
  metrics:
    enable: false
`,
		checks: []check{
			deployment.contains(args, "--metrics-bind-address=0"),
			deployment.noPrefix(args, "--enable-metrics"),
			deployment.notExists(`spec.template.metadata.annotations`),
			deployment.notExists(container + ".ports[name=metrics]"),
			deployment.exists(container + ".ports[name=probes]"),
			metricsService.count(0),
			podMonitor.count(0),
		},
	},
	{
		name: "metrics on another port, PodMonitor",
		values: `
prometheus:
  metrics:
    port: 9090
    portName: prom
    prefix: kf_
    endpoint: /prom
    labels: [app_type, team]
    jobSubmitLatencyBuckets: [0.5, 1, 2.5]
    jobStartLatencyBuckets: "30,60,90"
  podMonitor:
    create: true
    labels:
      release: kube-prometheus
    podMetricsEndpoint:
      interval: 30s
`,
		checks: []check{
			deployment.contains(args, "--metrics-bind-address=:9090"),
			deployment.contains(args, "--metrics-prefix=kf_"),
			deployment.contains(args, "--metrics-endpoint=/prom"),
			deployment.equal(`spec.template.metadata.annotations."prometheus.io/path"`, "/prom"),
			deployment.contains(args, "--metrics-labels=app_type,team"),
			deployment.contains(args, "--metrics-job-submit-latency-buckets=0.5,1,2.5"),
			deployment.contains(args, "--metrics-job-start-latency-buckets=30,60,90"),
			deployment.equal(container+".ports[name=prom].containerPort", 9090),
			metricsService.equal("spec.ports[0].name", "prom"),
			metricsService.equal("spec.ports[0].targetPort", "prom"),
			podMonitor.count(1),
			podMonitor.equal("apiVersion", "monitoring.coreos.com/v1"),
			podMonitor.equal("metadata.labels.release", "kube-prometheus"),
			podMonitor.equal("spec.podMetricsEndpoints[0].port", "prom"),
			podMonitor.equal("spec.podMetricsEndpoints[0].path", "/prom"),
			podMonitor.equal("spec.podMetricsEndpoints[0].interval", "30s"),
			podMonitor.equal("spec.podMetricsEndpoints[0].scheme", "http"),
			podMonitor.equal("spec.jobLabel", "spark-operator-podmonitor"),
			podMonitor.equal("spec.namespaceSelector.matchNames", []any{defaultNamespace}),
			podMonitor.equal(`spec.selector.matchLabels."app.kubernetes.io/component"`, "controller"),
		},
	},
	{
		name: "custom image, resources and scheduling",
		values: `
image:
  registry: registry.example.com
  repository: platform/spark-operator
  tag: v9.9.9
  pullPolicy: Always
  pullSecrets:
  - name: regcred
controller:
  replicas: 2
  resources:
    requests: {cpu: 250m, memory: 300Mi}
    limits: {memory: 1Gi}
  nodeSelector:
    kubernetes.io/os: linux
  tolerations:
  - {key: dedicated, operator: Equal, value: platform, effect: NoSchedule}
  priorityClassName: system-cluster-critical
  env:
  - {name: GOMEMLIMIT, value: 900MiB}
  labels:
    team: data
  annotations:
    example.com/scrape: "true"
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}
  envFrom:
  - configMapRef: {name: operator-env}
  sidecars:
  - {name: proxy, image: envoy:v1}
  volumes:
  - {name: extra, emptyDir: {}}
  volumeMounts:
  - {name: extra, mountPath: /extra}
  deploymentAnnotations:
    example.com/owner: platform
`,
		checks: []check{
			deployment.equal(podSpec+".containers[1].name", "proxy"),
			deployment.equal(podSpec+".containers[1].image", "envoy:v1"),
			deployment.equal(container+".envFrom[0].configMapRef.name", "operator-env"),
			deployment.equal(podSpec+".volumes", []any{map[string]any{"name": "extra", "emptyDir": map[string]any{}}}),
			deployment.equal(container+".volumeMounts[0].mountPath", "/extra"),
			deployment.equal(`metadata.annotations."example.com/owner"`, "platform"),
			deployment.equal(container+".image", "registry.example.com/platform/spark-operator:v9.9.9"),
			deployment.equal(container+".imagePullPolicy", "Always"),
			deployment.equal(podSpec+".imagePullSecrets", []any{map[string]any{"name": "regcred"}}),
			deployment.equal(container+".resources.requests.cpu", "250m"),
			deployment.equal(container+".resources.requests.memory", "300Mi"),
			deployment.equal(container+".resources.limits.memory", "1Gi"),
			deployment.equal(podSpec+`.nodeSelector."kubernetes.io/os"`, "linux"),
			deployment.equal(podSpec+".tolerations[0].key", "dedicated"),
			deployment.equal(podSpec+".priorityClassName", "system-cluster-critical"),
			deployment.equal(container+".env[name=GOMEMLIMIT].value", "900MiB"),
			deployment.equal("spec.template.metadata.labels.team", "data"),
			deployment.equal(`spec.template.metadata.annotations."example.com/scrape"`, "true"),
			deployment.notExists("spec.selector.matchLabels.team"),
			deployment.equal(podSpec+".topologySpreadConstraints[0].topologyKey", "topology.kubernetes.io/zone"),
			deployment.equal(podSpec+`.topologySpreadConstraints[0].labelSelector.matchLabels."app.kubernetes.io/component"`, "controller"),
		},
	},
	{
		name: "image without registry",
		values: `
image:
  registry: ""
  repository: spark-operator
  tag: dev
`,
		checks: []check{deployment.equal(container+".image", "spark-operator:dev")},
	},
	{
		// Kubeflow's chart (v2.5.1 on) passes these flags only when the value is not 0.
		name: "kube API limits 0 leave the flags out",
		values: `
controller: {kubeAPIQPS: 0, kubeAPIBurst: 0}
webhook: {enable: true, kubeAPIQPS: 0, kubeAPIBurst: 0}
`,
		checks: []check{
			deployment.noPrefix(args, "--kube-api-qps"),
			deployment.noPrefix(args, "--kube-api-burst"),
			webhookDeployment.noPrefix(args, "--kube-api-qps"),
			webhookDeployment.noPrefix(args, "--kube-api-burst"),
		},
	},
	{
		name: "Kubeflow values file",
		values: `
controller:
  workers: 30
  logLevel: debug
  logEncoder: json
  driverPodCreationGracePeriod: 20s
  maxTrackedExecutorPerApp: 2000000
  defaultTimeToLiveSeconds: 86400
  kubeAPIQPS: 20.5
  kubeAPIBurst: 30
  scheduledSparkApplicationTimestampPrecision: seconds
  uiService:
    enable: false
  uiIngress:
    enable: true
    urlFormat: "{{$appName}}.spark.example.com"
    ingressClassName: nginx
    tls:
    - hosts: ["*.spark.example.com"]
      secretName: spark-ui-tls
    annotations:
      nginx.ingress.kubernetes.io/ssl-redirect: "true"
  featureGates:
  - name: PartialRestart
    enabled: true
  - name: DefaultTimeToLive
    enabled: true
  batchScheduler:
    enable: true
    kubeSchedulerNames: [default-scheduler, kube-batch]
    default: volcano
  workqueueRateLimiter:
    bucketQPS: 20
    bucketSize: 40
    maxDelay: {enable: false}
  pprof:
    enable: true
    port: 6061
  driverPodDisruptionBudget:
    enable: true
webhook:
  enable: true
  port: 9443
`,
		checks: []check{
			deployment.contains(args, "--controller-threads=30"),
			deployment.contains(args, "--zap-log-level=debug"),
			deployment.contains(args, "--zap-encoder=json"),
			deployment.contains(args, "--driver-pod-creation-grace-period=20s"),
			deployment.contains(args, "--max-tracked-executor-per-app=2000000"),
			deployment.contains(args, "--default-time-to-live-seconds=86400"),
			deployment.contains(args, "--kube-api-qps=20.5"),
			deployment.contains(args, "--kube-api-burst=30"),
			deployment.contains(args, "--enable-ui-service=false"),
			deployment.contains(args, "--ingress-url-format={{$appName}}.spark.example.com"),
			deployment.contains(args, "--ingress-class-name=nginx"),
			deployment.contains(args, `--ingress-tls=[{"hosts":["*.spark.example.com"],"secretName":"spark-ui-tls"}]`),
			deployment.contains(args, `--ingress-annotations={"nginx.ingress.kubernetes.io/ssl-redirect":"true"}`),
			deployment.contains(args, "--scheduled-spark-application-timestamp-precision=seconds"),
			deployment.contains(args, "--feature-gates=PartialRestart=true,DefaultTimeToLive=true"),
			deployment.contains(args, "--enable-batch-scheduler=true"),
			deployment.contains(args, "--kube-scheduler-names=default-scheduler,kube-batch"),
			deployment.contains(args, "--default-batch-scheduler=volcano"),
			deployment.contains(args, "--workqueue-ratelimiter-bucket-qps=20"),
			deployment.contains(args, "--workqueue-ratelimiter-bucket-size=40"),
			deployment.noPrefix(args, "--workqueue-ratelimiter-max-delay"),
			deployment.contains(args, "--pprof-bind-address=:6061"),
			deployment.equal(container+".ports[name=pprof].containerPort", 6061),
			deployment.contains(args, "--enable-driver-pdb=true"),
			// The batch schedulers' objects and driver PDBs, granted because they are enabled.
			operatorRole.in("default").contains("rules[*].apiGroups[*]", "scheduling.volcano.sh"),
			operatorRole.in("default").contains("rules[*].apiGroups[*]", "scheduling.x-k8s.io"),
			operatorRole.in("default").contains("rules[*].apiGroups[*]", "scheduling.k8s.io"),
			operatorRole.in("default").contains("rules[*].resources[*]", "workloads"),
			operatorRole.in("default").contains("rules[*].resources[*]", "poddisruptionbudgets"),
			anyWebhook[0].count(0), // no mutating webhook: pods are complete when created
			anyWebhook[1].count(1),
			webhookDeployment.count(1),
			doc{"", "Service", "", ""}.count(2), // metrics and webhook
		},
	},
	{
		name: "batch scheduler and driver PDB off: no scheduling or policy rules",
		checks: []check{
			operatorRole.in("default").notContains("rules[*].apiGroups[*]", "scheduling.volcano.sh"),
			operatorRole.in("default").notContains("rules[*].resources[*]", "poddisruptionbudgets"),
		},
	},
	{
		name:   "validating webhook, self-managed certificate",
		values: "webhook: {enable: true, failurePolicy: Ignore}\nspark: {jobNamespaces: [team-a, team-b]}",
		checks: []check{
			deployment.noPrefix(args, "--enable-webhook"),
			deployment.noPrefix(args, "--webhook-"),
			webhookDeployment.equal(args+"[0]", "webhook"),
			webhookDeployment.equal(args+"[1]", "start"),
			webhookDeployment.contains(args, "--namespaces=team-a,team-b"),
			webhookDeployment.contains(args, "--webhook-port=9443"),
			webhookDeployment.contains(args, "--webhook-cert-dir=/etc/k8s-webhook-server/serving-certs"),
			webhookDeployment.contains(args, "--webhook-secret-name=spark-operator-webhook-certs"),
			webhookDeployment.contains(args, "--webhook-secret-namespace=spark-operator"),
			webhookDeployment.contains(args, "--webhook-svc-name=spark-operator-webhook-svc"),
			webhookDeployment.contains(args, "--webhook-svc-namespace=spark-operator"),
			webhookDeployment.contains(args, "--mutating-webhook-name=spark-operator-webhook"),
			webhookDeployment.contains(args, "--validating-webhook-name=spark-operator-webhook"),
			webhookDeployment.contains(args, "--leader-election=true"),
			webhookDeployment.contains(args, "--leader-election-lock-name=spark-operator-webhook-lock"),
			webhookDeployment.contains(args, "--enable-metrics=true"),
			webhookDeployment.noPrefix(args, "--enable-cert-manager"),
			webhookDeployment.noPrefix(args, "--enable-resource-quota-enforcement"),
			webhookDeployment.equal(container+".ports[name=webhook].containerPort", 9443),
			webhookDeployment.equal(podSpec+".serviceAccountName", "spark-operator-webhook"),
			webhookDeployment.equal(podSpec+".volumes[name=serving-certs].emptyDir.sizeLimit", "500Mi"),
			webhookDeployment.equal(container+".volumeMounts[name=serving-certs].mountPath", "/etc/k8s-webhook-server/serving-certs"),
			webhookDeployment.equal(`spec.selector.matchLabels."app.kubernetes.io/component"`, "webhook"),
			webhookSA.count(1),
			webhookPDB.count(0),
			webhookService.equal("spec.ports[0].port", 9443),
			webhookService.equal("spec.ports[0].targetPort", "webhook"),
			webhookService.equal(`spec.selector."app.kubernetes.io/component"`, "webhook"),
			webhookConfig.equal("webhooks[0].name", "validate-sparkoperator-k8s-io-v1beta2-sparkapplication.sparkoperator.k8s.io"),
			webhookConfig.equal("webhooks[0].clientConfig.service.name", "spark-operator-webhook-svc"),
			webhookConfig.equal("webhooks[0].clientConfig.service.port", 9443),
			webhookConfig.equal("webhooks[0].clientConfig.service.path", "/validate-sparkoperator-k8s-io-v1beta2-sparkapplication"),
			webhookConfig.equal("webhooks[1].clientConfig.service.path", "/validate-sparkoperator-k8s-io-v1beta2-scheduledsparkapplication"),
			webhookConfig.equal("webhooks[0].failurePolicy", "Ignore"),
			webhookConfig.equal("webhooks[0].namespaceSelector.matchExpressions[0].values", []any{"team-a", "team-b"}),
			webhookConfig.notExists("metadata.annotations"),
			webhookRole.in(defaultNamespace).contains("rules[0].resources", "secrets"),
			webhookRole.in(defaultNamespace).equal("rules[1].resourceNames", []any{"spark-operator-webhook-certs"}),
			webhookRole.count(1),
			webhookReadRole.count(2),
			webhookReadRole.in("team-a").contains("rules[*].resources[*]", "resourcequotas"),
			webhookReadRole.in("team-a").notContains("rules[*].verbs[*]", "update"),
			webhookClusterRole.equal("rules[2].resourceNames", []any{"spark-operator-webhook"}),
			webhookClusterRole.notContains("rules[*].resources[*]", "pods"),
			certificate.count(0),
			anyWebhook[0].count(0),
		},
	},
	{
		name: "webhook: Kubeflow's webhook keys",
		values: `
spark: {jobNamespaces: []}
prometheus: {metrics: {enable: false}}
webhook:
  enable: true
  replicas: 3
  revisionHistoryLimit: 2
  leaderElection: {enable: false}
  logLevel: debug
  logEncoder: json
  port: 10250
  portName: wh
  timeoutSeconds: 5
  kubeAPIQPS: 100
  kubeAPIBurst: 150
  resourceQuotaEnforcement: {enable: true}
  serviceAccount: {name: wh-sa, annotations: {a: b}, automountServiceAccountToken: true}
  rbac: {annotations: {c: d}}
  labels: {team: data}
  annotations: {e: f}
  sidecars: [{name: proxy, image: "envoy:v1"}]
  nodeSelector: {kubernetes.io/os: linux}
  affinity: {podAntiAffinity: {}}
  tolerations: [{key: dedicated, operator: Exists}]
  priorityClassName: high
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}]
  env: [{name: A, value: b}]
  envFrom: [{secretRef: {name: s}}]
  resources: {requests: {cpu: 100m}}
  podDisruptionBudget: {enable: true, minAvailable: 2}
  deploymentAnnotations: {example.com/owner: platform}
`,
		checks: []check{
			webhookDeployment.equal(`metadata.annotations."example.com/owner"`, "platform"),
			webhookDeployment.notExists(`spec.template.metadata.annotations."example.com/owner"`),
			webhookDeployment.equal("spec.replicas", 3),
			webhookDeployment.equal("spec.revisionHistoryLimit", 2),
			webhookDeployment.contains(args, "--leader-election=false"),
			webhookDeployment.noPrefix(args, "--leader-election-lock"),
			webhookDeployment.contains(args, "--zap-log-level=debug"),
			webhookDeployment.contains(args, "--zap-encoder=json"),
			webhookDeployment.contains(args, "--webhook-port=10250"),
			webhookDeployment.contains(args, "--kube-api-qps=100"),
			webhookDeployment.contains(args, "--kube-api-burst=150"),
			webhookDeployment.noPrefix(args, "--namespaces"),
			webhookDeployment.noPrefix(args, "--enable-metrics"),
			webhookDeployment.contains(args, "--enable-resource-quota-enforcement=true"),
			webhookDeployment.equal(container+".ports[name=wh].containerPort", 10250),
			webhookDeployment.equal(podSpec+".serviceAccountName", "wh-sa"),
			webhookDeployment.equal("spec.template.metadata.labels.team", "data"),
			webhookDeployment.equal("spec.template.metadata.annotations.e", "f"),
			webhookDeployment.equal(podSpec+".containers[1].name", "proxy"),
			webhookDeployment.equal(podSpec+`.nodeSelector."kubernetes.io/os"`, "linux"),
			webhookDeployment.exists(podSpec + ".affinity.podAntiAffinity"),
			webhookDeployment.equal(podSpec+".tolerations[0].key", "dedicated"),
			webhookDeployment.equal(podSpec+".priorityClassName", "high"),
			webhookDeployment.equal(podSpec+`.topologySpreadConstraints[0].labelSelector.matchLabels."app.kubernetes.io/component"`, "webhook"),
			webhookDeployment.equal(container+".env[name=A].value", "b"),
			webhookDeployment.equal(container+".envFrom[0].secretRef.name", "s"),
			webhookDeployment.equal(container+".resources.requests.cpu", "100m"),
			webhookDeployment.equal(container+".securityContext.readOnlyRootFilesystem", true),
			webhookDeployment.equal(podSpec+".securityContext.runAsNonRoot", true),
			doc{"templates/webhook/serviceaccount.yaml", "ServiceAccount", "wh-sa", defaultNamespace}.equal("metadata.annotations.a", "b"),
			webhookPDB.equal("spec.minAvailable", 2),
			webhookService.equal("spec.ports[0].port", 10250),
			webhookService.equal("spec.ports[0].targetPort", "wh"),
			webhookConfig.equal("webhooks[0].timeoutSeconds", 5),
			webhookConfig.notExists("webhooks[0].namespaceSelector"),
			webhookClusterRole.equal("metadata.annotations.c", "d"),
			webhookClusterRole.contains("rules[*].resources[*]", "resourcequotas"),
			webhookReadRole.count(0),
			doc{"templates/webhook/rbac.yaml", "RoleBinding", "spark-operator-webhook", defaultNamespace}.equal("subjects[0].name", "wh-sa"),
			webhookRole.in(defaultNamespace).notContains("rules[*].resources[*]", "leases"),
		},
	},
	{
		name:   "validating webhook, cert-manager",
		values: "webhook: {enable: true}\ncertManager: {enable: true, duration: 2160h, renewBefore: 720h}",
		checks: []check{
			webhookDeployment.contains(args, "--enable-cert-manager=true"),
			webhookConfig.equal(`metadata.annotations."cert-manager.io/inject-ca-from"`, "spark-operator/spark-operator-certificate"),
			certificate.equal("spec.secretName", "spark-operator-webhook-certs"),
			certificate.equal("spec.dnsNames[0]", "spark-operator-webhook-svc.spark-operator.svc"),
			certificate.equal("spec.issuerRef.name", "spark-operator-self-signed-issuer"),
			certificate.equal("spec.duration", "2160h"),
			certificate.equal("spec.renewBefore", "720h"),
			issuer.count(1),
		},
		notes: []string{"validating webhook runs as deployment spark-operator-webhook, with a certificate from cert-manager."},
	},
	{
		name:   "cert-manager with an issuer",
		values: "webhook: {enable: true}\ncertManager: {enable: true, issuerRef: {group: cert-manager.io, kind: ClusterIssuer, name: corp}}",
		checks: []check{
			certificate.equal("spec.issuerRef.kind", "ClusterIssuer"),
			certificate.equal("spec.issuerRef.name", "corp"),
			certificate.notExists("spec.duration"),
			issuer.count(0),
		},
	},
	{
		name:   "hook.upgradeCrd",
		values: "hook: {upgradeCrd: true, tolerations: [{key: k, operator: Exists}], nodeSelector: {a: b}}",
		checks: []check{
			hookJob.equal(`metadata.annotations."helm.sh/hook"`, "pre-install,pre-upgrade"),
			hookJob.equal(container+".image", "registry.k8s.io/kubectl:v1.36.3"),
			hookJob.equal(container+".args", []any{"apply", "--server-side", "--force-conflicts", "-f", "/etc/spark-operator/crds"}),
			hookJob.equal(container+".volumeMounts[0].mountPath", "/etc/spark-operator/crds"),
			hookJob.equal(podSpec+".tolerations[0].key", "k"),
			hookJob.equal(podSpec+".nodeSelector.a", "b"),
			hookJob.equal(podSpec+".volumes[0].configMap.name", "spark-operator-hook-crds"),
			hookConfigMap.exists(`data."sparkoperator.k8s.io_sparkapplications.yaml"`),
			hookConfigMap.exists(`data."sparkoperator.k8s.io_scheduledsparkapplications.yaml"`),
			hookClusterRole.equal("rules[0].resourceNames", []any{"scheduledsparkapplications.sparkoperator.k8s.io", "sparkapplications.sparkoperator.k8s.io", "sparkconnects.sparkoperator.k8s.io"}),
		},
	},
	{
		// Kubeflow's keys after v2.5.2 (its main branch).
		name: "hook resources, labels and annotations",
		values: `
hook:
  upgradeCrd: true
  resources: {requests: {cpu: 50m}, limits: {memory: 128Mi}}
  labels: {team: data}
  annotations: {example.com/a: b}
`,
		checks: []check{
			hookJob.equal(container+".resources.requests.cpu", "50m"), // merged with the defaults, as in Helm
			hookJob.equal(container+".resources.limits.memory", "128Mi"),
			hookJob.equal("spec.template.metadata.labels.team", "data"),
			hookJob.equal(`spec.template.metadata.labels."app.kubernetes.io/component"`, "hook"),
			hookJob.equal(`spec.template.metadata.annotations."example.com/a"`, "b"),
		},
	},
	{
		name:   "hostUsers on Kubernetes 1.30+",
		values: "controller: {hostUsers: false}\nwebhook: {enable: true, hostUsers: true}",
		checks: []check{
			deployment.equal(podSpec+".hostUsers", false),
			webhookDeployment.equal(podSpec+".hostUsers", true),
		},
	},
	{
		name: "names, common labels, extra args",
		values: `
fullnameOverride: sparkop
commonLabels:
  cost-center: "42"
controller:
  extraArgs: [--resync-interval=1h]
`,
		checks: []check{
			doc{deployTmpl, "Deployment", "sparkop-controller", defaultNamespace}.equal("metadata.labels.cost-center", "42"),
			doc{deployTmpl, "Deployment", "sparkop-controller", defaultNamespace}.contains(args, "--resync-interval=1h"),
			doc{deployTmpl, "Deployment", "sparkop-controller", defaultNamespace}.contains(args, "--leader-election-lock-name=sparkop-controller-lock"),
			doc{sparkTmpl, "Role", "sparkop-spark", "default"}.equal("metadata.labels.cost-center", "42"),
			doc{rbacTmpl, "Role", "sparkop-controller-leader-election", defaultNamespace}.equal("metadata.labels.cost-center", "42"),
		},
	},
	{
		name: "nameOverride and a release named differently",
		values: `
nameOverride: sparky
`,
		checks: []check{
			doc{deployTmpl, "Deployment", "spark-operator-sparky-controller", defaultNamespace}.equal(`metadata.labels."app.kubernetes.io/name"`, "sparky"),
		},
	},
	{
		name: "Kubeflow's spark service account name",
		values: `
spark:
  serviceAccount:
    name: ""
    annotations:
      eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/spark
`,
		checks: []check{
			doc{sparkTmpl, "ServiceAccount", "spark-operator-spark", "default"}.equal(`metadata.annotations."eks.amazonaws.com/role-arn"`, "arn:aws:iam::123456789012:role/spark"),
			sparkRB.in("default").equal("subjects[0].name", "spark-operator-spark"),
		},
		notes: []string{"spec.driver.serviceAccount: spark-operator-spark"},
	},
	{
		name: "no spark service account or RBAC",
		values: `
spark:
  serviceAccount: {create: false}
  rbac: {create: false}
`,
		checks: []check{sparkSA.count(0), sparkRole.count(0), sparkRB.count(0), operatorRole.count(1)},
	},
	{
		name: "existing operator service account, no operator RBAC",
		values: `
controller:
  serviceAccount: {create: false, name: platform-operator}
  rbac: {create: false}
`,
		checks: []check{
			deployment.equal(podSpec+".serviceAccountName", "platform-operator"),
			operatorSA.count(0),
			operatorRole.count(0),
			clusterRole.count(0),
			leRole.count(0),
			sparkRole.count(1),
		},
	},
	{
		name: "operator RBAC for an existing service account",
		values: `
controller:
  serviceAccount: {create: false, name: platform-operator}
`,
		checks: []check{
			operatorRB.in("default").equal("subjects[0].name", "platform-operator"),
			leRB.equal("subjects[0].name", "platform-operator"),
		},
	},
	{
		name: "PodDisruptionBudget",
		values: `
controller:
  replicas: 3
  podDisruptionBudget: {enable: true, minAvailable: 2}
`,
		checks: []check{
			pdb.equal("spec.minAvailable", 2),
			pdb.equal(`spec.selector.matchLabels."app.kubernetes.io/component"`, "controller"),
		},
	},
	{
		name:   "driver Service on, SparkConnect off",
		values: "controller: {driverService: {enable: true}}\nsparkConnect: {enable: false}",
		checks: []check{
			deployment.contains(args, "--enable-driver-service=true"),
			deployment.noPrefix(args, "--enable-spark-connect"),
		},
	},
	{name: "refused: jobNamespaceSelector with all namespaces", values: `spark: {jobNamespaces: [""], jobNamespaceSelector: team=data}`, failWith: "spark.jobNamespaceSelector has no effect"},
	{name: "refused: replicas without leader election", values: "controller: {replicas: 2, leaderElection: {enable: false}}", failWith: "needs controller.leaderElection.enable=true"},
	{name: "refused: PDB with one replica", values: "controller: {podDisruptionBudget: {enable: true}}", failWith: "needs controller.replicas > 1"},
	{name: "refused: topology spread with one replica", values: "controller: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]}", failWith: "controller.topologySpreadConstraints needs controller.replicas > 1"},
	{name: "refused: batch scheduler default while disabled", values: "controller: {batchScheduler: {default: volcano}}", failWith: "need controller.batchScheduler.enable=true"},
	{name: "refused: cert-manager without webhook", values: "certManager: {enable: true}", failWith: "certManager.enable needs webhook.enable=true"},
	{name: "refused: webhook PDB with one replica", values: "webhook: {enable: true, podDisruptionBudget: {enable: true}}", failWith: "webhook.podDisruptionBudget.enable needs webhook.replicas > 1"},
	{name: "refused: webhook topology spread with one replica", values: "webhook: {enable: true, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]}", failWith: "webhook.topologySpreadConstraints needs webhook.replicas > 1"},
	{name: "refused: quota enforcement without webhook", values: "webhook: {resourceQuotaEnforcement: {enable: true}}", failWith: "webhook.resourceQuotaEnforcement.enable needs webhook.enable=true"},
	{name: "refused: unknown key", values: "controller: {replcas: 2}", failWith: "at '/controller': additional properties 'replcas' not allowed"},
	{name: "refused: unknown top-level key", values: "webhok: {enable: true}", failWith: "additional properties 'webhok' not allowed"},
	{name: "refused: old webhook.certManager", values: "webhook: {certManager: {enable: true}}", failWith: "at '/webhook': additional properties 'certManager' not allowed"},
	{name: "refused: unknown feature gate", values: "controller: {featureGates: [{name: PartialRestrt, enabled: true}]}", failWith: "at '/controller/featureGates/0/name'"},
	{name: "refused: duration that does not parse", values: "controller: {workqueueRateLimiter: {maxDelay: {duration: 6 hours}}}", failWith: "at '/controller/workqueueRateLimiter/maxDelay/duration'"},
	{name: "refused: wrong type", values: "webhook: {replicas: two}", failWith: "at '/webhook/replicas': got string, want integer"},
	{name: "refused: PodMonitor without metrics", values: "prometheus: {metrics: {enable: false}, podMonitor: {create: true}}", failWith: "needs prometheus.metrics.enable=true"},
	{name: "refused: UI Ingress without URL", values: "controller: {uiIngress: {enable: true}}", failWith: "needs controller.uiIngress.urlFormat"},
}

// TestValues renders every case and runs its checks; every rendered Deployment's arguments are also
// parsed by the real `spark-operator controller start` command, so a flag the chart passes is a
// flag the operator has, with a value it accepts.
func TestValues(t *testing.T) {
	for _, tc := range valuesCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := renderChart(t, defaultRelease, defaultNamespace, tc.values)
			if tc.failWith != "" {
				if err == nil || !strings.Contains(err.Error(), tc.failWith) {
					t.Fatalf("rendering: got error %v, want one containing %q", err, tc.failWith)
				}
				return
			}
			if err != nil {
				t.Fatalf("rendering: %v", err)
			}
			for _, c := range tc.checks {
				if msg := c.run(r); msg != "" {
					t.Errorf("%s %s/%s %s %s: %s", c.doc.kind, c.doc.namespace, c.doc.name, c.op, c.path, msg)
				}
			}
			for _, want := range tc.notes {
				if !strings.Contains(r.notes, want) {
					t.Errorf("NOTES.txt does not contain %q:\n%s", want, r.notes)
				}
			}
			for _, tmpl := range []string{deployTmpl, webhookDeployTmpl} {
				for _, d := range r.find(tmpl, "Deployment", "") {
					a, _ := lookup(d.obj.Object, args)
					checkOperatorFlags(t, toStrings(a))
				}
			}
			for _, o := range r.objects {
				clusterScoped := map[string]bool{"ClusterRole": true, "ClusterRoleBinding": true, "ValidatingWebhookConfiguration": true}
				if !clusterScoped[o.obj.GetKind()] && o.obj.GetNamespace() == "" {
					t.Errorf("%s has no namespace", o)
				}
			}
		})
	}
}

// pendingCommands are the commands the chart runs, with Kubeflow's name, that our binary does not
// have yet because another branch adds them; the value is that branch. checkOperatorFlags does not
// parse their arguments. At the merge of that branch, remove the entry (the test then fails until
// it is removed).
var pendingCommands = map[string]string{}

// pendingFlags are the flags the chart renders with Kubeflow's names that our commands do not have
// yet because another branch adds them: "<command> --<flag>" -> that branch. checkOperatorFlags
// leaves them out when it parses the chart's arguments. At the merge of that branch, remove its
// entries (the test then fails until they are removed, so the list empties).
var pendingFlags = map[string]string{}

// checkOperatorFlags parses args ("controller start ..." or "webhook start ...") with the
// operator's real command line. Commands and flags pending another branch's merge are left out;
// one that exists already is reported, so that the lists above get emptied.
func checkOperatorFlags(t *testing.T, args []string) {
	t.Helper()
	if len(args) < 2 || args[1] != "start" || (args[0] != "controller" && args[0] != "webhook") {
		t.Fatalf("operator args = %v, want controller start ... or webhook start ...", args)
	}
	name := args[0] + " start"
	cmd, _, err := operatorcmd.NewRootCommand().Find(args[:2])
	found := err == nil && cmd.Name() == "start"
	if owner, pending := pendingCommands[name]; pending {
		if found {
			t.Errorf("spark-operator %s exists now: remove it from pendingCommands (added by %s)", name, owner)
		}
		// Until it exists, its flags must at least be Kubeflow's.
		known := kubeflowFlags(t, args[0])
		for _, arg := range args[2:] {
			flagName, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
			if !known[flagName] {
				t.Errorf("the chart passes %s, which Kubeflow's %s does not have", arg, name)
			}
		}
		return
	}
	if !found {
		t.Fatalf("spark-operator has no command %q: %v", name, err)
	}
	var kept []string
	for _, arg := range args[2:] {
		flagName, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		owner, pending := pendingFlags[name+" --"+flagName]
		if !pending {
			kept = append(kept, arg)
			continue
		}
		if cmd.Flags().Lookup(flagName) != nil {
			t.Errorf("spark-operator %s has --%s now: remove it from pendingFlags (added by %s)", name, flagName, owner)
		}
	}
	if err := cmd.ParseFlags(kept); err != nil {
		t.Errorf("spark-operator %s refuses the chart's flags: %v\nargs: %q", name, err, kept)
	}
	if rest := cmd.Flags().Args(); len(rest) > 0 {
		t.Errorf("spark-operator %s takes no arguments, the chart passes %q", name, rest)
	}
}

// run evaluates the check on r and returns what is wrong, or "".
func (c check) run(r *rendering) string {
	var docs []rendered
	for _, o := range r.objects {
		if (c.doc.template == "" || o.template == c.doc.template) && o.obj.GetKind() == c.doc.kind &&
			(c.doc.name == "" || o.obj.GetName() == c.doc.name) && (c.doc.namespace == "" || o.obj.GetNamespace() == c.doc.namespace) {
			docs = append(docs, o)
		}
	}
	if c.op == "count" {
		if len(docs) != c.value.(int) {
			return fmt.Sprintf("%d documents, want %d; rendered: %v", len(docs), c.value, r.kinds())
		}
		return ""
	}
	if len(docs) != 1 {
		return fmt.Sprintf("%d matching documents, want 1; rendered: %v", len(docs), r.kinds())
	}
	got, found := lookup(docs[0].obj.Object, c.path)
	got = util.JSONValue(got)
	want := util.JSONValue(c.value)
	switch c.op {
	case "exists":
		if !found {
			return "missing"
		}
	case "notExists":
		if found {
			return fmt.Sprintf("present: %v", got)
		}
	case "equal":
		if !found {
			return fmt.Sprintf("missing, want %v", want)
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("got %s want %s", toYAML(got), toYAML(want))
		}
	case "contains", "notContains":
		list, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("not a list: %v", got)
		}
		has := slices.ContainsFunc(list, func(v any) bool { return reflect.DeepEqual(v, want) })
		if has != (c.op == "contains") {
			return fmt.Sprintf("%v in %s", has, toYAML(list))
		}
	case "noPrefixItem":
		for _, s := range toStrings(got) {
			if strings.HasPrefix(s, c.value.(string)) {
				return fmt.Sprintf("has %q", s)
			}
		}
	default:
		return "unknown op " + c.op
	}
	return ""
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		out = append(out, fmt.Sprint(item))
	}
	return out
}
