{{/*
Object names are fixed (cubit-manager, cubit-webhook, ...): Cubit is installed once
per cluster, its cluster-scoped objects (CRDs, ClusterRoles, webhook configurations)
cannot be shared between releases, and the controllers refer to the
cubit-project-* ClusterRoles by name.
*/}}

{{/* Labels on every object. */}}
{{- define "cubit.labels" -}}
app.kubernetes.io/name: cubit
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The labels the manager's pods are selected by (config/webhook/service.yaml uses them too). */}}
{{- define "cubit.selectorLabels" -}}
app.kubernetes.io/name: cubit
app.kubernetes.io/component: manager
{{- end -}}

{{- define "cubit.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* DNS names of the webhook Service, or the host of webhook.url, then those of the
metrics Service: /metrics is served with the webhook's certificate. */}}
{{- define "cubit.webhookHosts" -}}
{{- if .Values.webhook.url -}}
{{- (urlParse .Values.webhook.url).hostname -}}
{{- else -}}
{{- printf "cubit-webhook.%s.svc,cubit-webhook.%s.svc.cluster.local" .Release.Namespace .Release.Namespace -}}
{{- end -}}
{{- printf ",cubit-metrics.%s.svc,cubit-metrics.%s.svc.cluster.local" .Release.Namespace .Release.Namespace -}}
{{- end -}}

{{/* The Secret holding the webhook (and metrics) certificate and its ca.crt. */}}
{{- define "cubit.certSecret" -}}
{{- if eq .Values.webhook.certs.mode "certManager" -}}cubit-webhook-tls{{- else -}}cubit-webhook-certs{{- end -}}
{{- end -}}

{{- define "cubit.certDir" -}}/run/cubit/webhook-certs{{- end -}}
