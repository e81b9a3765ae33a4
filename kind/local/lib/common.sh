# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings are used by the scripts that source this file
# Shared settings for kind/local/*.sh. Sourced, never run.
#
# Every port and path can be overridden from the environment; the defaults keep clear
# of the usual 2379/6443/10257/10259 so a real cluster on the same machine is untouched.

KL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$KL_DIR/../.." && pwd)

CUBIT_CACHE_DIR=${CUBIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cubit}
KL_STATE=${CUBIT_LOCAL_STATE:-$REPO/.cubit/local}
KL_LOGS=$KL_STATE/logs
KL_RUN=$KL_STATE/run
KL_PKI=$KL_STATE/pki
KL_KUBECONFIG=$KL_STATE/kubeconfig

KL_HOST=127.0.0.1
ETCD_CLIENT_PORT=${CUBIT_ETCD_CLIENT_PORT:-23790}
ETCD_PEER_PORT=${CUBIT_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${CUBIT_APISERVER_PORT:-16443}
KCM_PORT=${CUBIT_KCM_PORT:-16257}
SCHEDULER_PORT=${CUBIT_SCHEDULER_PORT:-16259}
KWOK_PORT=${CUBIT_KWOK_PORT:-16280}
TRAINING_OPERATOR_METRICS_PORT=${CUBIT_TRAINING_OPERATOR_METRICS_PORT:-16281}
TRAINING_OPERATOR_HEALTH_PORT=${CUBIT_TRAINING_OPERATOR_HEALTH_PORT:-16282}
# Service ClusterIPs are only ever allocated, never dialled: there is no kube-proxy.
SERVICE_CIDR=${CUBIT_SERVICE_CIDR:-10.96.0.0/16}
# Pod IPs handed out by kwok: inside 127.0.0.0/8, so any pod IP is the loopback host.
POD_CIDR=${CUBIT_POD_CIDR:-127.1.0.0/16}

kl_log() { printf '[kind/local] %s\n' "$*" >&2; }
kl_die() { printf '[kind/local] error: %s\n' "$*" >&2; exit 1; }

# Milliseconds since the epoch, for the timings the scripts print.
kl_now_ms() { date +%s%3N; }
kl_elapsed() { # start_ms -> "12.3s"
  local d=$(( $(kl_now_ms) - $1 ))
  printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100))
}
