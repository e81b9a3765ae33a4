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

{{/* The manager's --config file (ConfigMap cubit-manager-config, and the
checksum that rolls the pods when it changes). values.schema.json refuses
what the manager's parsers refuse field by field; what a schema cannot say
(one value against another) is refused here with the manager's message. */}}
{{- define "cubit.config" -}}
{{- $v := .Values }}
{{- $config := dict "gpu" $v.gpu "gang" $v.gang "notebook" $v.notebook "inference" $v.inference "pipeline" $v.pipeline }}
{{- with $v.tenancy }}{{ $_ := set $config "tenancy" . }}{{ end }}
{{- if $v.history.enabled }}{{ $_ := set $config "history" (dict "finalizerTimeoutSeconds" $v.history.finalizerTimeoutSeconds "retentionDays" $v.history.retentionDays "maxRuns" $v.history.maxRuns) }}{{ end }}
{{- /* api/gpu: model names are compared without case; defaultModel is one of them. */}}
{{- $models := dict }}
{{- range $name, $_ := ($v.gpu.models | default dict) }}
{{- with get $models (lower $name) }}{{ fail (printf "gpu: models: %s and %s differ only in case" . $name) }}{{ end }}
{{- $_ := set $models (lower $name) $name }}
{{- end }}
{{- if hasKey $v.gpu "defaultModel" }}
{{- if not (hasKey $models (lower (toString $v.gpu.defaultModel))) }}
{{- fail (printf "gpu: defaultModel: %q is not in models (known: %s)" (toString $v.gpu.defaultModel) (keys ($v.gpu.models | default dict) | sortAlpha | join ", " | default "none")) }}
{{- end }}
{{- end }}
{{- /* webhooks/env.c: at most 32 trusted usernames per list, the built-in
ones (kube-controller-manager's 8, the training operator, Volcano, KubeRay's
2 and the spark-operator's 2, the manager itself) included; a kind's
controllers propagate creators too. */}}
{{- $max := 32 }}
{{- $kcm := "system:serviceaccount:kube-system:" }}
{{- $operator := "system:serviceaccount:kubeflow:training-operator" }}
{{- $volcano := "system:serviceaccount:volcano-system:volcano-controllers" }}
{{- $manager := printf "system:serviceaccount:%s:cubit-manager" .Release.Namespace }}
{{- $kuberay := list "system:serviceaccount:ray-system:kuberay-operator" "system:serviceaccount:kuberay-operator:kuberay-operator" }}
{{- $spark := list "system:serviceaccount:spark-operator:spark-operator-controller" "system:serviceaccount:spark-operator:spark-operator" }}
{{- $builtin := dict "Job" (list "system:kube-controller-manager" (print $kcm "job-controller")) "TFJob" (list $operator) "PyTorchJob" (list $operator) "MPIJob" (list $operator) "XGBoostJob" (list $operator) "PaddleJob" (list $operator) "JAXJob" (list $operator) "VolcanoJob" (list $volcano) "TrainingJob" (list $manager) "RayJob" $kuberay "RayCluster" $kuberay "SparkApplication" $spark }}
{{- $propagators := concat (list "system:kube-controller-manager" $operator $volcano $manager) $kuberay $spark }}
{{- range $c := list "job" "cronjob" "replicaset" "deployment" "statefulset" "daemon-set" "replication" }}{{ $propagators = append $propagators (printf "%s%s-controller" $kcm $c) }}{{ end }}
{{- $propagators = concat $propagators (($v.tenancy | default dict).propagators | default list) }}
{{- range $kind, $users := (($v.tenancy | default dict).controllers | default dict) }}
{{- $propagators = concat $propagators $users }}
{{- if gt (len (uniq (concat (get $builtin $kind) $users))) $max }}{{ fail (printf "tenancy.controllers.%s: at most %d usernames (the built-in ones included)" $kind $max) }}{{ end }}
{{- end }}
{{- if gt (len (uniq $propagators)) $max }}{{ fail (printf "tenancy.propagators: at most %d usernames (the built-in ones and every controller's included)" $max) }}{{ end }}
{{- toYaml $config }}
{{- end -}}
