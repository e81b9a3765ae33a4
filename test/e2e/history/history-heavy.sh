#!/usr/bin/env bash
# The run history under load (issue 16, docs/history.md "Tests"), on the manager
# of this build with --history-db:
#
#  A. HH_RUNS (default 200) PipelineRuns of three scheduled Pipelines (a backfill of
#     one tick a minute; tasks of three templates: batch on half an A100, batch on a
#     whole V100, a PyTorchJob on cpu only) finish and are deleted by the schedule's
#     runTTLSecondsAfterFinished (10 s), their task TrainingJobs with them. The
#     manager, recorder included, is SIGKILLed once a third of them are recorded and
#     started again. Then: exactly HH_RUNS PipelineRun records and HH_RUNS task
#     records, each task linked to its run, every one Succeeded and deleted, one pod
#     interval per task of the template's length with its GPU share, a Succeeded
#     transition each (none twice), and usage equal to the sum of the intervals.
#  B. The recorder goes away (the manager restarts without --history-db but with a
#     "history" section in --config: the chart's controllers, their recorder
#     down). 50 PipelineRuns are made, run and finish; the admission webhook gave
#     each (and each task) the history finalizer at creation, so when their 10 s
#     TTL passes they wait, deleting but present. The recorder comes back: all 50
#     are recorded as Succeeded, deleted, and gone from the API server.
#  C. History turned off (no --history-db, no "history" section): the finalizers
#     left on 10 TrainingJobs are removed and their deletion goes through.
#
# Bounded: every wait has a deadline (ctest TIMEOUT 1800 s). Its own names (project,
# namespace e2e-hh); the manager is restarted as it was at the end. HH_RUNS=1000 is
# the issue's full-size run (not in CI: tens of minutes on a laptop-sized machine).
# Prints one line per check and "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig
[[ -f $state/ready ]] || { echo "the local control plane is not up (kind/local/up.sh)" >&2; exit 2; }
kubectl() { "$bin/kubectl" "$@"; }
# shellcheck source=common.bash
. "$repo/test/e2e/history/common.bash"

P=e2e-hh NS=e2e-hh
RUNS=${HH_RUNS:-200}
port=${CUBIT_HISTORY_PORT:-$((${CUBIT_MANAGER_WEBHOOK_PORT:-9443} + 1))}
db=$state/history-heavy.db
api=https://127.0.0.1:$port/api/v1
hist_args="--history-db $db --history-bind-address 127.0.0.1:$port"
elsewhere_config=$state/history-heavy-config.yaml
tmp=$(mktemp -d)
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
equals() { if [[ $3 == "$2" ]]; then ok "$1: $3"; else nok "$1: got [$3], want [$2]"; fi; }
# until_equals DESC WANT SECONDS CMD...: polls CMD every second up to SECONDS.
until_equals() {
  local desc=$1 want=$2 secs=$3 have="" t0=$SECONDS
  shift 3
  while ((SECONDS - t0 < secs)); do
    have=$("$@" 2>/dev/null)
    [[ $have == "$want" ]] && break
    sleep 1
  done
  equals "$desc ($((SECONDS - t0))s)" "$want" "$have"
}
q() { sqlite3 -separator ' ' "$db" "$@"; }
get() { curl -ksS --max-time 20 -H "Authorization: Bearer $member" "$api/$1"; }

export CUBIT_SKIP_SAMPLES=1 # for manager_up (common.bash)

cleanup() {
  kubectl delete project "$P" --wait=false >/dev/null 2>&1
  unset CUBIT_MANAGER_CONFIG
  manager_up "$tmp/up.log" # history off: the finalizers left go (part C)
  rm -rf "$tmp" "$elsewhere_config"
}
trap cleanup EXIT

