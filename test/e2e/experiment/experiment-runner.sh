#!/usr/bin/env bash
# The trial runner alone, without an Experiment controller: three TrainingJobs made by
# hand like trials of Experiment "hand" (labels cubit.dev/experiment and cubit.dev/trial,
# the assignment in cubit.dev/trial-parameters) run at the same time; trial-runner.py
# serves each pod the known function of its parameters as its log before kwok completes
# it, then ends the log. Asserts each pod's log through the API (kubectl logs), that no
# line came late, that the runner stopped by itself, and that `logs -f` of a served
# pod returns.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig KUBECTL=$bin/kubectl
kubectl() { "$bin/kubectl" "$@"; }
ns=e2e-exprun
work=$(mktemp -d)
runner=""
cleanup() {
  [[ -z $runner ]] || kill "$runner" 2>/dev/null || true
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work" "$state/pod-logs/$ns"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
t0=$(date +%s)

kubectl delete namespace "$ns" --ignore-not-found --wait=true --timeout=120s >/dev/null
rm -rf "$state/pod-logs/$ns"
kubectl create namespace "$ns" >/dev/null

# f = ((x - 1.5) / 2)^2 + ((y + 0.5) / 2)^2 + (opt != adam), 3 steps per trial.
declare -A params=(
  [1]='{"x": 1.5, "y": -0.5, "opt": "adam"}'
  [2]='{"x": -2.5, "y": 1.5, "opt": "adam"}'
  [3]='{"x": 3.5, "y": -0.5, "opt": "sgd"}'
)
declare -A want=([1]=0 [2]=5 [3]=2)
python3 "$repo/test/e2e/experiment/trial-runner.py" -n "$ns" --experiment hand \
  --optimum x=1.5/2,y=-0.5/2,opt=adam --steps 3 --pods 3 --timeout 120 \
  --record "$work/record" 2>"$work/runner.err" &
runner=$!
for n in 1 2 3; do
  cat <<YAML
---
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata:
  name: hand-$n
  labels: {cubit.dev/experiment: hand, cubit.dev/trial: "$n"}
  annotations: {cubit.dev/trial-parameters: '${params[$n]}'}
spec:
  framework: batch
  image: busybox
  podMetadata: {annotations: {cubit.dev/fake-duration-seconds: "8"}}
  roles: {main: {}}
YAML
done | kubectl apply -n "$ns" -f - >/dev/null

# A follower of trial 1's log, started while it runs, returns once the runner ended
# the log (as a kubelet ends it when the container exits).
for _ in $(seq 60); do
  pod1=$(kubectl get pods -n "$ns" -l cubit.dev/trainingjob=hand-1 -o jsonpath='{.items[0].metadata.name}')
  [[ -n $pod1 ]] && kubectl logs -n "$ns" "$pod1" 2>/dev/null | grep -q '^step=1 ' && break
  sleep 0.5
done
kubectl logs -n "$ns" "$pod1" 2>/dev/null | grep -q '^step=1 ' || fail "trial 1's pod [$pod1] got no output within 30 s"
timeout 60 "$bin/kubectl" logs -f -n "$ns" "$pod1" >"$work/follow" 2>&1 &
follower=$!
for n in 1 2 3; do
  kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Succeeded "tj/hand-$n" --timeout=120s >/dev/null ||
    fail "hand-$n did not succeed: $(kubectl get tj -n "$ns" "hand-$n" -o jsonpath='{.status}')"
done
set +e
wait "$runner"
code=$?
set -e
runner=""
[[ $code == 0 ]] || { cat "$work/runner.err" >&2; fail "trial-runner.py exited $code, want 0 (it stops by itself after 3 pods)"; }

python3 - "$work/record" <<'PY' || fail "the runner's record is wrong"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3, f"want 3 served pods, saw {len(rows)}: {rows}"
want = {"1": 0.0, "2": 5.0, "3": 2.0}
for r in rows:
    assert not r["late"] and not r["gone"] and r["written"] == 3, f"pod {r['pod']} not served in time: {r}"
    assert abs(r["value"] - want[r["trial"]]) < 1e-9, f"trial {r['trial']}: value {r['value']}, want {want[r['trial']]}"
PY

for n in 1 2 3; do
  pod=$(kubectl get pods -n "$ns" -l cubit.dev/trainingjob=hand-$n -o jsonpath='{.items[0].metadata.name}')
  [[ -n $pod ]] || fail "hand-$n has no pod"
  kubectl logs -n "$ns" "$pod" >"$work/log-$n" || fail "kubectl logs $pod failed"
  f=${want[$n]}
  expect=$(python3 -c "
f=$f
print('\n'.join('step=%d loss=%.10g' % (s, f if s == 3 else f + (f + 1) * (3 - s) / (3 * s)) for s in (1, 2, 3)))")
  [[ $(<"$work/log-$n") == "$expect" ]] ||
    fail "log of $pod (trial $n, f=$f) is:
$(<"$work/log-$n")
want:
$expect"
done
set +e
wait "$follower"
code=$?
set -e
[[ $code != 124 ]] || fail "logs -f $pod1 did not return after its pod ended"
# What it printed: the whole log, then kwok's complaint about the ended file.
[[ $(head -n 3 "$work/follow") == "$(<"$work/log-1")" ]] ||
  fail "logs -f $pod1 printed:
$(<"$work/follow")
want first:
$(<"$work/log-1")"
echo "PASS ($(($(date +%s) - t0)) s)"
