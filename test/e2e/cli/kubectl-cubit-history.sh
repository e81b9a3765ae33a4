#!/usr/bin/env bash
# kubectl cubit usage and history against the real recorder (docs/cli.md#usage-and-history,
# docs/history.md): the manager is restarted with --history-db and the history API (as
# test/e2e/history/history.sh does); a TrainingJob with one A100 card runs 6 s; with a
# project member's ServiceAccount token (--token), `history` lists it (table, -o json)
# and `usage` measures its GPU-seconds (by GPU model as CSV, by week as JSON, the table
# with its total); a stranger's token is refused (403, exit 4), a user without a bearer
# token is told so (exit 2); the token repeated in X-Cubit-Authorization (the service
# proxy's way) is accepted; the default route, the API server's service proxy, names
# itself when there is no cubit-history Service. The manager is restored at the end.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
build=${CUBIT_BUILD_DIR:-$repo/build}
export KUBECONFIG=$state/kubeconfig
[[ -f $state/ready ]] || { echo "the local control plane is not up (kind/local/up.sh)" >&2; exit 2; }
kubectl() { "$bin/kubectl" "$@"; }
ninja -C "$build" kubectl-cubit >/dev/null || exit 1

P=e2e-cli-hist NS=e2e-cli-hist OTHER=e2e-cli-hist-other
port=${CUBIT_HISTORY_PORT:-$((${CUBIT_MANAGER_WEBHOOK_PORT:-9443} + 1))}
db=$state/history-cli-e2e.db
hist_args="--history-db $db --history-bind-address 127.0.0.1:$port"
work=$(mktemp -d)
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
equals() { if [[ $3 == "$2" ]]; then ok "$1: $3"; else nok "$1: got [$3], want [$2]"; fi; }
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else nok "$1: $(basename "$2") lacks [$3]:"; cat "$2"; fi; }
# The history API directly, its certificate the manager's own (the webhook pair).
export CUBIT_HISTORY_URL=https://127.0.0.1:$port CUBIT_HISTORY_CA=$state/webhook-certs/ca.crt
cubit() { "$build/kubectl-cubit" "$@"; }
# shellcheck source=../history/common.bash
. "$repo/test/e2e/history/common.bash"

cleanup() {
  kubectl delete project "$P" --wait=false >/dev/null 2>&1
  kubectl delete namespace "$OTHER" --wait=false >/dev/null 2>&1
  manager_up "$work/up"
  drop_finalizers
  rm -rf "$work"
}
trap cleanup EXIT

rm -f "$db" "$db-wal" "$db-shm"
manager_up "$work/up" $hist_args
kubectl create namespace "$OTHER" >/dev/null 2>&1
kubectl -n "$OTHER" create serviceaccount stranger >/dev/null 2>&1
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: $P}
spec:
  namespaces: [$NS]
  deletionPolicy: Delete
  members:
    - {kind: ServiceAccount, name: "$NS:reader", role: view}
YAML
kubectl wait --for=condition=Ready "project/$P" --timeout=60s >/dev/null || { nok "project $P not Ready"; exit 1; }
kubectl -n "$NS" create serviceaccount reader >/dev/null 2>&1
member=$(kubectl -n "$NS" create token reader --duration=1h)
stranger=$(kubectl -n "$OTHER" create token stranger --duration=1h)
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: hist, namespace: $NS}
spec:
  framework: batch
  image: busybox
  podMetadata:
    annotations: {cubit.dev/fake-duration-seconds: "6"}
  roles: {main: {replicas: 1, resources: {cpu: "1", gpu: "1(A100)"}}}
YAML
for _ in $(seq 150); do
  [[ $(cubit --token "$member" history --project "$P" -o json 2>/dev/null | jq -r '.items[0].phase') == Succeeded ]] && break
  sleep 1
done
cubit --token "$member" history --project "$P" >"$work/history" 2>&1
equals "history: exit code" 0 $?
has "history lists the run, Succeeded, 1 GPU" "$work/history" "TrainingJob  $NS/hist"
equals "history: its row" "TrainingJob $NS/hist $P Succeeded 1" \
  "$(awk 'NR == 2 {print $1, $2, $3, $5, $6}' "$work/history")"
equals "history -o json: one run" 1 "$(cubit --token "$member" history --project "$P" -o json | jq '.items | length')"
equals "history --kind plr: none" "(no runs)" "$(cubit --token "$member" history --project "$P" --kind plr)"
secs=$(cubit --token "$member" history --project "$P" -o json | jq -r '.items[0] | .finishedAt - .createdAt')
cubit --token "$member" usage --project "$P" --by gpu-model -o csv >"$work/csv"
equals "usage -o csv: header" "gpu-model,gpuHours,cpuHours,gpuMilliSeconds,runs" "$(head -n1 "$work/csv")"
row=$(sed -n 2p "$work/csv")
ms=$(cut -d, -f4 <<<"$row")
if [[ ${row%%,*} == A100 && $(cut -d, -f5 <<<"$row") == 1 ]] && ((ms >= 4000 && ms <= 15000)); then
  ok "usage -o csv: A100, ${ms} GPU-milli-seconds (the pod's ~6 s x 1 card), 1 run"
else
  nok "usage -o csv: [$row] (run lasted ${secs}s)"
fi
equals "usage --by week -o json" "week 1" \
  "$(cubit --token "$member" usage --project "$P" --by week -o json | jq -r '"\(.by) \(.items | length)"')"
cubit --token "$member" usage --project "$P" >"$work/usage"
has "usage: the table's total" "$work/usage" "TOTAL"
has "usage: the project" "$work/usage" "Project:  $P"

cubit --token "$stranger" usage --project "$P" >/dev/null 2>"$work/err"
equals "a stranger: exit code 4" 4 $?
has "a stranger: the API's 403 in its words" "$work/err" "answered 403"
cubit usage --project "$P" >/dev/null 2>"$work/err"
code=$?
if grep -q "client-certificate" <(kubectl config view --raw -o jsonpath='{.users[0].user}' | tr ',' '\n'); then
  equals "no bearer token in the kubeconfig: exit code 2" 2 $code
  has "no bearer token: said" "$work/err" "the history API authenticates callers by a bearer token"
fi
equals "X-Cubit-Authorization is read as the token" 200 \
  "$(curl -sS --cacert "$CUBIT_HISTORY_CA" -o /dev/null -w '%{http_code}' -H "X-Cubit-Authorization: Bearer $member" \
     "$CUBIT_HISTORY_URL/api/v1/runs?project=$P")"
CUBIT_HISTORY_URL= cubit --token "$member" history --project "$P" >/dev/null 2>"$work/err"
equals "the service proxy without a cubit-history Service: exit code 4" 4 $?
has "the service proxy route names itself" "$work/err" "the history API (through the API server's service proxy)"

echo "$passed passed, $failed failed"
((failed == 0))
