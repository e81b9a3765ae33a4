#!/usr/bin/env bash
# The chart and config/default on the real control plane of kind/local:
#   1. helm lint and helm template with the default values and with
#      test/install/values-nondefault.yaml (a values file the schema refuses is
#      refused); no wildcard in any rendered role and the manager's permissions exactly
#      test/install/rbac-expected.txt; /metrics over TLS; the NetworkPolicy;
#      config/manager and the chart's copies are up to date; kustomize renders the
#      same objects as the chart.
#   2. every rendered object passes a server-side dry run.
#   3. helm install with a bad setting fails with the schema's message; helm
#      install (webhooks reached by URL: there is no kube-proxy here), then
#      the real cubit-manager runs out of cluster with the Deployment's own
#      arguments, ConfigMap and ServiceAccount, and every sample becomes Ready;
#      /metrics answers 401 without a token and 200 to a reader of metrics.readers.
#   4. helm upgrade with changed values reaches the objects and the manager.
#   5. helm uninstall removes the release and keeps the CRDs and the samples.
#   6. kubectl apply -k config/default installs the same set of objects.
# The cluster is shared with the other e2e tests: the harness's manager (the
# e2e_cubit fixture) is stopped first and brought back at the end.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
build=${CUBIT_BUILD_DIR:-$repo/build}
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")
helm=("$bin/helm" --kubeconfig "$state/kubeconfig")
ns=cubit-system
chart=$repo/charts/cubit
[[ -f $state/ready ]] || { echo "the local control plane is not up (kind/local/up.sh)"; exit 2; }
health=${CUBIT_MANAGER_HEALTH_PORT:-18081}
metrics=${CUBIT_MANAGER_METRICS_PORT:-18080}
webhook=${CUBIT_MANAGER_WEBHOOK_PORT:-19443}

work=$(mktemp -d)
passed=0 failed=0
step() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
check() { # DESCRIPTION COMMAND...
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$what"; else nok "$what"; printf '%s\n' "$out" | tail -n 20 | sed 's/^/      /'; fi
}
# kinds+names of a YAML stream: "Kind namespace/name" lines, sorted.
inventory() { yq -r 'select(. != null) | "\(.kind) \(.metadata.namespace // "")/\(.metadata.name)"' | sort; }

