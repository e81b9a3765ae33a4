#!/usr/bin/env bash
# The run history end to end (issue 16, docs/history.md): the manager is
# restarted with --history-db and the history API; a TrainingJob with one A100
# card runs and finishes; its record, transitions, pod interval and GPU-seconds
# are read with a project member's ServiceAccount token, refused (403) to a
# stranger's token and (401) without one; the run keeps its cubit.dev/history
# finalizer until recorded, and its record outlives the object; restarting the
# recorder duplicates nothing. CSV answers, a label filter and the usage
# counters on /metrics (also after a restart). Finally the manager is restarted as it was and the
# finalizers it left are removed. Prints one line per check and "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig
[[ -f $state/ready ]] || { echo "the local control plane is not up (kind/local/up.sh)" >&2; exit 2; }
kubectl() { "$bin/kubectl" "$@"; }
# shellcheck source=common.bash
. "$repo/test/e2e/history/common.bash"

P=e2e-hist NS=e2e-hist OTHER=e2e-hist-other
port=${CUBIT_HISTORY_PORT:-$((${CUBIT_MANAGER_WEBHOOK_PORT:-9443} + 1))}
db=$state/history-e2e.db
api=https://127.0.0.1:$port/api/v1
hist_args="--history-db $db --history-bind-address 127.0.0.1:$port"
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
equals() { if [[ $3 == "$2" ]]; then ok "$1: $3"; else nok "$1: got [$3], want [$2]"; fi; }
until_equals() {
  local desc=$1 want=$2 have=""
  shift 2
  for _ in $(seq 1 300); do
    have=$("$@" 2>/dev/null) && [[ $have == "$want" ]] && break
    sleep 0.2
  done
  equals "$desc" "$want" "$have"
}
# get TOKEN PATH -> "<status> <body>" (the manager's self-issued certificate: -k)
get() {
  local auth=()
  [[ -n $1 ]] && auth=(-H "Authorization: Bearer $1")
  curl -ksS --max-time 10 -o /tmp/history-e2e.$$ -w '%{http_code}' "${auth[@]}" "$api/$2"
  printf ' '
  cat /tmp/history-e2e.$$
}
status_of() { get "$@" | cut -d' ' -f1; }
body_of() { get "$@" | cut -d' ' -f2-; }

cleanup() {
  kubectl delete project "$P" --wait=false >/dev/null 2>&1
  kubectl delete namespace "$OTHER" --wait=false >/dev/null 2>&1
  manager_up /tmp/history-e2e-up.$$
  drop_finalizers
  rm -f /tmp/history-e2e.$$ /tmp/history-e2e-up.$$
}
trap cleanup EXIT

rm -f "$db" "$db-wal" "$db-shm"
manager_up /tmp/history-e2e-up.$$ $hist_args

kubectl create namespace "$OTHER" >/dev/null 2>&1
kubectl -n "$OTHER" create serviceaccount stranger >/dev/null 2>&1
member=$(reader_project "$P" "$NS") || { nok "project $P not Ready"; exit 1; }
stranger=$(kubectl -n "$OTHER" create token stranger --duration=1h)

cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: hist, namespace: $NS, labels: {team: e2e-nlp}}
spec:
  framework: batch
  image: busybox
  podMetadata:
    annotations: {cubit.dev/fake-duration-seconds: "6"}
  roles: {main: {replicas: 1, resources: {cpu: "1", gpu: "1(A100)"}}}
YAML
until_equals "the TrainingJob succeeds" Succeeded kubectl -n "$NS" get trainingjob hist -o 'jsonpath={.status.phase}'
uid=$(kubectl -n "$NS" get trainingjob hist -o 'jsonpath={.metadata.uid}')
equals "the run carries the history finalizer" yes \
  "$(kubectl -n "$NS" get trainingjob hist -o json | jq -r 'if (.metadata.finalizers // []) | index("cubit.dev/history") then "yes" else "no" end')"

# The recorder writes as it sees the run's pods finish: poll the member's view.
member_runs() { body_of "$member" "runs?project=$P" | jq -r '"\(.items | length) \(.items[0].phase)"'; }
until_equals "the member sees the run, Succeeded" "1 Succeeded" member_runs
run=$(body_of "$member" "run?uid=$uid")
equals "its kind, project and template-free record" "TrainingJob $P hist" \
  "$(jq -r '"\(.kind) \(.project) \(.name)"' <<<"$run")"
equals "its GPU request and model" "1000 A100" "$(jq -r '"\(.gpuMilli) \(.gpuModel)"' <<<"$run")"
equals "its last transition" Succeeded "$(jq -r '.transitions[-1].phase' <<<"$run")"
equals "one pod, ended" "1 true" "$(jq -r '"\(.pods | length) \(.pods[0].endedAt != null)"' <<<"$run")"
secs=$(jq -r '.pods[0].endedAt - .pods[0].startedAt' <<<"$run")
if ((secs >= 4 && secs <= 15)); then ok "the pod ran ${secs}s (fake duration 6s)"; else nok "the pod ran ${secs}s, want about 6"; fi
usage=$(body_of "$member" "usage?project=$P&by=gpu-model")
equals "GPU-seconds by model = 1 card x the pod's seconds" "A100 $((secs * 1000)) 1" \
  "$(jq -r '.items[0] | "\(.key) \(.gpuMilliSeconds) \(.runs)"' <<<"$usage")"

