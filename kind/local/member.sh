#!/usr/bin/env bash
# A second local control plane beside the first: a member cluster for multi-cluster
# tests (docs/multicluster.md). It is kind/local/up.sh with its own state directory,
# its own ports and its own pod CIDR, so the two never share a process, a port or a
# byte of state; the member's admin kubeconfig (certificates embedded) is what the hub
# holds in a Secret.
#
#   kind/local/member.sh up [NAME]          start (or find) member NAME (default member-1)
#   kind/local/member.sh down [NAME]        stop its processes, keep its data
#   kind/local/member.sh purge [NAME]       stop and delete its state directory
#   kind/local/member.sh stop-apiserver [NAME]   stop only its API server (a fault)
#   kind/local/member.sh kubeconfig [NAME]  print the path of its admin kubeconfig
#   kind/local/member.sh secret [NAME] [NAMESPACE] [SECRET]
#                                           print a Secret (YAML) holding that
#                                           kubeconfig under the key "kubeconfig"
#   kind/local/member.sh hub-secret [NAME] [NAMESPACE] [SECRET]
#                                           the same, but with the hub's identity a
#                                           member's admin makes (docs/multicluster.md):
#                                           config/member/hub-access.yaml applied in the
#                                           member, a token for its ServiceAccount
#                                           (CUBIT_MEMBER_TOKEN_DURATION, default 2h)
#
# Ports: CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 for etcd client and peer,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok and the training
# operator's three; pod CIDR CUBIT_MEMBER_POD_CIDR (default 127.59.0.0/16). The
# training operator is left out (CUBIT_MEMBER_TRAINING_OPERATOR=1 adds it): its CRDs
# are installed all the same, which is what a hub discovers. `up` is bounded by
# CUBIT_MEMBER_UP_TIMEOUT seconds (default 240).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

cmd=${1:-}
name=${2:-member-1}
[[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || {
  echo "[kind/local/member] error: NAME \"$name\" must be a DNS label" >&2
  exit 2
}

base=${CUBIT_MEMBER_PORT_BASE:-17440}
[[ $base =~ ^[0-9]+$ ]] && ((base >= 1024 && base <= 65526)) || {
  echo "[kind/local/member] error: CUBIT_MEMBER_PORT_BASE=$base is not a port from 1024 to 65526" >&2
  exit 2
}

# Everything up.sh and down.sh read, set for the member alone: the hub's own
# CUBIT_* variables (from a worktree's env file) must not leak into it.
member_env() {
  export CUBIT_LOCAL_STATE=${CUBIT_MEMBER_STATE_ROOT:-$repo/.cubit}/$name
  export CUBIT_ETCD_CLIENT_PORT=$base CUBIT_ETCD_PEER_PORT=$((base + 1))
  export CUBIT_APISERVER_PORT=$((base + 2)) CUBIT_KCM_PORT=$((base + 3))
  export CUBIT_SCHEDULER_PORT=$((base + 4)) CUBIT_KWOK_PORT=$((base + 5))
  export CUBIT_TRAINING_OPERATOR_METRICS_PORT=$((base + 6))
  export CUBIT_TRAINING_OPERATOR_HEALTH_PORT=$((base + 7))
  export CUBIT_TRAINING_OPERATOR_WEBHOOK_PORT=$((base + 8))
  export CUBIT_POD_CIDR=${CUBIT_MEMBER_POD_CIDR:-127.59.0.0/16}
  export CUBIT_TRAINING_OPERATOR=${CUBIT_MEMBER_TRAINING_OPERATOR:-0}
  unset KUBECONFIG
}

case $cmd in
  up)
    member_env
    mkdir -p "$CUBIT_LOCAL_STATE"
    timeout --kill-after=10 "${CUBIT_MEMBER_UP_TIMEOUT:-240}" "$here/up.sh" || {
      rc=$?
      echo "[kind/local/member] error: $name did not come up (exit $rc); logs in $CUBIT_LOCAL_STATE/logs" >&2
      exit "$rc"
    }
    ;;
  down)
    member_env
    [[ -d $CUBIT_LOCAL_STATE ]] || exit 0
    "$here/down.sh"
    ;;
  purge)
    member_env
    [[ -d $CUBIT_LOCAL_STATE ]] || exit 0
    "$here/down.sh" --purge
    ;;
  stop-apiserver)
    member_env
    # shellcheck source=lib/common.sh
    . "$here/lib/common.sh"
    # shellcheck source=lib/proc.sh
    . "$here/lib/proc.sh"
    proc_stop kube-apiserver 5 # it drains for a while on SIGTERM; a fault need not wait
    rm -f "$KL_STATE/ready"
    ;;
  kubeconfig)
    member_env
    [[ -f $CUBIT_LOCAL_STATE/kubeconfig ]] || {
      echo "[kind/local/member] error: $name has no kubeconfig yet (run: $0 up $name)" >&2
      exit 1
    }
    printf '%s\n' "$CUBIT_LOCAL_STATE/kubeconfig"
    ;;
  secret | hub-secret)
    member_env
    ns=${3:-cubit-system}
    secret=${4:-cluster-$name-kubeconfig}
    [[ -f $CUBIT_LOCAL_STATE/kubeconfig ]] || {
      echo "[kind/local/member] error: $name has no kubeconfig yet (run: $0 up $name)" >&2
      exit 1
    }
    kubeconfig=$(base64 -w0 <"$CUBIT_LOCAL_STATE/kubeconfig")
    if [[ $cmd == hub-secret ]]; then
      # What docs/multicluster.md tells a member's admin to do, from the same file.
      kc=("$("$here/build.sh" --print)/kubectl" --kubeconfig "$CUBIT_LOCAL_STATE/kubeconfig")
      "${kc[@]}" apply -f "$repo/config/member/hub-access.yaml" >/dev/null
      token=$("${kc[@]}" -n cubit-hub create token cubit-hub --duration="${CUBIT_MEMBER_TOKEN_DURATION:-2h}")
      server=$("${kc[@]}" config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
      ca=$("${kc[@]}" config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
      [[ -n $token && -n $server && -n $ca ]] || {
        echo "[kind/local/member] error: no token, server or CA for $name's hub identity" >&2
        exit 1
      }
      kubeconfig=$(base64 -w0 <<KC
apiVersion: v1
kind: Config
clusters:
- name: $name
  cluster: {server: "$server", certificate-authority-data: $ca}
users:
- name: cubit-hub
  user: {token: $token}
contexts:
- name: cubit-hub@$name
  context: {cluster: $name, user: cubit-hub}
current-context: cubit-hub@$name
KC
)
    fi
    cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: $secret
  namespace: $ns
  labels:
    cubit.dev/cluster: $name
type: Opaque
data:
  kubeconfig: $kubeconfig
EOF
    ;;
  *)
    sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
