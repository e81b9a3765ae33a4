#!/usr/bin/env bash
# Start the local test control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok with fake nodes, the Kubeflow training operator) on 127.0.0.1,
# install the upstream CRDs, and write the admin kubeconfig to .cubit/local/kubeconfig.
#
# Idempotent: with everything up and unchanged it returns at once; after a crash it
# clears stale pid files and starts what is missing. Stop with kind/local/down.sh.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/proc.sh
. "$KL_DIR/lib/proc.sh"
# shellcheck source=lib/pki.sh
. "$KL_DIR/lib/pki.sh"
# shellcheck source=lib/crds.sh
. "$KL_DIR/lib/crds.sh"

t0=$(kl_now_ms)
mkdir -p "$KL_LOGS" "$KL_RUN"
# One up.sh at a time (ctest's fixture and a developer may race); a second one waits
# and then finds everything running. proc_start closes fd 8 in the daemons.
exec 8>"$KL_STATE/up.lock"
flock 8

# CUBIT_KIND_LOCAL_BIN points at already-built programs instead (e.g. a packaged set).
BIN=${CUBIT_KIND_LOCAL_BIN:-$("$KL_DIR/build.sh")}
export PATH="$BIN:$PATH"
KUBECTL=("$BIN/kubectl" --kubeconfig "$KL_KUBECONFIG")

WANT_TRAINING_OPERATOR=0
if [[ ${CUBIT_TRAINING_OPERATOR:-1} != 0 && -x $BIN/training-operator ]]; then
  WANT_TRAINING_OPERATOR=1
fi
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
((WANT_TRAINING_OPERATOR)) && components+=(training-operator)

