#!/usr/bin/env bash
# Brings up the local control plane (or reuses it), builds Cubit, installs its
# CRDs and RBAC, and runs cubit-manager out of cluster under the chart's
# ServiceAccount (a token from the TokenRequest API, so a missing RBAC rule
# fails the tests), then applies config/samples. /metrics is served as in the chart:
# over TLS (the webhook certificate, $state/webhook-certs/ca.crt) to tokens allowed
# get on /metrics; $state/metrics.token is one (ServiceAccount cubit-system/
# e2e-metrics-scraper, bound to cubit-metrics-reader), for the scripts that scrape.
#
# Idempotent: a second run rebuilds and restarts the manager on the new build.
# Environment: CUBIT_BUILD_DIR (default build/) picks the build tree, e.g. the
# ASan one; CUBIT_SKIP_SAMPLES=1 leaves the samples out; CUBIT_MANAGER_CONFIG
# names another --config file and CUBIT_MANAGER_ARGS adds flags.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
build=${CUBIT_BUILD_DIR:-$repo/build}
log() { printf '[cubit-up] %s\n' "$*" >&2; }

"$repo/scripts/deps.sh"
"$repo/kind/local/up.sh"
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")

log "building $build"
if [[ ! -f $build/build.ninja ]]; then
  extra=()
  [[ $(basename "$build") == build-asan ]] && extra+=(-DCUBIT_SANITIZE=ON)
  cmake -S "$repo" -B "$build" -G Ninja "${extra[@]}" >/dev/null
fi
ninja -C "$build" cubit-manager >/dev/null

log "installing CRDs and RBAC"
if compgen -G "$repo/crds/*.yaml" >/dev/null; then
  "${kubectl[@]}" apply --server-side --force-conflicts -f "$repo/crds/" >/dev/null
  "${kubectl[@]}" wait --for=condition=Established --timeout=60s -f "$repo/crds/" >/dev/null
fi
"${kubectl[@]}" apply -k "$repo/config/rbac" >/dev/null

# The manager's identity: a bound ServiceAccount token, exactly what a pod of
# the chart's Deployment would get.
token=$("${kubectl[@]}" -n cubit-system create token cubit-manager --duration=24h)
server=$("${kubectl[@]}" config view --minify -o jsonpath='{.clusters[0].cluster.server}')
umask 077
cat >"$state/manager.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $server
    certificate-authority: $state/pki/ca.crt
users:
- name: cubit-manager
  user:
    token: $token
contexts:
- name: cubit-manager
  context: {cluster: local, user: cubit-manager, namespace: cubit-system}
current-context: cubit-manager
KC
umask 022

# A scraper of /metrics, as Prometheus would be: its own identity, bound to the
# chart's ClusterRole cubit-metrics-reader.
"${kubectl[@]}" -n cubit-system create serviceaccount e2e-metrics-scraper --dry-run=client -o yaml |
  "${kubectl[@]}" apply -f - >/dev/null
"${kubectl[@]}" create clusterrolebinding e2e-metrics-scraper --clusterrole=cubit-metrics-reader \
  --serviceaccount=cubit-system:e2e-metrics-scraper --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
(umask 077 && "${kubectl[@]}" -n cubit-system create token e2e-metrics-scraper --duration=24h >"$state/metrics.token")

"$repo/test/e2e/cubit-down.sh" --keep-cluster >/dev/null 2>&1 || true

health=${CUBIT_MANAGER_HEALTH_PORT:-18081}
metrics=${CUBIT_MANAGER_METRICS_PORT:-18080}
webhook=${CUBIT_MANAGER_WEBHOOK_PORT:-19443}

# The webhook configurations of config/webhook, reached by URL on loopback
# instead of through the Service (there is no kube-proxy here). The manager
# issues the certificate for 127.0.0.1 and writes the caBundle itself.
sed -E "s#service: \{name: cubit-webhook, namespace: cubit-system, path: ([^,]+), port: 443\}#url: https://127.0.0.1:$webhook\1#" \
  "$repo/config/webhook/manifests.yaml" >"$state/webhook-local.yaml"
"${kubectl[@]}" apply -f "$state/webhook-local.yaml" >/dev/null

# The manager's settings: the test cluster's GPU profile (its fake GPU nodes
# carry every system's resources) and gang scheduler. CUBIT_MANAGER_CONFIG
# points at another file.
config=${CUBIT_MANAGER_CONFIG:-$repo/test/e2e/manager-config.yaml}
certs=$state/webhook-certs
log "starting cubit-manager (log: $state/manager.log)"
printf '\n==== %s starting cubit-manager from %s\n' "$(date -u +%FT%TZ)" "$build" >>"$state/manager.log"
# GNUTLS_NO_IMPLICIT_INIT as in the image (Dockerfile): GnuTLS, loaded through
# libcurl's LDAP, would initialize itself in the manager for nothing.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1} GNUTLS_NO_IMPLICIT_INIT=1 \
  setsid "$build/cubit-manager" --kubeconfig "$state/manager.kubeconfig" --leader-elect \
  --health-probe-bind-address "127.0.0.1:$health" --metrics-bind-address "127.0.0.1:$metrics" \
  --webhook-bind-address "127.0.0.1:$webhook" --webhook-cert-dir "$certs" --webhook-hosts 127.0.0.1 \
  --config "$config" -v "${CUBIT_MANAGER_V:-2}" ${CUBIT_MANAGER_ARGS:-} \
  </dev/null >>"$state/manager.log" 2>&1 &
echo $! >"$state/manager.pid"

for _ in $(seq 1 300); do
  if curl -fsS --max-time 1 "http://127.0.0.1:$health/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$(cat "$state/manager.pid")" 2>/dev/null; then
    log "cubit-manager exited; last lines of its log:"
    tail -n 40 "$state/manager.log" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS --max-time 1 "http://127.0.0.1:$health/readyz" >/dev/null || { log "cubit-manager not ready after 60s"; exit 1; }

if [[ ${CUBIT_SKIP_SAMPLES:-0} != 1 ]] && compgen -G "$repo/config/samples/*.yaml" >/dev/null; then
  log "applying config/samples"
  # Projects first: they make the namespaces the other samples live in.
  "${kubectl[@]}" apply -f "$repo/config/samples/project.yaml" >/dev/null
  "${kubectl[@]}" wait --for=condition=Ready projects --all --timeout=60s >/dev/null
  "${kubectl[@]}" apply -f "$repo/config/samples/" >/dev/null
fi
log "cubit-manager running (pid $(cat "$state/manager.pid")); readyz http://127.0.0.1:$health/readyz, metrics https://127.0.0.1:$metrics/metrics"
log "  scrape: curl --cacert $certs/ca.crt -H \"Authorization: Bearer \$(cat $state/metrics.token)\" https://127.0.0.1:$metrics/metrics"
log "kubectl: export KUBECONFIG=$state/kubeconfig"
