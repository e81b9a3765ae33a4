#!/usr/bin/env bash
# Logs and events of a TrainingJob placed on a member cluster come back to the hub
# (docs/multicluster.md#logs-and-events-of-placed-objects): a Project spanning the
# member and the hub, a batch TrainingJob placed there by the Ordered policy; its member
# pod's log lines (kwok serves them) are read with `kubectl cubit logs` on the hub by a
# project member's token, through the manager (its user never reaches the member), and
# followed (-f) with each line once; a user who may read the job but not its pods is
# refused by the manager (403 naming the missing permission), and so is a stranger
# asking the endpoint directly; a job pinned to the member whose pod cannot be scheduled
# there has the member's FailedScheduling as one Warning event on the hub TrainingJob.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. The member uses CUBIT_MEMBER_PORT_BASE + 0..8 and is purged
# at the end.
set -euo pipefail
tag=multicluster-logs
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-logs-member
cluster=e2e-mclogs-member
secret=e2e-mclogs-member-kubeconfig
project=e2e-mclogs-project
ns=e2e-mclogs-team
job=e2e-mclogs-train
stuck=e2e-mclogs-stuck
build=${CUBIT_BUILD_DIR:-$repo/build}
ninja -C "$build" kubectl-cubit >/dev/null
work=$(mktemp -d)
# The manager's endpoint directly (the manager runs beside the cluster here; installed,
# the CLI goes through the API server's service proxy to the cubit-webhook Service).
export CUBIT_MANAGER_URL=https://127.0.0.1:${CUBIT_MANAGER_WEBHOOK_PORT:-19443}
export CUBIT_MANAGER_CA=$state/webhook-certs/ca.crt
cubit() { "$build/kubectl-cubit" --kubeconfig "$state/kubeconfig" -n "$ns" "$@"; }
fpid=""