rm -f "$db" "$db-wal" "$db-shm"
cp "$repo/test/e2e/manager-config.yaml" "$elsewhere_config"
printf '# The recorder runs elsewhere (the chart'"'"'s history Deployment).\nhistory:\n  finalizerTimeoutSeconds: 600\n' \
  >>"$elsewhere_config"
manager_up "$tmp/up.log" $hist_args

member=$(reader_project "$P" "$NS") || { nok "project $P not Ready"; exit 1; }

# template NAME FRAMEWORK ROLE RESOURCES SECONDS
template() {
  cat <<YAML | kubectl -n "$NS" apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: JobTemplate
metadata: {name: $1}
spec:
  workload:
    framework: $2
    image: busybox
    podMetadata: {annotations: {cubit.dev/fake-duration-seconds: "$5"}}
    roles: {$3: {replicas: 1, resources: $4}}
YAML
}
# pipeline NAME TEMPLATE TICKS MAX_ACTIVE: one tick a minute, the last one now.
pipeline() {
  local now start end
  now=$(date -u +%s)
  end=$((now / 60 * 60))
  start=$((end - ($3 - 1) * 60))
  cat <<YAML | kubectl -n "$NS" apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Pipeline
metadata: {name: $1}
spec:
  tasks: [{name: work, templateRef: {name: $2}}]
  schedule:
    cron: "* * * * *"
    startTime: $(date -u -d @"$start" +%FT%TZ)
    endTime: $(date -u -d @"$end" +%FT%TZ)
    maxActiveRuns: $4
    successfulRunsHistoryLimit: 10000
    failedRunsHistoryLimit: 10000
    runTTLSecondsAfterFinished: 10
YAML
}

# ---------------------------------------------------------------- A: many runs
template a100 batch main '{cpu: 100m, gpu: "0.5(A100)"}' 3
template v100 batch main '{cpu: 100m, gpu: "1(V100)"}' 3
template torch pytorch master '{cpu: 100m}' 3
n1=$((RUNS / 2)) n2=$((RUNS / 4))
n3=$((RUNS - n1 - n2))
t_a=$SECONDS
pipeline hh-a100 a100 "$n1" 30
pipeline hh-v100 v100 "$n2" 8
pipeline hh-torch torch "$n3" 20

deleted_prs() { q "SELECT COUNT(*) FROM runs WHERE namespace = '$NS' AND kind = 'PipelineRun' AND deleted_at IS NOT NULL"; }
third=$((RUNS / 3))
for _ in $(seq 1 900); do (($(deleted_prs 2>/dev/null || echo 0) >= third)) && break; sleep 1; done
recorded_before=$(deleted_prs)
kill -KILL "$(cat "$state/manager.pid")" 2>/dev/null && ok "SIGKILL of the manager and its recorder with $recorded_before of $RUNS runs recorded as deleted"
sleep 3
manager_up "$tmp/up.log" $hist_args
rss_pid=$(cat "$state/manager.pid")

until_equals "$RUNS PipelineRun records, all deleted" "$RUNS $RUNS" 1200 \
  q "SELECT COUNT(*), COUNT(deleted_at) FROM runs WHERE namespace = '$NS' AND kind = 'PipelineRun'"
gone() { kubectl -n "$NS" get pipelineruns,trainingjobs -o name 2>/dev/null | grep -c . ; }
until_equals "every PipelineRun and task TrainingJob gone from the API server" 0 300 gone
equals "PipelineRun records: no name twice, every one Succeeded and finished" "$RUNS $RUNS $RUNS" \
  "$(q "SELECT COUNT(DISTINCT name), SUM(phase = 'Succeeded'), COUNT(finished_at) FROM runs WHERE namespace = '$NS' AND kind = 'PipelineRun'" | tr '|' ' ')"
until_equals "$RUNS task records, all deleted" "$RUNS $RUNS" 120 \
  q "SELECT COUNT(*), COUNT(deleted_at) FROM runs WHERE namespace = '$NS' AND kind = 'TrainingJob'"
