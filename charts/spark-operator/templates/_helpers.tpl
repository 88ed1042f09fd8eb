{{/*
Name of the chart, or nameOverride.
*/}}
{{- define "spark-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: fullnameOverride, else the release name (when it already contains the chart
name), else <release>-<name>. Truncated so that "<fullname>-controller-lock" and the other
suffixed names stay within 63 characters.
*/}}
{{- define "spark-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "spark-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "spark-operator.labels" -}}
helm.sh/chart: {{ include "spark-operator.chart" . }}
{{ include "spark-operator.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of the release.
*/}}
{{- define "spark-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "spark-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the operator's Deployment, Role, ... : <fullname>-controller.
*/}}
{{- define "spark-operator.controller.name" -}}
{{- include "spark-operator.fullname" . }}-controller
{{- end }}

{{/*
Labels of the operator's resources.
*/}}
{{- define "spark-operator.controller.labels" -}}
{{ include "spark-operator.labels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{/*
Selector labels of the operator pods.
*/}}
{{- define "spark-operator.controller.selectorLabels" -}}
{{ include "spark-operator.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{/*
Name of the operator's service account.
*/}}
{{- define "spark-operator.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- .Values.controller.serviceAccount.name | default (include "spark-operator.controller.name" .) }}
{{- else }}
{{- .Values.controller.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/*
Name of the leader election Lease.
*/}}
{{- define "spark-operator.controller.leaderElectionName" -}}
{{- include "spark-operator.controller.name" . }}-lock
{{- end }}

{{/*
Name of the Spark driver's service account.
*/}}
{{- define "spark-operator.spark.serviceAccountName" -}}
{{- .Values.spark.serviceAccount.name | default (printf "%s-spark" (include "spark-operator.fullname" .)) }}
{{- end }}

{{/*
Name of the Spark driver's Role and RoleBinding.
*/}}
{{- define "spark-operator.spark.rbacName" -}}
{{- include "spark-operator.fullname" . }}-spark
{{- end }}

{{/*
Labels of the Spark driver's resources.
*/}}
{{- define "spark-operator.spark.labels" -}}
{{ include "spark-operator.labels" . }}
app.kubernetes.io/component: spark
{{- end }}

{{/*
"true" when spark.jobNamespaces means every namespace: the list is empty or contains "".
*/}}
{{- define "spark-operator.allJobNamespaces" -}}
{{- $namespaces := .Values.spark.jobNamespaces | default list }}
{{- if or (eq (len $namespaces) 0) (has "" $namespaces) }}true{{- end }}
{{- end }}

{{/*
"true" when the operator's cache watches every namespace, so that it needs its rules cluster-wide:
all job namespaces, or a namespace selector (namespaces matching it can appear at any time).
*/}}
{{- define "spark-operator.watchesAllNamespaces" -}}
{{- if or (include "spark-operator.allJobNamespaces" .) .Values.spark.jobNamespaceSelector }}true{{- end }}
{{- end }}

{{/*
The named job namespaces (without ""), deduplicated, as a JSON list: the namespaces that get the
Spark driver's service account and RBAC (and the operator's Role when it watches only them).
*/}}
{{- define "spark-operator.jobNamespaces" -}}
{{- $out := list }}
{{- range $ns := .Values.spark.jobNamespaces | default list }}
{{- if and $ns (not (has $ns $out)) }}
{{- $out = append $out $ns }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
Image of the operator: <registry>/<repository>:<tag or appVersion>.
*/}}
{{- define "spark-operator.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if .Values.image.registry }}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Checks of values that would otherwise install something that does not work.
*/}}
{{- define "spark-operator.validate" -}}
{{- if and .Values.spark.jobNamespaceSelector (has "" (.Values.spark.jobNamespaces | default list)) }}
{{- fail "spark.jobNamespaceSelector has no effect when spark.jobNamespaces contains \"\" (all namespaces): remove one of them" }}
{{- end }}
{{- if and (gt (int .Values.controller.replicas) 1) (not .Values.controller.leaderElection.enable) }}
{{- fail "controller.replicas > 1 needs controller.leaderElection.enable=true: without it every replica would reconcile" }}
{{- end }}
{{- if and .Values.controller.podDisruptionBudget.enable (le (int .Values.controller.replicas) 1) }}
{{- fail "controller.podDisruptionBudget.enable needs controller.replicas > 1: with one replica it would block node drains" }}
{{- end }}
{{- if and .Values.controller.topologySpreadConstraints (le (int .Values.controller.replicas) 1) }}
{{- fail "controller.topologySpreadConstraints needs controller.replicas > 1, as in Kubeflow's chart" }}
{{- end }}
{{- $bs := .Values.controller.batchScheduler }}
{{- if and (not $bs.enable) (or $bs.kubeSchedulerNames $bs.default) }}
{{- fail "controller.batchScheduler.kubeSchedulerNames and controller.batchScheduler.default need controller.batchScheduler.enable=true" }}
{{- end }}
{{- if and .Values.certManager.enable (not .Values.webhook.enable) }}
{{- fail "certManager.enable needs webhook.enable=true: cert-manager issues the webhook's certificate" }}
{{- end }}
{{- if .Values.webhook.enable }}
{{- if and .Values.webhook.podDisruptionBudget.enable (le (int .Values.webhook.replicas) 1) }}
{{- fail "webhook.podDisruptionBudget.enable needs webhook.replicas > 1: with one replica it would block node drains" }}
{{- end }}
{{- if and .Values.webhook.topologySpreadConstraints (le (int .Values.webhook.replicas) 1) }}
{{- fail "webhook.topologySpreadConstraints needs webhook.replicas > 1, as in Kubeflow's chart" }}
{{- end }}
{{- else if .Values.webhook.resourceQuotaEnforcement.enable }}
{{- fail "webhook.resourceQuotaEnforcement.enable needs webhook.enable=true: the webhook enforces the quotas" }}
{{- end }}
{{- if and .Values.prometheus.podMonitor.create (not .Values.prometheus.metrics.enable) }}
{{- fail "prometheus.podMonitor.create needs prometheus.metrics.enable=true" }}
{{- end }}
{{- if and .Values.controller.uiIngress.enable (not .Values.controller.uiIngress.urlFormat) }}
{{- fail "controller.uiIngress.enable needs controller.uiIngress.urlFormat" }}
{{- end }}
{{- end }}

{{/*
Name of the webhook's Deployment, configuration, ClusterRole and Role: <fullname>-webhook, as in
Kubeflow's chart.
*/}}
{{- define "spark-operator.webhook.name" -}}
{{- include "spark-operator.fullname" . }}-webhook
{{- end -}}

{{/* Name of the webhook's Service: <fullname>-webhook-svc, as in Kubeflow's chart. */}}
{{- define "spark-operator.webhook.serviceName" -}}
{{- include "spark-operator.webhook.name" . }}-svc
{{- end -}}

{{/* Name of the Secret of the webhook's serving certificate. */}}
{{- define "spark-operator.webhook.secretName" -}}
{{- include "spark-operator.webhook.name" . }}-certs
{{- end -}}

{{/* Name of the webhook's leader election Lease. */}}
{{- define "spark-operator.webhook.leaderElectionName" -}}
{{- include "spark-operator.webhook.name" . }}-lock
{{- end -}}

{{/* Labels of the webhook's resources. */}}
{{- define "spark-operator.webhook.labels" -}}
{{ include "spark-operator.labels" . }}
app.kubernetes.io/component: webhook
{{- end -}}

{{/* Selector labels of the webhook pods. */}}
{{- define "spark-operator.webhook.selectorLabels" -}}
{{ include "spark-operator.selectorLabels" . }}
app.kubernetes.io/component: webhook
{{- end -}}

{{/* Name of the webhook's service account. */}}
{{- define "spark-operator.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create }}
{{- .Values.webhook.serviceAccount.name | default (include "spark-operator.webhook.name" .) }}
{{- else }}
{{- .Values.webhook.serviceAccount.name | default "default" }}
{{- end }}
{{- end -}}

{{/* Names of cert-manager's Issuer and Certificate for the webhook, as in Kubeflow's chart. */}}
{{- define "spark-operator.certManager.issuerName" -}}
{{- include "spark-operator.name" . }}-self-signed-issuer
{{- end -}}

{{- define "spark-operator.certManager.certificateName" -}}
{{- include "spark-operator.name" . }}-certificate
{{- end -}}

{{/* Name of the hook that applies the CRDs before an install or upgrade. */}}
{{- define "spark-operator.hook.name" -}}
{{- include "spark-operator.fullname" . }}-hook
{{- end -}}

{{- define "spark-operator.hook.labels" -}}
{{ include "spark-operator.labels" . }}
app.kubernetes.io/component: hook
{{- end -}}

{{/*
"--metrics-labels" value: a comma-separated string or a list; empty means app_type, as in Kubeflow's
chart.
*/}}
{{- define "spark-operator.metricsLabels" -}}
{{- $labels := .Values.prometheus.metrics.labels }}
{{- if kindIs "slice" $labels }}{{ $labels = join "," $labels }}{{ end }}
{{- $labels | toString | default "app_type" }}
{{- end -}}

{{/*
"hostUsers: <bool>" for a pod spec when v is a boolean and the cluster is Kubernetes 1.30 or later
(as in Kubeflow's chart); nothing otherwise. Called with (list $ v).
*/}}
{{- define "spark-operator.hostUsers" -}}
{{- $root := index . 0 }}
{{- $v := index . 1 }}
{{- if and (kindIs "bool" $v) (semverCompare ">=1.30-0" $root.Capabilities.KubeVersion.Version) -}}
hostUsers: {{ $v }}
{{- end }}
{{- end -}}