cleanup() {
  [[ -z $fpid ]] || kill "$fpid" 2>/dev/null || true
  mc_cleanup trainingjobs
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get trainingjob -o yaml >&2 2>/dev/null | tail -n 60 || true
  grep -E "$job|$stuck|member-logs|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up
member_state=$(dirname "$member_kubeconfig")

tfield() { "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o jsonpath="{$1}" 2>/dev/null; }

mc_join "clusters: [{name: $cluster}, {name: local}]
members:
  - {kind: ServiceAccount, name: '$ns:reader', role: view}"

# reader: a project member (view: pods and pods/log). outsider: may read TrainingJobs in
# the namespace, not pods. stranger: nothing at all.
"${kubectl[@]}" -n "$ns" create serviceaccount reader >/dev/null
"${kubectl[@]}" -n "$ns" create serviceaccount outsider >/dev/null
"${kubectl[@]}" -n "$ns" create role tj-only --verb=get,list --resource=trainingjobs.cubit.dev >/dev/null
"${kubectl[@]}" -n "$ns" create rolebinding outsider-tj-only --role=tj-only --serviceaccount="$ns:outsider" >/dev/null
"${kubectl[@]}" -n "$ns" create serviceaccount stranger >/dev/null
reader=$("${kubectl[@]}" -n "$ns" create token reader --duration=1h)
outsider=$("${kubectl[@]}" -n "$ns" create token outsider --duration=1h)
stranger=$("${kubectl[@]}" -n "$ns" create token stranger --duration=1h)

"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $job, namespace: $ns}
spec:
  framework: batch
  image: busybox
  command: [sh, -c, "sleep 3600"]
  podMetadata: {annotations: {cubit.dev/fake-outcome: run}}
  placement: {policy: Ordered}
  roles: {main: {replicas: 1, resources: {cpu: 100m, memory: 64Mi}}}
---
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $stuck, namespace: $ns}
spec:
  framework: batch
  image: busybox
  cluster: $cluster
  roles: {main: {replicas: 1, resources: {cpu: "4000", memory: 64Mi}}}
YAML
running() { [[ $(tfield .status.phase) == Running && $(tfield .status.pods.running) == 1 ]]; }
wait_for 60 "Running on the member" running
[[ $(tfield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(tfield .status.cluster)', not $cluster"
! "${kubectl[@]}" -n "$ns" get pods -l "cubit.dev/trainingjob=$job" -o name | grep -q . || fail "a pod of $job in the hub"
pod=$("${mkubectl[@]}" -n "$ns" get pods -l "cubit.dev/trainingjob=$job" -o jsonpath='{.items[0].metadata.name}')
[[ -n $pod ]] || fail "no pod of $job in the member"
printf 'epoch 1 loss 0.9\nepoch 2 loss 0.5\n' | CUBIT_LOCAL_STATE=$member_state "$repo/kind/local/pod-log.sh" -n "$ns" "$pod"

# The log, read on the hub.
cubit --token "$reader" logs "$job" >"$work/out" 2>"$work/err" || fail "logs: $(cat "$work/err")"
[[ $(cat "$work/out") == $'epoch 1 loss 0.9\nepoch 2 loss 0.5' ]] || fail "logs printed: $(cat "$work/out")"
say "the member pod's log read on the hub: $(tr '\n' '|' <"$work/out")"

# Followed: a line added later shows once, the earlier ones are not repeated.
cubit --token "$reader" logs -f "$job" >"$work/follow" 2>&1 &
fpid=$!
followed() { grep -q "epoch 1" "$work/follow"; }
wait_for 20 "the follower's first lines" followed
printf 'epoch 3 loss 0.2\n' | CUBIT_LOCAL_STATE=$member_state "$repo/kind/local/pod-log.sh" -n "$ns" "$pod"
followed3() { grep -q "epoch 3" "$work/follow"; }
wait_for 20 "the line added later, followed" followed3
sleep 3 # two more polls: nothing repeats
kill "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
fpid=""
[[ $(grep -c "epoch 1" "$work/follow") == 1 && $(grep -c "epoch 3" "$work/follow") == 1 ]] ||
  fail "followed lines repeated: $(cat "$work/follow")"

# Refusals: the manager asks the hub what kubectl logs would need.
if cubit --token "$outsider" logs "$job" >"$work/out" 2>"$work/err"; then fail "the outsider read the logs"; fi
grep -q "may not list pods in namespace $ns on the hub" "$work/err" || fail "the outsider's refusal: $(cat "$work/err")"
say "outsider refused: $(tail -n 1 "$work/err")"
code=$(curl -s -o "$work/body" -w '%{http_code}' --cacert "$CUBIT_MANAGER_CA" -H "Authorization: Bearer $stranger" \
  "$CUBIT_MANAGER_URL/cluster-logs/v1/namespaces/$ns/trainingjobs/$job/pods/$pod/log")
[[ $code == 403 ]] && grep -q "may not get pods/log in namespace $ns" "$work/body" ||
  fail "the stranger got $code: $(cat "$work/body")"
code=$(curl -s -o "$work/body" -w '%{http_code}' --cacert "$CUBIT_MANAGER_CA" \
  "$CUBIT_MANAGER_URL/cluster-logs/v1/namespaces/$ns/trainingjobs/$job/pods")
[[ $code == 401 ]] || fail "no token got $code: $(cat "$work/body")"
say "a stranger refused (403), no token refused (401)"

# The member's FailedScheduling, one Warning on the hub object.
relayed() {
  "${kubectl[@]}" -n "$ns" get events --field-selector "involvedObject.name=$stuck,reason=FailedScheduling" \
    -o jsonpath='{range .items[*]}{.type} {.count} {.message}{"\n"}{end}' 2>/dev/null >"$work/events"
  grep -q "^Warning 1 cluster $cluster: Pod $stuck-" "$work/events"
}
wait_for 45 "the member's FailedScheduling on the hub TrainingJob" relayed
say "relayed: $(head -n 1 "$work/events")"
sleep 3 # the member repeats its event; the hub says it once
relayed || fail "the relayed event changed: $(cat "$work/events")"
[[ $(wc -l <"$work/events") == 1 ]] || fail "more than one relayed event: $(cat "$work/events")"
say "PASS in $(($(date +%s) - t_start))s"
