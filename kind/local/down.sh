#!/usr/bin/env bash
# Stop the local test control plane started by up.sh.
#
#   kind/local/down.sh           stop every process (by pid file), keep state and data
#   kind/local/down.sh --purge   also delete .cubit/local (etcd data, certificates, logs)
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/proc.sh
. "$KL_DIR/lib/proc.sh"

purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  "") ;;
  *) kl_die "usage: $0 [--purge]" ;;
esac

# Everything that talks to the apiserver at once, then the apiserver, then etcd.
for c in "${KL_COMPONENTS[@]}"; do
  [[ $c == etcd || $c == kube-apiserver ]] || proc_stop "$c" &
done
wait
proc_stop kube-apiserver
proc_stop etcd
rm -f "$KL_STATE/ready"

if ((purge)); then
  case $KL_STATE in
    */.cubit/local | "${CUBIT_LOCAL_STATE:-}") rm -rf "$KL_STATE" ;;
    *) kl_die "refusing to purge unexpected state dir $KL_STATE" ;;
  esac
  kl_log "purged $KL_STATE"
else
  kl_log "stopped; state kept in $KL_STATE (down.sh --purge deletes it)"
fi