# The manager's pid is kept in a file: start_manager runs inside check's
# command substitution, whose variables the script never sees.
stop_manager() {
  local pid
  pid=$(cat "$work/manager.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null && grep -q cubit-manager "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$work/manager.pid"
}
harness_was_running=0
restore() {
  stop_manager
  # Leave no release and no half-installed objects, then give the harness back.
  "${helm[@]}" uninstall cubit -n "$ns" --wait >/dev/null 2>&1 || true
  "${kubectl[@]}" -n "$ns" delete serviceaccount e2e-install-scraper --ignore-not-found >/dev/null 2>&1 || true
  "${kubectl[@]}" kustomize "$repo/config/default" | yq -y 'select(.kind != "Namespace" and .kind != "CustomResourceDefinition")' |
    "${kubectl[@]}" delete --ignore-not-found --wait=false -f - >/dev/null 2>&1 || true
  if ((harness_was_running)); then
    echo "restoring the harness's cubit-manager (test/e2e/cubit-up.sh)"
    CUBIT_BUILD_DIR=$build "$repo/test/e2e/cubit-up.sh" >>"$work/cubit-up.log" 2>&1 || { echo "cubit-up.sh failed:"; tail -20 "$work/cubit-up.log"; }
  fi
  if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$state/install-manager.log" 2>/dev/null; then
    echo "sanitizer report in $state/install-manager.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
}
trap 'restore; echo "$passed passed, $failed failed"' EXIT

# ------------------------------------------------------------------ 1. static
step "lint and template"
values2=$repo/test/install/values-nondefault.yaml
check "helm lint (default values)" "${helm[@]}" lint --strict "$chart"
check "helm lint (values-nondefault.yaml)" "${helm[@]}" lint --strict "$chart" -f "$values2"
check "helm lint refuses a misspelt value" bash -c "! $(printf '%q ' "${helm[@]}") lint $chart --set webhook.certs.mode=manual"
check "helm lint refuses an unknown GPU system" bash -c "! $(printf '%q ' "${helm[@]}") lint $chart --set gpu.system=amd"
"${helm[@]}" template cubit "$chart" -n "$ns" --include-crds >"$work/default.yaml"
"${helm[@]}" template cubit "$chart" -n cubit-alt --include-crds -f "$values2" >"$work/nondefault.yaml"
check "helm template (default) renders" test -s "$work/default.yaml"
check "helm template (nondefault) renders cert-manager and ServiceMonitor objects" \
  bash -c "grep -q '^kind: Certificate' $work/nondefault.yaml && grep -q '^kind: ServiceMonitor' $work/nondefault.yaml && grep -q 'cert-manager.io/inject-ca-from: cubit-alt/cubit-webhook-cert' $work/nondefault.yaml"
# jqcheck DESCRIPTION FILTER JSON: the filter holds on the JSON.
jqcheck() { check "$1" jq -e "$2" <<<"$3"; }
dep=$(yq -c 'select(.kind == "Deployment")' "$work/default.yaml")
c='.spec.template.spec.containers[0]'
jqcheck "Deployment: 2 replicas with leader election" \
  ".spec.replicas == 2 and ($c.args | index(\"--leader-elect=true\"))" "$dep"
jqcheck "Deployment: liveness /healthz and readiness /readyz on the health port" \
  "$c.livenessProbe.httpGet.path == \"/healthz\" and $c.readinessProbe.httpGet.path == \"/readyz\" and $c.livenessProbe.httpGet.port == \"health\"" "$dep"
jqcheck "Deployment: requests and limits" "$c.resources.requests.cpu and $c.resources.requests.memory and $c.resources.limits.cpu and $c.resources.limits.memory" "$dep"
jqcheck "Deployment: non-root, read-only root, no capabilities, no escalation, seccomp RuntimeDefault" \
  ".spec.template.spec.securityContext.runAsNonRoot == true and $c.securityContext.readOnlyRootFilesystem == true
   and $c.securityContext.capabilities.drop == [\"ALL\"] and $c.securityContext.allowPrivilegeEscalation == false
   and .spec.template.spec.securityContext.seccompProfile.type == \"RuntimeDefault\"" "$dep"
jqcheck "Deployment: the webhook cert dir is a writable emptyDir, the config a ConfigMap" \
  "($c.volumeMounts[] | select(.name == \"webhook-certs\") | .readOnly != true) and
   (.spec.template.spec.volumes[] | select(.name == \"webhook-certs\") | .emptyDir != null) and
   (.spec.template.spec.volumes[] | select(.name == \"config\") | .configMap.name == \"cubit-manager-config\")" "$dep"
jqcheck "webhook configurations: every webhook has a failurePolicy, the pod ones a namespaceSelector" \
  "[.webhooks[] | .failurePolicy != null and ((.name | test(\"^(pods|workloads|quota)[.]\") | not) or (.namespaceSelector != null))] | all" \
  "$(yq -c -s '[.[] | select(. != null and (.kind | test("WebhookConfiguration")))] | {webhooks: (map(.webhooks) | add)}' "$work/default.yaml")"
check "no wildcard in the rendered roles (default)" "$repo/test/install/no-wildcards.sh" "$work/default.yaml"
check "no wildcard in the rendered roles (nondefault)" "$repo/test/install/no-wildcards.sh" "$work/nondefault.yaml"
check "the manager's rendered permissions are rbac-expected.txt (default)" "$repo/test/install/rbac-rules.sh" "$work/default.yaml"
check "the manager's rendered permissions are rbac-expected.txt (nondefault)" "$repo/test/install/rbac-rules.sh" "$work/nondefault.yaml"
jqcheck "Deployment: /metrics over TLS on 0.0.0.0:8443, the webhook certificate naming cubit-metrics" \
  "($c.args | index(\"--metrics-secure=true\")) and ($c.args | index(\"--metrics-bind-address=0.0.0.0:8443\"))
   and ([$c.args[] | select(startswith(\"--webhook-hosts=\") and contains(\"cubit-metrics.$ns.svc\"))] | length == 1)
   and ($c.ports[] | select(.name == \"metrics\") | .containerPort == 8443)" "$dep"
np=$(yq -c 'select(.kind == "NetworkPolicy")' "$work/default.yaml")
jqcheck "NetworkPolicy: ingress to the webhook (any source by default), metrics (metrics=enabled namespaces) and health ports only" \
  ".spec.policyTypes == [\"Ingress\"] and (.spec.ingress | length == 3)
   and (.spec.ingress[0].ports[0].port == 9443 and .spec.ingress[0].from == null)
   and (.spec.ingress[1].ports[0].port == 8443 and .spec.ingress[1].from[0].namespaceSelector.matchLabels.metrics == \"enabled\")
   and (.spec.ingress[2].ports[0].port == 8081)" "$np"
np2=$(yq -c 'select(.kind == "NetworkPolicy")' "$work/nondefault.yaml")
jqcheck "NetworkPolicy (nondefault): webhook from the API server CIDRs and selector, metrics from the pods and CIDRs given" \
  "(.spec.ingress[0].ports[0].port == 10443)
   and ([.spec.ingress[0].from[] | .ipBlock.cidr // empty] == [\"10.0.0.0/24\", \"192.168.0.10/32\"])
   and ([.spec.ingress[0].from[] | select(.namespaceSelector)] | length == 1)
   and (.spec.ingress[1].ports[0].port == 9080)
   and (.spec.ingress[1].from[0] == {podSelector: {matchLabels: {\"app.kubernetes.io/name\": \"prometheus\"}}})
   and (.spec.ingress[1].from[1].ipBlock.cidr == \"172.16.5.0/24\") and (.spec.ingress[2].ports[0].port == 9081)" "$np2"
jqcheck "metrics.readers (nondefault): a ClusterRoleBinding to cubit-metrics-reader" \
  ".roleRef.name == \"cubit-metrics-reader\" and (.subjects | length == 2)
   and .subjects[0] == {kind: \"ServiceAccount\", name: \"prometheus-k8s\", namespace: \"monitoring\"}
   and .subjects[1] == {kind: \"Group\", name: \"metrics-scrapers\", apiGroup: \"rbac.authorization.k8s.io\"}" \
  "$(yq -c 'select(.kind == "ClusterRoleBinding" and .metadata.name == "cubit-metrics-reader")' "$work/nondefault.yaml")"
jqcheck "ServiceMonitor (nondefault): https with Prometheus' token and the cert-manager CA" \
  ".spec.endpoints[0].scheme == \"https\" and .spec.endpoints[0].bearerTokenFile != null
   and .spec.endpoints[0].tlsConfig.ca.secret == {name: \"cubit-webhook-tls\", key: \"ca.crt\"}
   and .spec.endpoints[0].tlsConfig.serverName == \"cubit-metrics.cubit-alt.svc\"" \
  "$(yq -c 'select(.kind == "ServiceMonitor")' "$work/nondefault.yaml")"
check "the cert-manager Certificate names the metrics Service (nondefault)" \
  bash -c "yq -r 'select(.kind == \"Certificate\") | .spec.dnsNames[]' $work/nondefault.yaml | grep -qx cubit-metrics.cubit-alt.svc"
check "the chart's CRDs are those of crds/ and config/manager is the chart's (generate-install --check)" \
  env HELM="$bin/helm" "$repo/scripts/generate-install.sh" --check
"${kubectl[@]}" kustomize "$repo/config/default" >"$work/kustomize.yaml"
inventory <"$work/default.yaml" >"$work/helm.inv"
inventory <"$work/kustomize.yaml" | grep -v '^Namespace ' >"$work/kustomize.inv"
check "kubectl kustomize config/default renders the chart's objects ($(wc -l <"$work/helm.inv") kinds+names)" \
  diff "$work/helm.inv" "$work/kustomize.inv"
for crd in "$repo"/crds/*.yaml; do
  n=$(yq -r .metadata.name "$crd")
  check "chart and kustomize both install CRD $n" grep -qx "CustomResourceDefinition /$n" "$work/helm.inv"
done

# ------------------------------------------------------------------ take over the cluster
step "clear the harness's installation"
if [[ -f $state/manager.pid ]] && kill -0 "$(cat "$state/manager.pid")" 2>/dev/null; then
  harness_was_running=1
fi
# Cubit objects go first, while a manager may still remove their finalizers.
cubit_objects() { "${kubectl[@]}" get cubit -A -o name 2>/dev/null || true; }
if ((harness_was_running)) && [[ -n $(cubit_objects) ]]; then
  "${kubectl[@]}" delete cubit --all -A --wait=false >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [[ -z $(cubit_objects) ]] && break
    sleep 1
  done
fi
# The samples' project namespaces go too: a deleted Project (deletionPolicy Retain)
# releases them, and a Project adopts only namespaces it created or a cluster admin
# labelled for it (docs/project.md), so the install below starts as on a fresh cluster.
sample_namespaces=$(yq -r 'select(.kind == "Project") | .spec.namespaces[]?' "$repo"/config/samples/*.yaml)
# shellcheck disable=SC2086  # one name a word
[[ -z $sample_namespaces ]] ||
  "${kubectl[@]}" delete namespace $sample_namespaces --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || true
"$repo/test/e2e/cubit-down.sh" --keep-cluster || nok "the harness's manager stopped with a sanitizer report"
# The webhook configurations go before any further write: with no manager
# behind them, their failurePolicy Fail would refuse it.
yq -y 'select(.kind != "Namespace" and .kind != "CustomResourceDefinition")' "$work/kustomize.yaml" |
  "${kubectl[@]}" delete --ignore-not-found --wait=true --timeout=60s -f - >/dev/null
"${kubectl[@]}" -n "$ns" delete secret cubit-webhook-certs --ignore-not-found >/dev/null
# Whatever is left was made by a manager that is gone: release its finalizers.
for o in $(cubit_objects); do
  "${kubectl[@]}" delete "$o" --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" patch "$o" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
done
check "the Cubit CRDs can be deleted before the install" \
  "${kubectl[@]}" delete --ignore-not-found --wait=true --timeout=120s -f "$repo/crds/"
check "no Cubit CRD is left before the install" bash -c "! $(printf '%q ' "${kubectl[@]}") api-resources --api-group=cubit.dev -o name | grep -q ."

# ------------------------------------------------------------------ 2. dry run
step "server-side dry run of the rendered objects"
"${kubectl[@]}" create namespace "$ns" --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
"${kubectl[@]}" create namespace cubit-alt --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
# CRDs are created first (for real, as helm install would), then everything else dry.
yq -y 'select(.kind == "CustomResourceDefinition")' "$work/default.yaml" >"$work/crds.yaml"
for which in default nondefault; do
  yq -y 'select(. != null and .kind != "CustomResourceDefinition")' "$work/$which.yaml" >"$work/$which-objects.yaml"
  # Kinds of optional APIs (cert-manager, the Prometheus operator) that this cluster does not serve.
  missing=$(yq -r 'select(. != null) | .apiVersion | split("/")[0]' "$work/$which-objects.yaml" | sort -u |
    while read -r g; do
      [[ $g == v1 || $g == *.k8s.io || $g == apps || $g == policy ]] && continue
      "${kubectl[@]}" api-resources --api-group="$g" -o name 2>/dev/null | grep -q . || echo "$g"
    done)
  filter='select(. != null)'
  for g in $missing; do
    filter="$filter | select(.apiVersion | startswith(\"$g/\") | not)"
    echo "note: $which: group $g is not served here; its objects are checked by helm lint only"
  done
  yq -y "$filter" "$work/$which-objects.yaml" >"$work/$which-dry.yaml"
  check "server-side dry run of the CRDs ($which)" "${kubectl[@]}" apply --server-side --dry-run=server -f "$work/crds.yaml"
  check "server-side dry run of $(inventory <"$work/$which-dry.yaml" | wc -l) rendered objects ($which)" \
    "${kubectl[@]}" apply --server-side --dry-run=server --field-manager=helm -f "$work/$which-dry.yaml"
done
"${kubectl[@]}" delete namespace cubit-alt --wait=false >/dev/null 2>&1 || true

# ------------------------------------------------------------------ 3. install
step "helm install"
cat >"$work/install.yaml" <<EOF
# The local cluster: the API server reaches the webhooks of a manager run on
# loopback; the fake GPU nodes carry every system's resources.
webhook:
  url: https://127.0.0.1:$webhook
gpu:
  system: hami
  modelLabel: nvidia.com/gpu.product
  models:
    A100: {memory: 80Gi}
    V100: {memory: 32Gi}
gang:
  scheduler: volcano
metrics:
  readers: [{kind: ServiceAccount, name: e2e-install-scraper}]
EOF
# A setting the manager would refuse at start fails the install itself, with the
# schema's message, and leaves no release (install.chart-settings has the whole table).
check "helm install with a card memory of 80GB fails with the schema's message, leaving no release" bash -c "
  out=\$($(printf '%q ' "${helm[@]}") install cubit $chart -n $ns --create-namespace -f $work/install.yaml \
    --set gpu.models.A100.memory=80GB 2>&1) && exit 1
  grep -q \"at '/gpu/models/A100/memory'\" <<<\"\$out\" && grep -q \"'80GB' does not match pattern\" <<<\"\$out\" &&
    ! $(printf '%q ' "${helm[@]}") status cubit -n $ns >/dev/null 2>&1"
check "helm install" "${helm[@]}" install cubit "$chart" -n "$ns" --create-namespace -f "$work/install.yaml" --wait --timeout 180s
for crd in "$repo"/crds/*.yaml; do
  check "helm installed CRD $(yq -r .metadata.name "$crd")" \
    "${kubectl[@]}" wait --for=condition=Established --timeout=60s "crd/$(yq -r .metadata.name "$crd")"
done
"${helm[@]}" get manifest cubit -n "$ns" >"$work/release.yaml"
# install.yaml's metrics.readers adds the ClusterRoleBinding cubit-metrics-reader.
check "the release holds the chart's objects and the readers' binding" \
  diff <({ grep -v '^CustomResourceDefinition ' "$work/helm.inv"; echo "ClusterRoleBinding /cubit-metrics-reader"; } | sort) \
  <(inventory <"$work/release.yaml")
check "the Deployment's pods are Ready (kwok plays the kubelet)" \
  "${kubectl[@]}" -n "$ns" rollout status deployment/cubit-manager --timeout=120s
check "no wildcard in the installed roles" bash -c "$(printf '%q ' "${kubectl[@]}") get clusterroles,roles -A -l app.kubernetes.io/name=cubit -o yaml | $repo/test/install/no-wildcards.sh -"
check "the installed manager's permissions are rbac-expected.txt" bash -c "$(printf '%q ' "${kubectl[@]}") get clusterroles,roles,clusterrolebindings,rolebindings -A -l app.kubernetes.io/name=cubit -o yaml | $repo/test/install/rbac-rules.sh -"

# start_manager: the real binary with the arguments of the installed Deployment,
# its ConfigMap as --config and a token of the chart's ServiceAccount; only the
# listen addresses (loopback ports) and the cert directory are local.
start_manager() {
  local deploy args=() a
  deploy=$("${kubectl[@]}" -n "$ns" get deployment cubit-manager -o json)
  "${kubectl[@]}" -n "$ns" get configmap cubit-manager-config -o jsonpath='{.data.config\.yaml}' >"$work/config.yaml"
  while IFS= read -r a; do
    case $a in
      --metrics-bind-address=*) a=--metrics-bind-address=127.0.0.1:$metrics ;;
      --health-probe-bind-address=*) a=--health-probe-bind-address=127.0.0.1:$health ;;
      --webhook-bind-address=*) a=--webhook-bind-address=127.0.0.1:$webhook ;;
      --webhook-cert-dir=*) a=--webhook-cert-dir=$work/certs ;;
      --config=/etc/cubit/config.yaml) a=--config=$work/config.yaml ;;
      --config=*) nok "unexpected --config in the Deployment: $a" ;;
    esac
    args+=("$a")
  done < <(jq -r '.spec.template.spec.containers[0].args[]' <<<"$deploy")
  local token server
  token=$("${kubectl[@]}" -n "$ns" create token "$(jq -r .spec.template.spec.serviceAccountName <<<"$deploy")" --duration=1h)
  server=$("${kubectl[@]}" config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  (umask 077 && cat >"$work/manager.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: $server, certificate-authority: $state/pki/ca.crt}}]
users: [{name: cubit-manager, user: {token: $token}}]
contexts: [{name: cubit-manager, context: {cluster: local, user: cubit-manager, namespace: $ns}}]
current-context: cubit-manager
KC
  )
  if curl -fsS --max-time 1 "http://127.0.0.1:$health/readyz" >/dev/null 2>&1; then
    echo "something already serves 127.0.0.1:$health"
    return 1
  fi
  printf '\n==== %s e2e.install-helm: cubit-manager %s\n' "$(date -u +%FT%TZ)" "${args[*]}" >>"$state/install-manager.log"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1} \
    setsid "$build/cubit-manager" --kubeconfig "$work/manager.kubeconfig" "${args[@]}" \
    </dev/null >>"$state/install-manager.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$work/manager.pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    curl -fsS --max-time 1 "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null && return 0
    sleep 0.2
  done
  tail -n 30 "$state/install-manager.log"
  return 1
}
ninja -C "$build" cubit-manager >/dev/null
check "cubit-manager runs with the Deployment's arguments under the chart's ServiceAccount" start_manager
# scrape STATUS [TOKEN]: /metrics of the manager answers STATUS (over TLS, the chart's certificate).
scrape() {
  local want=$1 got
  got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$work/certs/ca.crt" \
    ${2:+-H "Authorization: Bearer $2"} "https://127.0.0.1:$metrics/metrics" 2>/dev/null || true)
  [[ $got == "$want" ]] || { echo "got $got, want $want"; return 1; }
}
check "/metrics without a token: 401" scrape 401
"${kubectl[@]}" -n "$ns" create serviceaccount e2e-install-scraper >/dev/null 2>&1 || true
check "/metrics with the token of metrics.readers' ServiceAccount: 200" \
  scrape 200 "$("${kubectl[@]}" -n "$ns" create token e2e-install-scraper --duration=10m)"
check "the manager wrote the caBundle into the chart's webhook configurations" bash -c "
  for _ in \$(seq 1 60); do
    [[ -n \$($(printf '%q ' "${kubectl[@]}") get validatingwebhookconfiguration cubit-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}') ]] && exit 0
    sleep 1
  done; exit 1"

step "samples"
# Projects first: they make the namespaces the other samples live in (as
# test/e2e/cubit-up.sh and docs/install.md do).
check "kubectl apply -f config/samples/project.yaml, Ready" bash -c \
  "$(printf '%q ' "${kubectl[@]}") apply -f $repo/config/samples/project.yaml &&
   $(printf '%q ' "${kubectl[@]}") wait --for=condition=Ready -f $repo/config/samples/project.yaml --timeout=60s"
check "kubectl apply -f config/samples/" "${kubectl[@]}" apply -f "$repo/config/samples/"
# Cubit's objects say Ready, or Suspended where their spec suspends them (a paused
# schedule, a suspended job, a stopped notebook: docs/status.md); the plain objects
# shipped beside them are judged by test/gitops/samples.sh.
for f in "$repo"/config/samples/*.yaml; do
  while IFS= read -r line; do
    # $line is "Condition kind.group/name [-n namespace]".
    read -r -a args <<<"$line"
    cond=${args[0]}
    check "sample ${args[*]:1} becomes $cond" "${kubectl[@]}" wait --for=condition="$cond" --timeout=90s "${args[@]:1}"
  done < <(yq -r 'select(. != null and (.apiVersion | startswith("cubit.dev/"))) | "\(if (.spec.schedule.suspend == true or .spec.suspend == true or .spec.stopped == true) then "Suspended" else "Ready" end) \(.kind | ascii_downcase).\(.apiVersion | split("/")[0])/\(.metadata.name)\(if .metadata.namespace then " -n " + .metadata.namespace else "" end)"' "$f")
done
check "helm's notes tell what to do next" bash -c "$(printf '%q ' "${helm[@]}") get notes cubit -n $ns | grep -q 'kubectl wait --for=condition=Ready'"
for crd in "$repo"/crds/*.yaml; do
  plural=$(yq -r .spec.names.plural "$crd")
  for field in $(yq -r '.spec.versions[] | select(.storage) | .schema.openAPIV3Schema.properties.spec.properties | keys[]' "$crd"); do
    check "kubectl explain $plural.spec.$field answers" bash -c \
      "$(printf '%q ' "${kubectl[@]}") explain $plural.spec.$field | grep -A1 '^DESCRIPTION:' | tail -n1 | grep -q '[a-zA-Z]'"
  done
done
check "kubectl get cubit lists the samples" bash -c "$(printf '%q ' "${kubectl[@]}") get cubit -A -o name | grep -q project.cubit.dev/sample-team"
check "the webhooks answer through the chart's configurations" bash -c "
  out=\$(printf '%s' '{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"e2e-install-bad\"},\"spec\":{\"namespaces\":[\"kube-system\"]}}' |
    $(printf '%q ' "${kubectl[@]}") create --dry-run=server -f - 2>&1) && exit 1
  grep -q 'projects.validate.cubit.dev\" denied the request' <<<\"\$out\""

# ------------------------------------------------------------------ 4. upgrade
step "helm upgrade"
cat >"$work/upgrade.yaml" <<'EOF'
replicaCount: 3
logVerbosity: 2
podDisruptionBudget: {minAvailable: 2}
webhook:
  failurePolicy: {workloads.mutate.cubit.dev: Fail}
gpu:
  system: volcano-vgpu
  models:
    A100: {memory: 80Gi}
notebook:
  urlBase: https://ml.example.test
EOF
old_checksum=$("${kubectl[@]}" -n "$ns" get deployment cubit-manager -o jsonpath='{.spec.template.metadata.annotations.checksum/config}')
check "helm upgrade with changed values" "${helm[@]}" upgrade cubit "$chart" -n "$ns" -f "$work/install.yaml" -f "$work/upgrade.yaml" --wait --timeout 180s
check "upgrade: 3 replicas" test "$("${kubectl[@]}" -n "$ns" get deployment cubit-manager -o jsonpath='{.spec.replicas}')" = 3
check "upgrade: the PodDisruptionBudget keeps 2" test "$("${kubectl[@]}" -n "$ns" get pdb cubit-manager -o jsonpath='{.spec.minAvailable}')" = 2
check "upgrade: the ConfigMap holds the new GPU profile" bash -c "$(printf '%q ' "${kubectl[@]}") -n $ns get configmap cubit-manager-config -o jsonpath='{.data.config\.yaml}' | grep -q 'system: volcano-vgpu'"
check "upgrade: the pods roll (config checksum changed)" test "$("${kubectl[@]}" -n "$ns" get deployment cubit-manager -o jsonpath='{.spec.template.metadata.annotations.checksum/config}')" != "$old_checksum"
check "upgrade: the failurePolicy override reached the webhook" test \
  "$("${kubectl[@]}" get mutatingwebhookconfiguration cubit-webhook -o jsonpath='{.webhooks[?(@.name=="workloads.mutate.cubit.dev")].failurePolicy}')" = Fail
check "upgrade: the new arguments (--v=2)" bash -c "$(printf '%q ' "${kubectl[@]}") -n $ns get deployment cubit-manager -o jsonpath='{.spec.template.spec.containers[0].args}' | grep -q -- '--v=2'"
stop_manager
check "the manager restarts with the upgraded Deployment and ConfigMap" start_manager
check "the manager reads the new profile" grep -q 'volcano-vgpu' "$work/config.yaml"
check "the manager's parsers read the upgraded settings (--check-config)" bash -c \
  "$(printf '%q' "$build/cubit-manager") --check-config --config=$work/config.yaml |
   jq -e '.gpu.system == \"volcano-vgpu\" and .notebook.urlBase == \"https://ml.example.test\" and .gang.scheduler == \"volcano\"'"
check "the caBundle is in place after the upgrade" bash -c "
  for _ in \$(seq 1 90); do
    [[ -n \$($(printf '%q ' "${kubectl[@]}") get mutatingwebhookconfiguration cubit-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}') ]] && exit 0
    sleep 1
  done; exit 1"
check "the samples stay Ready after the upgrade" "${kubectl[@]}" wait --for=condition=Ready --timeout=60s project/sample-team
check "helm history shows two revisions" test "$("${helm[@]}" history cubit -n "$ns" -o json | jq length)" = 2

# ------------------------------------------------------------------ 5. uninstall
step "helm uninstall"
stop_manager
check "helm uninstall" "${helm[@]}" uninstall cubit -n "$ns" --wait --timeout 120s
check "the release is gone" bash -c "! $(printf '%q ' "${helm[@]}") status cubit -n $ns"
gone=1
while IFS=' ' read -r kind ref; do
  [[ $kind == CustomResourceDefinition ]] && continue
  n=${ref#*/} nsflag=()
  [[ -n ${ref%%/*} ]] && nsflag=(-n "${ref%%/*}")
  if "${kubectl[@]}" get "${nsflag[@]}" "$kind" "$n" >/dev/null 2>&1; then gone=0; echo "      still there: $kind $ref"; fi
done <"$work/helm.inv"
check "the release's objects are gone" test "$gone" = 1
for crd in "$repo"/crds/*.yaml; do
  check "CRD $(yq -r .metadata.name "$crd") is kept" "${kubectl[@]}" get crd "$(yq -r .metadata.name "$crd")"
done
check "the users' objects are kept (project/sample-team)" "${kubectl[@]}" get project sample-team

# ------------------------------------------------------------------ 6. kustomize
step "kubectl apply -k config/default"
check "kubectl apply -k config/default" "${kubectl[@]}" apply -k "$repo/config/default"
missing=0
while IFS=' ' read -r kind ref; do
  n=${ref#*/} nsflag=()
  [[ -n ${ref%%/*} ]] && nsflag=(-n "${ref%%/*}")
  "${kubectl[@]}" get "${nsflag[@]}" "$kind" "$n" >/dev/null 2>&1 || { missing=1; echo "      missing: $kind $ref"; }
done <"$work/helm.inv"
check "kustomize installed every object the chart installs" test "$missing" = 0
check "the kustomize Deployment rolls out" "${kubectl[@]}" -n "$ns" rollout status deployment/cubit-manager --timeout=120s
# Everything but the CRDs and the namespace goes again (restore() also does this).
yq -y 'select(.kind != "Namespace" and .kind != "CustomResourceDefinition")' "$work/kustomize.yaml" |
  "${kubectl[@]}" delete --ignore-not-found --wait=true --timeout=60s -f - >/dev/null

((failed == 0))
