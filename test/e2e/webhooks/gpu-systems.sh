#!/usr/bin/env bash
# The GPU grammar through each of the four GPU-sharing systems: the manager is
# restarted with each profile, a pod asking for "0.5(A100)" (whole-card
# systems: "1(V100)") is translated by the mutating webhook into that system's
# resources and placed by the real scheduler on the fake GPU node of the
# requested model. Restores the default manager at the end.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
work=$(mktemp -d)
restore() {
  kubectl delete project -l cubit.dev/e2e=gpu-systems --wait=false >/dev/null 2>&1 || true
  CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >/dev/null 2>&1 || echo "WARN: could not restore the default manager" >&2
  rm -rf "$work"
}
trap restore EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$state/manager.log" >&2; exit 1; }

profile() { # system -> config file
  cat >"$work/$1.yaml" <<YAML
gpu:
  system: $1
  modelLabel: nvidia.com/gpu.product
  models:
    A100: {memory: 80Gi}
    V100: {memory: 32Gi}
gang:
  scheduler: volcano
YAML
  echo "$work/$1.yaml"
}

run_case() { # system gpu-string node expected-limits(json)
  local sys=$1 gpu=$2 node=$3 want=$4 ns=e2e-gpu-$1
  CUBIT_MANAGER_CONFIG=$(profile "$sys") CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >/dev/null 2>&1 ||
    fail "manager did not start with the $sys profile"
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: $ns, labels: {cubit.dev/e2e: gpu-systems}}
spec: {namespaces: [$ns], deletionPolicy: Delete}
YAML
  kubectl wait --for=condition=Ready "project/$ns" --timeout=60s >/dev/null || fail "project $ns not ready"
  cat <<YAML | kubectl apply -f - >/dev/null || fail "$sys: pod with $gpu refused"
apiVersion: v1
kind: Pod
metadata: {name: frac, namespace: $ns, annotations: {cubit.dev/gpu: "$gpu"}}
spec: {containers: [{name: main, image: registry.example.com/ml/infer:1}]}
YAML
  kubectl wait --for=jsonpath='{.status.phase}'=Running -n "$ns" pod/frac --timeout=60s >/dev/null ||
    fail "$sys: pod not running: $(kubectl get pod -n "$ns" frac -o jsonpath='{.status.conditions}')"
  local limits placed
  limits=$(kubectl get pod -n "$ns" frac -o jsonpath='{.spec.containers[0].resources.limits}')
  placed=$(kubectl get pod -n "$ns" frac -o jsonpath='{.spec.nodeName}')
  python3 - "$limits" "$want" <<'PY' || fail "$sys: limits $limits, want $want"
import json, sys
have, want = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.exit(0 if all(have.get(k) == v for k, v in want.items()) and "cubit.dev/gpu" not in have else 1)
PY
  [[ $placed == "$node" ]] || fail "$sys: placed on $placed, want $node"
  echo "ok: $sys $gpu -> $limits on $placed"
  kubectl delete project "$ns" --wait=false >/dev/null
}

run_case hami "0.5(A100)" gpu-a100-1 \
  '{"nvidia.com/gpu":"1","nvidia.com/gpucores":"50","nvidia.com/gpumem":"40960"}'
run_case volcano-vgpu "0.5(A100)" gpu-a100-1 \
  '{"volcano.sh/vgpu-number":"1","volcano.sh/vgpu-cores":"50","volcano.sh/vgpu-memory":"40960"}'
run_case vcuda "0.5(A100)" gpu-a100-1 \
  '{"tencent.com/vcuda-core":"50","tencent.com/vcuda-memory":"160"}'
run_case nvidia "1(V100)" gpu-v100-1 '{"nvidia.com/gpu":"1"}'

# Whole cards refuse a fraction, with the reason.
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: e2e-gpu-whole, labels: {cubit.dev/e2e: gpu-systems}}
spec: {namespaces: [e2e-gpu-whole], deletionPolicy: Delete}
YAML
kubectl wait --for=condition=Ready project/e2e-gpu-whole --timeout=60s >/dev/null
if out=$(cat <<YAML | kubectl apply -f - 2>&1
apiVersion: v1
kind: Pod
metadata: {name: frac, namespace: e2e-gpu-whole, annotations: {cubit.dev/gpu: "0.5"}}
spec: {containers: [{name: main, image: x}]}
YAML
); then fail "nvidia profile admitted a fraction"; fi
grep -q 'allocates whole cards' <<<"$out" || fail "unexpected refusal: $out"
echo "ok: nvidia refuses 0.5: ${out#*denied the request: }"
echo PASS
