#!/usr/bin/env bash
# kubectl-cubit and the PipelineRun's own stop, resume and retry-from semantics through
# the real binary on kind/local (docs/pipeline.md, docs/cli.md):
#   - stop a run while its second task runs: the run is Stopped (Suspended=True, no
#     Ready), the task's TrainingJob is suspended and annotated, nothing new starts;
#     a run's params cannot change (only spec.stopped may); resume runs the stopped
#     task's next attempt and the run succeeds without running the first task again;
#   - retry --from b on a succeeded run re-runs b and c, keeps a; an unknown task is 2;
#   - backfill makes exactly one run per tick of a past window, named as the
#     scheduler names them, waiting under maxActiveRuns; a second backfill makes none;
#   - get -o json / -o yaml print the object; stop of a finished run is 2.
set -euo pipefail
ns=e2e-cli-plr
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
cleanup() {
  kubectl delete project -l cubit.dev/e2e=cli-plr --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
plr() { kubectl get plr -n "$ns" "$1" -o jsonpath="$2"; }
until_is() { # what want jsonpath-run-args...
  local what=$1 want=$2 got=""
  shift 2
  for _ in $(seq 180); do
    got=$("$@" 2>/dev/null) && [[ $got == "$want" ]] && return 0
    sleep 1
  done
  fail "$what: [$got], want [$want]"
}

cli_project cli-plr
cat <<'YAML' | kubectl apply -n "$ns" -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: JobTemplate
metadata: {name: works}
spec:
  parameters: [{name: seconds, type: int, default: 1}]
  workload:
    framework: batch
    image: busybox
    podMetadata: {annotations: {cubit.dev/fake-duration-seconds: "{{params.seconds}}"}}
    roles: {main: {}}
---
apiVersion: cubit.dev/v1alpha1
kind: Pipeline
metadata: {name: chain}
spec:
  parameters: [{name: long, type: int, default: 20}]
  tasks:
  - {name: a, templateRef: {name: works}}
  - {name: b, templateRef: {name: works}, dependsOn: [a], params: {seconds: "{{params.long}}"}}
  - {name: c, templateRef: {name: works}, dependsOn: [b]}
---
apiVersion: cubit.dev/v1alpha1
kind: Pipeline
metadata: {name: hourly}
spec:
  tasks:
  - {name: t, templateRef: {name: works}, params: {seconds: 4}}
  schedule: {cron: "0 * * * *", suspend: true, maxActiveRuns: 2}
YAML

echo "--- stop a run while task b runs; resume it"
cubit submit chain -p long=20 >"$work/submit"
run=$(sed -n 's|^pipelinerun/\(chain-[a-z0-9]*\) created$|\1|p' "$work/submit")
[[ -n $run ]] || { cat "$work/submit" >&2; fail "no run name"; }
until_is "task b of $run runs" Running kubectl get tj -n "$ns" "$run-b-1" -o jsonpath='{.status.phase}'
cubit stop "$run" >"$work/stop"
has "$work/stop" "pipelineruns/$run stopped"
[[ $(plr "$run" '{.spec.stopped}') == true ]] || fail "stop did not set spec.stopped"
until_is "$run Stopped" Stopped plr "$run" '{.status.phase}'
[[ $(plr "$run" '{.status.conditions[?(@.type=="Suspended")].status}') == True ]] || fail "$run: Suspended is not True"
[[ -z $(plr "$run" '{.status.conditions[?(@.type=="Ready")].status}') ]] || fail "$run: a Stopped run has a Ready condition"
[[ $(plr "$run" '{.status.nodes.a.phase}/{.status.nodes.b.phase}/{.status.nodes.b.stoppedAttempts}/{.status.nodes.c.phase}') == \
  Succeeded/Pending/1/Pending ]] || fail "$run nodes: $(plr "$run" '{.status.nodes}')"
until_is "$run-b-1 suspended" true kubectl get tj -n "$ns" "$run-b-1" -o jsonpath='{.spec.suspend}'
has <(kubectl get tj -n "$ns" "$run-b-1" -o jsonpath='{.metadata.annotations.cubit\.dev/stopped}') \
  "stopped with the run (spec.stopped): attempt 1 of task b"
cubit get "$run" >"$work/stopped-tree"
has "$work/stopped-tree" "Phase:       Stopped"
has "$work/stopped-tree" "attempt 1 stopped; stopped with the run: attempt 2 starts when it is resumed"
sleep 3
[[ -z $(kubectl get tj -n "$ns" "$run-b-2" "$run-c-1" --ignore-not-found -o name) ]] || fail "a stopped run started a task"
set +e
kubectl patch plr -n "$ns" "$run" --type merge -p '{"spec":{"params":{"long":"1"}}}' >/dev/null 2>"$work/err"; code=$?
set -e
[[ $code != 0 ]] || fail "a run's params changed"
has "$work/err" "spec.params: a run's spec cannot change (only spec.stopped may); create another run"
set +e
kubectl patch plr -n "$ns" "$run" --type merge -p '{"spec":{"pipelineRef":{"name":"hourly"}}}' >/dev/null 2>"$work/err"; code=$?
set -e
[[ $code != 0 ]] || fail "a run's pipelineRef changed"
has "$work/err" "spec.pipelineRef: a run's spec cannot change (only spec.stopped may); create another run"
cubit resume "plr/$run" >"$work/resume"
has "$work/resume" "pipelineruns/$run resumed"
set +e
timeout 150 "$build/kubectl-cubit" -n "$ns" watch "$run" --interval 1s >"$work/watch" 2>&1; code=$?
set -e
expect_code 0 "$code" "watch of the resumed $run"
[[ $(plr "$run" '{.status.nodes.a.attempts}/{.status.nodes.b.attempts}/{.status.nodes.b.trainingJob}') == "1/2/$run-b-2" ]] ||
  fail "after resume: $(plr "$run" '{.status.nodes}')"
[[ -z $(kubectl get tj -n "$ns" "$run-a-2" --ignore-not-found -o name) ]] || fail "resume ran task a again"
set +e
cubit stop "$run" >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 2 "$code" "stop of a finished run"
has "$work/err" "PipelineRun $run has Succeeded: there is nothing to stop"

echo "--- retry --from b: b and c again, a kept"
set +e
cubit retry "$run" --from nope >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 2 "$code" "retry --from an unknown task"
has "$work/err" "PipelineRun $run has no task nope"
cubit retry "$run" --from b >"$work/retry"
has "$work/retry" "pipelineruns/$run retry from task b requested"
value=$(plr "$run" '{.metadata.annotations.cubit\.dev/retry}')
until_is "retry $value handled" "$value" plr "$run" '{.status.lastHandledRetry}'
until_is "$run succeeded again" "Succeeded" plr "$run" '{.status.phase}'
[[ $(plr "$run" '{.status.nodes.a.attempts}/{.status.nodes.b.attempts}/{.status.nodes.c.attempts}') == 1/3/2 ]] ||
  fail "after retry --from b: $(plr "$run" '{.status.nodes}')"
kubectl get tj -n "$ns" "$run-b-3" "$run-c-2" >/dev/null || fail "retry --from b made no new attempts of b and c"

echo "--- -o json, -o yaml"
[[ $(cubit get "$run" -o json | jq -r '.metadata.name + " " + .status.phase') == "$run Succeeded" ]] || fail "get -o json"
cubit get "$run" -o yaml >"$work/yaml"
has "$work/yaml" "kind: PipelineRun"
has "$work/yaml" "  name: $run"

echo "--- backfill a past window under maxActiveRuns 2"
from_s=$(( ($(date +%s) / 3600 - 6) * 3600 ))
from=$(date -u -d "@$from_s" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$((from_s + 7200))" +%Y-%m-%dT%H:%M:%SZ)
timeout 200 "$build/kubectl-cubit" -n "$ns" backfill hourly --from "$from" --to "$to" --interval 1s >"$work/backfill"
for t in $from_s $((from_s + 3600)) $((from_s + 7200)); do has "$work/backfill" "pipelinerun/hourly-$t created"; done
has "$work/backfill" "waiting: 2 runs of hourly active (maxActiveRuns 2)"
has "$work/backfill" "3 runs created, 0 existed"
[[ $(plr "hourly-$from_s" '{.spec.scheduledTime}') == "$from" ]] || fail "the backfilled run's scheduledTime"
"$build/kubectl-cubit" -n "$ns" backfill hourly --from "$from" --to "$to" >"$work/backfill2"
has "$work/backfill2" "0 runs created, 3 existed"
[[ $(kubectl get plr -n "$ns" -l cubit.dev/pipeline=hourly -o name | wc -l) == 3 ]] || fail "backfill made other than 3 runs"
set +e
cubit backfill chain --from 2d --to 1d >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 2 "$code" "backfill of a pipeline without a schedule"
has "$work/err" "Pipeline chain has no schedule"
echo "PASS"