# CSV (format= and Accept), label filters, the usage counters on /metrics
csv_line() { # TOKEN PATH [curl args]: the CSV's second line, CR stripped
  local t=$1 p=$2
  shift 2
  curl -ksS --max-time 10 -H "Authorization: Bearer $t" "$@" "$api/$p" | tr -d '\r' | sed -n 2p
}
equals "usage as CSV (Accept: text/csv)" "A100,$((secs * 1000)),1" \
  "$(csv_line "$member" "usage?project=$P&by=gpu-model" -H 'Accept: text/csv' | awk -F, '{print $1 "," $4 "," $5}')"
equals "runs as CSV (format=csv)" "$uid,TrainingJob,$NS,hist" \
  "$(csv_line "$member" "runs?project=$P&format=csv" | cut -d, -f1-4)"
equals "label filter team=e2e-nlp" 1 "$(body_of "$member" "runs?project=$P&label=team%3De2e-nlp" | jq '.items | length')"
equals "label filter team!=e2e-nlp" 0 "$(body_of "$member" "runs?project=$P&label=team%21%3De2e-nlp" | jq '.items | length')"
equals "a bad label filter: 400 naming label" "400 label" \
  "$(s=$(get "$member" "runs?project=$P&label=%3Dx"); echo "${s%% *} $(jq -r '.message | split(":")[0]' <<<"${s#* }")")"
scrape() {
  curl -ksS --max-time 10 -H "Authorization: Bearer $(cat "$state/metrics.token")" \
    "https://127.0.0.1:${CUBIT_MANAGER_METRICS_PORT:-18080}/metrics" | grep "$1" | awk '{print $2}'
}
until_equals "cubit_project_gpu_seconds_total = the pod's seconds" "$secs" \
  scrape "^cubit_project_gpu_seconds_total{project=\"$P\",gpu_model=\"A100\"}"
equals "cubit_project_runs_total Succeeded" 1 \
  "$(scrape "^cubit_project_runs_total{project=\"$P\",kind=\"TrainingJob\",phase=\"Succeeded\"}")"

equals "a stranger's token is refused" 403 "$(status_of "$stranger" "runs?project=$P")"
equals "a stranger's usage is refused" 403 "$(status_of "$stranger" "usage?project=$P")"
equals "a stranger's run read is refused" 403 "$(status_of "$stranger" "run?uid=$uid")"
equals "the member may not read every project" 403 "$(status_of "$member" "runs")"
equals "no token: 401" 401 "$(status_of "" "runs?project=$P")"
equals "a bad token: 401" 401 "$(status_of "not-a-token" "runs?project=$P")"
equals "a bad parameter: 400 with the reason" "400 limit: want an integer from 1 to 1000" \
  "$(s=$(get "$member" "runs?project=$P&limit=0"); echo "${s%% *} $(jq -r .message <<<"${s#* }")")"

kubectl -n "$NS" delete trainingjob hist --timeout=60s >/dev/null || nok "the TrainingJob was not deleted"
equals "the TrainingJob is gone" NotFound \
  "$(kubectl -n "$NS" get trainingjob hist 2>&1 | grep -o NotFound | head -1)"
run=$(body_of "$member" "run?uid=$uid")
equals "its record remains, marked deleted" "Succeeded true" "$(jq -r '"\(.phase) \(.deletedAt != null)"' <<<"$run")"
before=$(jq -c '[.transitions, .pods]' <<<"$run")

manager_up /tmp/history-e2e-up.$$ $hist_args
sleep 5 # the informers' first lists are reconciled
after=$(jq -c '[.transitions, .pods]' <<<"$(body_of "$member" "run?uid=$uid")")
equals "a restart duplicates nothing (transitions, pods)" "$before" "$after"
equals "one run in the database" 1 \
  "$(sqlite3 "$db" "SELECT COUNT(*) FROM runs WHERE uid = '$uid'")"
equals "one interval in the database" 1 \
  "$(sqlite3 "$db" "SELECT COUNT(*) FROM pod_intervals WHERE run_uid = '$uid'")"
equals "the restarted recorder's counter starts where the database is" "$secs" \
  "$(scrape "^cubit_project_gpu_seconds_total{project=\"$P\",gpu_model=\"A100\"}")"

# Deleted while the recorder was away (and without its finalizer): the
# restarted recorder finds the run gone and marks it deleted.
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: away, namespace: $NS}
spec:
  framework: batch
  image: busybox
  roles: {main: {}}
YAML
until_equals "a second TrainingJob succeeds" Succeeded kubectl -n "$NS" get trainingjob away -o 'jsonpath={.status.phase}'
uid2=$(kubectl -n "$NS" get trainingjob away -o 'jsonpath={.metadata.uid}')
recorded() { body_of "$member" "run?uid=$uid2" | jq -r '"\(.phase) \(.deletedAt != null)"'; }
until_equals "it is recorded" "Succeeded false" recorded
manager_up /tmp/history-e2e-up.$$
drop_finalizers
kubectl -n "$NS" delete trainingjob away --timeout=60s >/dev/null || nok "TrainingJob away was not deleted"
manager_up /tmp/history-e2e-up.$$ $hist_args
until_equals "the recorder, back, marks it deleted" "Succeeded true" recorded

echo "$passed passed, $failed failed"
((failed == 0))
