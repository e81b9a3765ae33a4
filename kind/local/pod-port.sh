#!/usr/bin/env bash
# Give a fake pod's port somewhere to go on kind/local: where a port-forward to it (the
# API's pods/portforward, which the API server passes to kwok) is connected.
#
#   kind/local/pod-port.sh [-n NAMESPACE] POD PORT [ADDRESS:TARGET_PORT]
#       applies the kwok `PortForward` object, named like the pod, that makes kwok
#       connect a forward of the pod's PORT to ADDRESS:TARGET_PORT (default: the pod's
#       IP and PORT, where a test may run a real server: pod IPs are loopback addresses).
#
# kwok runs no program, so nothing listens on a fake pod's port; a test starts the
# server itself. kwok learns of the object through a watch, within a second or so: a
# forward opened before that fails with kwok's `no forward found for port PORT in pod`
# on the stream's error channel. Deleting the pod's namespace deletes the object.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ns=default
args=()
while (($#)); do
  case $1 in
    -n) ns=$2; shift 2 ;;
    -*) kl_die "pod-port.sh: unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
((${#args[@]} == 2 || ${#args[@]} == 3)) ||
  kl_die "usage: pod-port.sh [-n NAMESPACE] POD PORT [ADDRESS:TARGET_PORT]"
pod=${args[0]} port=${args[1]} target=${args[2]:-}
BIN=${CUBIT_KIND_LOCAL_BIN:-$("$KL_DIR/build.sh" --print)}
kubectl=("$BIN/kubectl" --kubeconfig "$KL_KUBECONFIG")
if [[ -z $target ]]; then
  ip=$("${kubectl[@]}" get pod -n "$ns" "$pod" -o jsonpath='{.status.podIP}')
  [[ -n $ip ]] || kl_die "pod-port.sh: $ns/$pod has no IP yet"
  target=$ip:$port
fi
address=${target%:*} target_port=${target##*:}
[[ $port =~ ^[0-9]+$ && $target_port =~ ^[0-9]+$ && -n $address ]] ||
  kl_die "pod-port.sh: want PORT and ADDRESS:TARGET_PORT, got $port $target"
"${kubectl[@]}" apply --server-side --force-conflicts --field-manager=kind-local-pod-port -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: "$pod", namespace: "$ns"}
spec:
  forwards:
  - ports: [$port]
    target: {address: "$address", port: $target_port}
EOF
printf '%s\n' "$address:$target_port"