equals "each task is linked to its run (uid, name, task, attempt 1)" "$RUNS" \
  "$(q "SELECT COUNT(*) FROM runs t JOIN runs r ON r.uid = t.parent_uid AND r.name = t.parent_name
        WHERE t.namespace = '$NS' AND t.kind = 'TrainingJob' AND t.parent_kind = 'PipelineRun'
          AND t.task = 'work' AND t.attempt = 1 AND t.phase = 'Succeeded'")"
equals "one Succeeded transition per run and task, none twice" "$((2 * RUNS)) 0" \
  "$(q "SELECT (SELECT COUNT(*) FROM transitions t JOIN runs r ON r.uid = t.run_uid WHERE r.namespace = '$NS' AND t.phase = 'Succeeded'),
               (SELECT COUNT(*) FROM (SELECT run_uid, phase, at FROM transitions GROUP BY run_uid, phase, at HAVING COUNT(*) > 1))" | tr '|' ' ')"
equals "the PipelineRuns' records hold no pod of their tasks" 0 \
  "$(q "SELECT COUNT(*) FROM pod_intervals i JOIN runs r ON r.uid = i.run_uid WHERE r.namespace = '$NS' AND r.kind = 'PipelineRun'")"
equals "one ended pod interval per task" "$RUNS $RUNS" \
  "$(q "SELECT COUNT(*), COUNT(i.ended_at) FROM pod_intervals i JOIN runs r ON r.uid = i.run_uid WHERE r.namespace = '$NS' AND r.kind = 'TrainingJob'" | tr '|' ' ')"
# kwok ends a pod 3 s after it started (later when the machine is busy, never earlier)
equals "every interval lasts the pod's 3 s (2 to 20)" 0 \
  "$(q "SELECT COUNT(*) FROM pod_intervals i JOIN runs r ON r.uid = i.run_uid WHERE r.namespace = '$NS'
        AND (i.ended_at - i.started_at < 2 OR i.ended_at - i.started_at > 20)")"
# the Pipeline (hh-<template>) from the task's run's name hh-<template>-<tick>
equals "GPU share and model per template (A100 half a card, V100 one, none for the PyTorchJob)" \
  "a100 $n1 500 500 A100; torch $n3 0 0 ; v100 $n2 1000 1000 V100" \
  "$(q "SELECT t || ' ' || COUNT(*) || ' ' || MIN(g) || ' ' || MAX(g) || ' ' || MAX(m) FROM
          (SELECT substr(r.parent_name, 4, instr(substr(r.parent_name, 4), '-') - 1) AS t, i.gpu_milli AS g, i.gpu_model AS m
           FROM pod_intervals i JOIN runs r ON r.uid = i.run_uid WHERE r.namespace = '$NS')
        GROUP BY t ORDER BY t" | paste -sd';' | sed 's/;/; /g')"
want_gpu=$(q "SELECT SUM((i.ended_at - i.started_at) * i.gpu_milli) FROM pod_intervals i JOIN runs r ON r.uid = i.run_uid WHERE r.project = '$P'")
from=$(( $(date -u +%s) - 86400 ))
equals "usage by project = the intervals' GPU-milli-seconds, counted over the $RUNS tasks" \
  "$want_gpu $RUNS" "$(get "usage?project=$P&by=project&from=$from" | jq -r '.items[0] | "\(.gpuMilliSeconds) \(.runs)"')"
pr=$(q "SELECT uid FROM runs WHERE namespace = '$NS' AND kind = 'PipelineRun' ORDER BY name LIMIT 1")
equals "a run's record lists its task (API)" "1 work TrainingJob" \
  "$(get "run?uid=$pr" | jq -r '"\(.children | length) \(.children[0].task) \(.children[0].kind)"')"