# Everything that shapes the running cluster; a change restarts the components.
config_hash() {
  {
    printf '%s\n' "$BIN" "$ETCD_CLIENT_PORT $ETCD_PEER_PORT $APISERVER_PORT $KCM_PORT" \
      "$SCHEDULER_PORT $KWOK_PORT $TRAINING_OPERATOR_METRICS_PORT $TRAINING_OPERATOR_HEALTH_PORT" \
      "$SERVICE_CIDR $POD_CIDR $WANT_TRAINING_OPERATOR ${CUBIT_LOG_VERBOSITY:-1}" \
      "${CUBIT_TRAINING_OPERATOR_GANG:-}"
    cat "$KL_DIR/up.sh" "$KL_DIR"/lib/*.sh "$KL_DIR"/manifests/*
  } | sha256sum | cut -c1-16
}
HASH=$(config_hash)

apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$KL_PKI/ca.crt" --cert "$KL_PKI/admin.crt" \
    --key "$KL_PKI/admin.key" "https://$KL_HOST:$APISERVER_PORT/readyz" >/dev/null 2>&1
}

summary() {
  cat >&2 <<EOF
[kind/local] control plane up ($1)
  kubeconfig:  export KUBECONFIG=$KL_KUBECONFIG
  apiserver:   https://$KL_HOST:$APISERVER_PORT   etcd: http://$KL_HOST:$ETCD_CLIENT_PORT
  programs:    $BIN
  logs:        $KL_LOGS/*.log
  webhook TLS: $KL_PKI/webhook.{crt,key} (SAN 127.0.0.1), caBundle $KL_PKI/ca.crt
  stop:        kind/local/down.sh   (--purge also deletes the etcd data)
EOF
}

# Fast path: all running with the same configuration and the apiserver ready.
all_alive() { local c; for c in "${components[@]}"; do proc_alive "$c" || return 1; done; }
if [[ -f $KL_STATE/config-hash && $(<"$KL_STATE/config-hash") == "$HASH" ]] &&
  all_alive && [[ -f $KL_STATE/ready ]] && apiserver_ready; then
  summary "already running, checked in $(kl_elapsed "$t0")"
  exit 0
fi

# Something is missing or changed: stop what runs with another configuration, clear
# pid files of processes that died, then (re)start everything that is not running.
if [[ -f $KL_STATE/config-hash && $(<"$KL_STATE/config-hash") != "$HASH" ]]; then
  kl_log "configuration changed; restarting components (etcd data is kept)"
  "$KL_DIR/down.sh"
fi
for c in "${KL_COMPONENTS[@]}"; do proc_alive "$c" || rm -f "$KL_RUN/$c.pid"; done
rm -f "$KL_STATE/ready"

pki_ensure
pki_kubeconfig "$KL_KUBECONFIG" cubit-local-admin admin embed
for c in controller-manager scheduler kwok training-operator; do
  pki_kubeconfig "$KL_STATE/$c.kubeconfig" "$c" "$c"
done
printf '%s\n' "$HASH" >"$KL_STATE/config-hash"
V=${CUBIT_LOG_VERBOSITY:-1}

# --- etcd --------------------------------------------------------------------
# Test data only: fsync is skipped, which makes a 2-core CI machine much faster.
proc_start etcd "$ETCD_CLIENT_PORT" "$BIN/etcd" \
  --name=cubit-local --data-dir="$KL_STATE/etcd" \
  --listen-client-urls="http://$KL_HOST:$ETCD_CLIENT_PORT" \
  --advertise-client-urls="http://$KL_HOST:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://$KL_HOST:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://$KL_HOST:$ETCD_PEER_PORT" \
  --initial-cluster="cubit-local=http://$KL_HOST:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true --snapshot-count=10000 --quota-backend-bytes=$((4 << 30)) \
  --log-level=warn
proc_wait_for "etcd" 30 etcd curl -fsS --max-time 2 "http://$KL_HOST:$ETCD_CLIENT_PORT/health"

# --- kube-apiserver ---------------------------------------------------------
# No kube-proxy exists, so nothing may be reached through a Service IP: aggregated
# APIs and webhooks given as a Service go to endpoint (pod) IPs, which are loopback,
# and the `kubernetes` Service keeps no endpoints (127.0.0.1 is not allowed there).
proc_start kube-apiserver "$APISERVER_PORT" "$BIN/kube-apiserver" \
  --etcd-servers="http://$KL_HOST:$ETCD_CLIENT_PORT" \
  --bind-address="$KL_HOST" --advertise-address="$KL_HOST" --secure-port="$APISERVER_PORT" \
  --cert-dir="$KL_PKI/apiserver-generated" \
  --tls-cert-file="$KL_PKI/apiserver.crt" --tls-private-key-file="$KL_PKI/apiserver.key" \
  --client-ca-file="$KL_PKI/ca.crt" \
  --requestheader-client-ca-file="$KL_PKI/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$KL_PKI/front-proxy-client.crt" \
  --proxy-client-key-file="$KL_PKI/front-proxy-client.key" \
  --kubelet-client-certificate="$KL_PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$KL_PKI/apiserver-kubelet-client.key" \
  --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$KL_PKI/sa.pub" \
  --service-account-signing-key-file="$KL_PKI/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --allow-privileged=true \
  --enable-aggregator-routing=true \
  --endpoint-reconciler-type=none \
  --profiling=false \
  --v="$V"
proc_wait_for "kube-apiserver /readyz" 120 kube-apiserver apiserver_ready

# --- kube-controller-manager and kube-scheduler -------------------------------
proc_start kube-controller-manager "$KCM_PORT" "$BIN/kube-controller-manager" \
  --kubeconfig="$KL_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$KL_STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$KL_STATE/controller-manager.kubeconfig" \
  --bind-address="$KL_HOST" --secure-port="$KCM_PORT" \
  --cert-dir="$KL_PKI/kcm-generated" \
  --leader-elect=false \
  --controllers='*' \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$KL_PKI/sa.key" \
  --root-ca-file="$KL_PKI/ca.crt" \
  --cluster-signing-cert-file="$KL_PKI/ca.crt" --cluster-signing-key-file="$KL_PKI/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --cluster-name=cubit-local \
  --enable-hostpath-provisioner=true \
  --v="$V"

cat >"$KL_STATE/scheduler-config.yaml" <<EOF
# Written by kind/local/up.sh. Two profiles: pods asking for schedulerName "volcano"
# (Volcano Jobs, gang-scheduled TrainingJobs) are placed by the same default plugins.
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $KL_STATE/scheduler.kubeconfig
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: volcano
EOF
proc_start kube-scheduler "$SCHEDULER_PORT" "$BIN/kube-scheduler" \
  --config="$KL_STATE/scheduler-config.yaml" \
  --authentication-kubeconfig="$KL_STATE/scheduler.kubeconfig" \
  --authorization-kubeconfig="$KL_STATE/scheduler.kubeconfig" \
  --bind-address="$KL_HOST" --secure-port="$SCHEDULER_PORT" \
  --cert-dir="$KL_PKI/scheduler-generated" \
  --v="$V"

# --- upstream CRDs (kwok's Logs, ClusterLogs, PortForward, ClusterPortForward too: before kwok watches them) ---
crd_source=$(crds_collect "$KL_STATE/crds")
"${KUBECTL[@]}" apply --server-side --force-conflicts --field-manager=kind-local \
  -f "$KL_STATE/crds" >/dev/null
crd_args=()
for n in "${KL_CRD_NAMES[@]}"; do crd_args+=("crd/$n"); done
"${KUBECTL[@]}" wait --for=condition=Established --timeout=60s "${crd_args[@]}" >/dev/null
kl_log "upstream CRDs established (from $crd_source)"

# --- fake nodes and kwok --------------------------------------------------------
# Nodes are created with their status (capacity, GPU resources); kwok adds the rest.
"${KUBECTL[@]}" apply --server-side --force-conflicts --field-manager=kind-local \
  -f "$KL_DIR/manifests/nodes.yaml" -f "$KL_DIR/manifests/storageclass.yaml" >/dev/null
proc_start kwok "$KWOK_PORT" "$BIN/kwok" \
  --kubeconfig="$KL_STATE/kwok.kubeconfig" \
  --config="$KL_DIR/manifests/kwok-stages.yaml" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip="$KL_HOST" --node-port="$KWOK_PORT" --cidr="$POD_CIDR" \
  --node-lease-duration-seconds=40 \
  --server-address="$KL_HOST:$KWOK_PORT" \
  --enable-crds=Logs,ClusterLogs,PortForward,ClusterPortForward \
  -v=INFO

# --- Kubeflow training operator ---------------------------------------------------
if ((WANT_TRAINING_OPERATOR)); then
  TO_WEBHOOK_PORT=${CUBIT_TRAINING_OPERATOR_WEBHOOK_PORT:-16283}
  to_certs=$KL_PKI/training-operator-webhook.d
  mkdir -p "$to_certs"
  cp -f "$KL_PKI/training-operator-webhook.crt" "$to_certs/tls.crt"
  cp -f "$KL_PKI/training-operator-webhook.key" "$to_certs/tls.key"
  to_args=(
    --metrics-bind-address="$KL_HOST:$TRAINING_OPERATOR_METRICS_PORT"
    --health-probe-bind-address="$KL_HOST:$TRAINING_OPERATOR_HEALTH_PORT"
    --webhook-host="$KL_HOST" --webhook-port="$TO_WEBHOOK_PORT" --webhook-cert-dir="$to_certs"
    --kinds=TFJob,PyTorchJob,MPIJob,XGBoostJob,PaddleJob,JAXJob
  )
  [[ -n ${CUBIT_TRAINING_OPERATOR_GANG:-} ]] && to_args+=(--gang-scheduler-name="$CUBIT_TRAINING_OPERATOR_GANG")
  KUBECONFIG=$KL_STATE/training-operator.kubeconfig \
    proc_start training-operator "$TO_WEBHOOK_PORT" "$BIN/training-operator" "${to_args[@]}"
  proc_wait_for "training operator /readyz" 60 training-operator \
    curl -fsS --max-time 2 "http://$KL_HOST:$TRAINING_OPERATOR_HEALTH_PORT/readyz"
  # Its validating webhooks, reached by URL (upstream registers them for a Service).
  ca_bundle=$(base64 -w0 <"$KL_PKI/ca.crt")
  {
    printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n'
    printf 'metadata:\n  name: kind-local-training-operator\nwebhooks:\n'
    for k in tfjob pytorchjob xgboostjob paddlejob jaxjob; do
      cat <<EOF
- name: validator.$k.training-operator.kubeflow.org
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 10
  clientConfig:
    url: https://$KL_HOST:$TO_WEBHOOK_PORT/validate-kubeflow-org-v1-$k
    caBundle: $ca_bundle
  rules:
  - apiGroups: ["kubeflow.org"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["${k}s"]
EOF
    done
  } | "${KUBECTL[@]}" apply --server-side --force-conflicts --field-manager=kind-local -f - >/dev/null
else
  "${KUBECTL[@]}" delete validatingwebhookconfiguration kind-local-training-operator \
    --ignore-not-found >/dev/null
  if [[ -f $BIN/training-operator.failed ]]; then
    kl_log "training operator not available (build failed: $BIN/training-operator.failed)"
  fi
fi

# --- readiness ----------------------------------------------------------------------
node_names=$(awk '$1 == "name:" && prev ~ /^metadata:/ { print $2 } { prev = $0 }' \
  "$KL_DIR/manifests/nodes.yaml")
nodes_ready() {
  local out
  out=$("${KUBECTL[@]}" get nodes -l cubit.dev/fake-node=true \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')
  local n
  for n in $node_names; do grep -qx "$n=True" <<<"$out" || return 1; done
}
proc_wait_for "fake nodes Ready" 90 kwok nodes_ready
proc_wait_for "the default ServiceAccount" 60 kube-controller-manager \
  "${KUBECTL[@]}" get serviceaccount default -n default
for c in "${components[@]}"; do proc_expect_alive "$c"; done
printf '%s\n' "$HASH" >"$KL_STATE/ready"
summary "started in $(kl_elapsed "$t0")"