equals "runs?parent= finds the task (API)" 1 "$(get "runs?project=$P&parent=$pr" | jq -r '.items | length')"
rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$rss_pid/status" 2>/dev/null)
ok "part A took $((SECONDS - t_a)) s; manager (controllers, webhooks and recorder) RSS ${rss:-?} MiB"

# ------------------------------------------- B: the recorder away while runs end
CUBIT_MANAGER_CONFIG=$elsewhere_config manager_up "$tmp/up.log"
ok "the recorder is away (manager without --history-db, history section in --config)"
template slow batch main '{cpu: 100m}' 5
pipeline hh-down slow 50 50
with_finalizer() {
  kubectl -n "$NS" get pipelineruns,trainingjobs -l cubit.dev/pipeline=hh-down -o json |
    jq -r '[.items[] | select(.metadata.finalizers // [] | index("cubit.dev/history"))] | length'
}
until_equals "50 runs and their 50 tasks carry the history finalizer from their creation" 100 600 with_finalizer
deleting() {
  kubectl -n "$NS" get pipelineruns -l cubit.dev/pipeline=hh-down -o json |
    jq -r '[.items[] | select(.metadata.deletionTimestamp != null and .status.phase == "Succeeded")] | length'
}
until_equals "the 50 runs finished, their TTL passed: all deleting" 50 600 deleting
sleep 10
equals "10 s later they still wait for their record" 50 "$(kubectl -n "$NS" get pipelineruns -l cubit.dev/pipeline=hh-down -o name | grep -c .)"
equals "none recorded meanwhile" 0 "$(q "SELECT COUNT(*) FROM runs WHERE namespace = '$NS' AND name LIKE 'hh-down-%'")"
t_b=$SECONDS
manager_up "$tmp/up.log" $hist_args
left() { kubectl -n "$NS" get pipelineruns,trainingjobs -l cubit.dev/pipeline=hh-down -o name 2>/dev/null | grep -c . ; }
until_equals "the recorder back: all 50 runs (and tasks) recorded and gone" 0 300 left
until_equals "50 records Succeeded and deleted, 50 tasks with them" "50 50 50" 60 \
  q "SELECT SUM(kind = 'PipelineRun' AND phase = 'Succeeded'), SUM(kind = 'PipelineRun' AND deleted_at IS NOT NULL),
            SUM(kind = 'TrainingJob' AND phase = 'Succeeded' AND deleted_at IS NOT NULL)
     FROM runs WHERE namespace = '$NS' AND (name LIKE 'hh-down-%')" 
ok "part B: recorded and deleted $((SECONDS - t_b)) s after the recorder came back"

# -------------------------------------------------------- C: history turned off
for i in $(seq 1 10); do
  cat <<YAML
---
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: off-$i, namespace: $NS}
spec: {framework: batch, image: busybox, roles: {main: {resources: {cpu: 100m}}}}
YAML
done | kubectl apply -f - >/dev/null
held() {
  kubectl -n "$NS" get trainingjobs -o json |
    jq -r '[.items[] | select(.metadata.name | startswith("off-")) | select(.metadata.finalizers // [] | index("cubit.dev/history"))] | length'
}
until_equals "10 TrainingJobs carry the history finalizer" 10 120 held
unset CUBIT_MANAGER_CONFIG
manager_up "$tmp/up.log"
until_equals "history off: the manager removes the finalizers" 0 120 held
kubectl -n "$NS" delete trainingjobs --all --wait=false >/dev/null
until_equals "and their deletion goes through" 0 120 \
  bash -c "'$bin/kubectl' -n '$NS' get trainingjobs -o name | grep -c ."
stuck() {
  for k in trainingjobs pipelineruns notebooks inferenceservices; do kubectl get "$k" -A -o json; done |
    jq -s -r '[.[].items[] | select(.metadata.finalizers // [] | index("cubit.dev/history"))] | length'
}
until_equals "nothing in the cluster holds the history finalizer" 0 120 stuck

echo "$passed passed, $failed failed"
((failed == 0))
