#!/usr/bin/env bash
# kubectl-cubit through the real binary against kind/local: a diamond pipeline
# submitted with parameters and --watch ends with exit code 0 and the right tree; a
# failing run's watch ends with 1, its tree shows the earlier attempt, `logs` reads
# the pods of the attempt asked for (found through Cubit's labels) and `retry` is
# handled once; a TrainingJob is stopped and resumed; bad arguments exit 2, a
# missing object 3; a Notebook is opened, renewed, stopped and resumed.
#
# kwok serves each pod's output given with kind/local/pod-log.sh ("output of POD"), so
# the test asserts that exactly the expected pods' output was printed, each line with
# its pod's prefix when more than one pod is read.
set -euo pipefail
ns=e2e-cli
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
cleanup() {
  kubectl delete project -l cubit.dev/e2e=cli --wait=false >/dev/null 2>&1 || true
  rm -rf "$work" "$state/pod-logs/$ns"
}
trap cleanup EXIT

cli_project cli
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
kind: JobTemplate
metadata: {name: fails}
spec:
  workload:
    framework: batch
    image: busybox
    podMetadata: {annotations: {cubit.dev/fake-outcome: fail, cubit.dev/fake-duration-seconds: "1"}}
    roles: {main: {}}
---
apiVersion: cubit.dev/v1alpha1
kind: Pipeline
metadata: {name: diamond}
spec:
  parameters: [{name: seconds, type: int, default: 1}]
  tasks:
  - {name: a, templateRef: {name: works}, params: {seconds: "{{params.seconds}}"}}
  - {name: b, templateRef: {name: works}, dependsOn: [a]}
  - {name: c, templateRef: {name: works}, dependsOn: [a]}
  - {name: d, templateRef: {name: works}, dependsOn: [b, c]}
---
apiVersion: cubit.dev/v1alpha1
kind: Pipeline
metadata: {name: broken}
spec:
  tasks:
  - {name: bad, templateRef: {name: fails}, retries: {limit: 1, backoffSeconds: 1}}
  - {name: after, templateRef: {name: works}, dependsOn: [bad]}
YAML

echo "--- arguments and missing objects"
set +e
cubit submit diamond -p 'x' >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 2 "$code" "submit -p x"
has "$work/err" "-p x: want name=value"
set +e
cubit get no-such-run >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 3 "$code" "get no-such-run"
has "$work/err" "no PipelineRun or TrainingJob or Experiment named no-such-run in namespace $ns"
set +e
cubit submit no-such-pipeline >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 3 "$code" "submit no-such-pipeline"

echo "--- submit --watch: a diamond succeeds"
set +e
timeout 180 "$build/kubectl-cubit" -n "$ns" submit diamond -p seconds=2 --watch --interval 1s >"$work/diamond" 2>&1
code=$?
set -e
expect_code 0 "$code" "submit diamond --watch"
run=$(sed -n 's|^pipelinerun/\(diamond-[a-z0-9]*\) created$|\1|p' "$work/diamond")
[[ -n $run ]] || { cat "$work/diamond" >&2; fail "no run name printed"; }
[[ $(kubectl get plr -n "$ns" "$run" -o jsonpath='{.spec.params.seconds}') == 2 ]] || fail "run $run lacks -p seconds=2"
[[ $(kubectl get plr -n "$ns" "$run" -o jsonpath='{.metadata.labels.cubit\.dev/pipeline}') == diamond ]] ||
  fail "run $run lacks the cubit.dev/pipeline label"
# The same through kubectl's plugin lookup: `kubectl cubit` once kubectl-cubit is on PATH.
PATH="$build:$PATH" "$bin/kubectl" cubit -n "$ns" get "$run" >"$work/tree"
# The last tree watch drew is the final one, and get draws the same tasks.
tail -n 5 "$work/diamond" | sed 's/ \+[0-9hms]\+ \+'"$run"'/ D '"$run"'/' >"$work/watch-tail"
has "$work/tree" "Phase:       Succeeded"
has "$work/tree" "Progress:    4/4"
has "$work/tree" "Parameters:  seconds=2"
python3 - "$work/tree" "$run" <<'PY' || fail "tree of $run is wrong"
import re, sys
text = open(sys.argv[1]).read().split("\n\n", 1)[1].splitlines()
run = sys.argv[2]
want = [("a", ""), ("b", "├─ "), ("d (+c)", "│  └─ "), ("c", "└─ ")]
assert text[0].split() == ["TASK", "PHASE", "ATTEMPT", "DURATION", "TRAININGJOB", "MESSAGE"], text[0]
rows = text[1:]
assert len(rows) == 4, rows
for (name, stem), row in zip(want, rows):
    assert row.startswith(stem + name + " "), (stem + name, row)
    rest = row[len(stem + name):].split()
    task = name.split()[0]
    assert rest[0] == "Succeeded" and rest[1] == "1" and re.fullmatch(r"\d+s", rest[2]) and rest[3] == f"{run}-{task}-1", rest
PY
grep -q "Phase:       Succeeded" "$work/diamond" || fail "watch never drew the final tree"
set +e
cubit get "${run%?}" >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 3 "$code" "get ${run%?}"
has "$work/err" "no PipelineRun or TrainingJob or Experiment named ${run%?} in namespace $ns; did you mean PipelineRun $run?"

echo "--- watch: a failing run ends with 1; logs of an earlier attempt; retry"
kubectl create -n "$ns" -f - -o name >"$work/broken-name" <<'YAML'
{"apiVersion": "cubit.dev/v1alpha1", "kind": "PipelineRun", "metadata": {"generateName": "broken-"},
 "spec": {"pipelineRef": {"name": "broken"}}}
YAML
broken=$(sed 's|.*/||' "$work/broken-name")
set +e
timeout 180 "$build/kubectl-cubit" -n "$ns" watch "$broken" --interval 1s >"$work/broken" 2>&1
code=$?
set -e
expect_code 1 "$code" "watch $broken"
cubit get "plr/$broken" >"$work/broken-tree"
has "$work/broken-tree" "Phase:       Failed"
grep -qE "^bad +Failed +2 " "$work/broken-tree" || { cat "$work/broken-tree" >&2; fail "bad is not Failed after 2 attempts"; }
grep -qE "^│  · #1 +Failed +1 .* $broken-bad-1 " "$work/broken-tree" ||
  { cat "$work/broken-tree" >&2; fail "the earlier attempt of bad is not shown"; }
grep -qE "^└─ after +(Omitted|Pending)" "$work/broken-tree" || { cat "$work/broken-tree" >&2; fail "after should not run"; }

pods_of() { kubectl get pods -n "$ns" -l "cubit.dev/trainingjob=$1" -o jsonpath='{.items[*].metadata.name}'; }
give_output() { # POD...: each pod's container prints "output of POD" (once)
  local p
  for p in "$@"; do
    [[ -e $state/pod-logs/$ns/$p ]] || echo "output of $p" | "$repo/kind/local/pod-log.sh" -n "$ns" "$p"
  done
}
printed() { # stdout file -> the pods whose output was printed (a prefix must name its pod), sorted
  sed -n -e 's/^\[\([^]]*\)\] output of \1$/\1/p' -e 's/^output of \([^ ]*\)$/\1/p' "$1" | sort | tr '\n' ' '
}
for sel in "--attempt 1:$broken-bad-1" ":$broken-bad-2" "--all-attempts:$broken-bad-1 $broken-bad-2"; do
  flags=${sel%%:*}
  want=""
  for tj in ${sel#*:}; do want+="$(pods_of "$tj") "; done
  want=$(echo "$want" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
  [[ -n $want ]] || fail "no pods of ${sel#*:}"
  # shellcheck disable=SC2086
  give_output $want
  set +e
  # shellcheck disable=SC2086
  cubit logs "$broken" bad $flags >"$work/logs" 2>"$work/logs-err"
  code=$?
  set -e
  got=$(printed "$work/logs")
  [[ $got == "$want" ]] || { cat "$work/logs" "$work/logs-err" >&2; fail "logs $broken bad $flags printed [$got], want [$want]"; }
  expect_code 0 "$code" "logs $broken bad $flags"
done

cubit retry "$broken" >"$work/retry"
has "$work/retry" "pipelineruns/$broken retry requested"
value=$(kubectl get plr -n "$ns" "$broken" -o jsonpath='{.metadata.annotations.cubit\.dev/retry}')
for _ in $(seq 60); do
  [[ $(kubectl get plr -n "$ns" "$broken" -o jsonpath='{.status.lastHandledRetry}') == "$value" ]] && break
  sleep 1
done
[[ $(kubectl get plr -n "$ns" "$broken" -o jsonpath='{.status.lastHandledRetry}') == "$value" ]] ||
  fail "retry value $value was not handled"
set +e
cubit retry "$run" >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 2 "$code" "retry of a succeeded run"
has "$work/err" "PipelineRun $run is Succeeded, not Failed"

echo "--- stop and resume a TrainingJob; its pods by role and replica"
cat <<'YAML' | kubectl apply -n "$ns" -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: hold}
spec:
  framework: batch
  image: busybox
  podMetadata: {annotations: {cubit.dev/fake-outcome: run}}
  roles: {main: {replicas: 2}}
YAML
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Running tj/hold --timeout=90s >/dev/null ||
  fail "hold never ran"
cubit get tj/hold >"$work/hold"
has "$work/hold" "Phase:       Running"
has "$work/hold" "2 running, 0 pending, 0 succeeded, 0 failed"
[[ $(grep -cE '^(├|└)─ hold-' "$work/hold") == 2 ]] || { cat "$work/hold" >&2; fail "hold's tree lacks its 2 pods"; }
want=$(kubectl get pods -n "$ns" -l cubit.dev/trainingjob=hold,batch.kubernetes.io/job-completion-index=1 \
  -o jsonpath='{.items[*].metadata.name}')
# Before its containers printed anything kwok has no log: an error naming the pod, exit 4.
set +e
cubit logs hold --role main --replica 1 >/dev/null 2>"$work/logs-err"
code=$?
set -e
expect_code 4 "$code" "logs hold --replica 1 with no output yet"
has "$work/logs-err" "in pod \"$ns/$want\""
# shellcheck disable=SC2046
give_output $(pods_of hold)
cubit logs hold --role main --replica 1 >"$work/logs" 2>"$work/logs-err" ||
  { cat "$work/logs-err" >&2; fail "logs hold --replica 1 failed"; }
got=$(printed "$work/logs")
[[ $got == "$want " ]] || { cat "$work/logs" "$work/logs-err" >&2; fail "logs hold --replica 1 printed [$got], want [$want]"; }

# -f follows until the job ends: a short job's two pods are both read and it returns.
cat <<'YAML' | kubectl apply -n "$ns" -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: short}
spec:
  framework: batch
  image: busybox
  podMetadata: {annotations: {cubit.dev/fake-duration-seconds: "6"}}
  roles: {main: {replicas: 2}}
YAML
# Its pods run 6 s: they print before the follower starts, and a real kubelet ends
# each follower's stream when its container exits; kwok cannot know that, so the test
# ends them (pod-log.sh --end) once the job ended.
for _ in $(seq 60); do
  [[ $(pods_of short | wc -w) == 2 ]] && break
  sleep 0.5
done
want=$(pods_of short | tr ' ' '\n' | sort | tr '\n' ' ')
[[ $(wc -w <<<"$want") == 2 ]] || fail "short has pods [$want], want 2"
# shellcheck disable=SC2086
give_output $want
timeout 120 "$build/kubectl-cubit" -n "$ns" logs -f tj/short >"$work/logs" 2>"$work/logs-err" &
follower=$!
for _ in $(seq 60); do
  [[ $(printed "$work/logs") == "$want" ]] && break
  sleep 0.5
done
got=$(printed "$work/logs")
[[ $got == "$want" ]] || { cat "$work/logs" "$work/logs-err" >&2; fail "logs -f tj/short printed [$got], want [$want]"; }
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Succeeded tj/short --timeout=90s >/dev/null ||
  fail "short never Succeeded"
kill -0 "$follower" 2>/dev/null || fail "logs -f tj/short returned before its streams ended"
for p in $want; do "$repo/kind/local/pod-log.sh" -n "$ns" --end "$p"; done
set +e
wait "$follower"
code=$?
set -e
[[ $code != 124 ]] || fail "logs -f tj/short did not return when its pods' streams ended"
expect_code 0 "$code" "logs -f tj/short"

cubit stop hold >"$work/stop"
has "$work/stop" "trainingjobs/hold stopped"
[[ $(kubectl get tj -n "$ns" hold -o jsonpath='{.spec.suspend}') == true ]] || fail "stop did not set spec.suspend"
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Suspended tj/hold --timeout=90s >/dev/null ||
  fail "hold not Suspended: $(kubectl get tj -n "$ns" hold -o jsonpath='{.status}')"
cubit resume tj/hold >"$work/resume"
has "$work/resume" "trainingjobs/hold resumed"
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Running tj/hold --timeout=90s >/dev/null ||
  fail "hold did not run again after resume"
set +e
cubit stop plr/"$run" >/dev/null 2>"$work/err"; code=$?
set -e
expect_code 2 "$code" "stop of a finished PipelineRun"
has "$work/err" "PipelineRun $run has Succeeded: there is nothing to stop"
echo "--- a notebook: open, renew --for, stop and resume; its logs by label"
cat <<'YAML' | kubectl apply -n "$ns" -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Notebook
metadata: {name: lab}
spec:
  ide: jupyter
  resources: {cpu: 100m, memory: 128Mi}
  lease: {ttlSeconds: 3600}
YAML
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Running nb/lab --timeout=90s >/dev/null ||
  fail "lab never ran: $(kubectl get nb -n "$ns" lab -o jsonpath='{.status}')"
url=$(kubectl get nb -n "$ns" lab -o jsonpath='{.status.url}')
# Where the route answers, open prints it; where it does not (kind/local has no gateway),
# open forwards a local port instead until SIGINT (kubectl-cubit-open.sh streams through it).
if curl -sS --max-time 5 -o /dev/null "$url" 2>/dev/null; then
  [[ $(cubit open lab 2>"$work/open-err") == "$url" && -n $url ]] || fail "open lab did not print $url"
else
  code=0
  timeout --preserve-status -s INT 10 "$build/kubectl-cubit" -n "$ns" open lab >"$work/open-out" 2>"$work/open-err" || code=$?
  expect_code 0 "$code" "open lab ended by SIGINT"
  has "$work/open-err" "$url does not answer from here"
  has "$work/open-out" "Forwarding from 127.0.0.1:"
  grep -qE "^http://127\.0\.0\.1:[0-9]+/notebook/$ns/lab/\$" "$work/open-out" || fail "open printed no local URL"
fi
renewed=$(kubectl get nb -n "$ns" lab -o jsonpath='{.status.lease.renewedAt}')
sleep 1 # renewedAt has a resolution of a second
cubit renew lab --for 2h >"$work/renew"
has "$work/renew" "notebooks/lab renewed"
[[ $(kubectl get nb -n "$ns" lab -o jsonpath='{.spec.lease.ttlSeconds}') == 7200 ]] || fail "renew --for 2h did not set ttlSeconds"
for _ in $(seq 30); do
  now=$(kubectl get nb -n "$ns" lab -o jsonpath='{.status.lease.renewedAt}')
  [[ $now != "$renewed" && -z $(kubectl get nb -n "$ns" lab -o jsonpath='{.metadata.annotations.cubit\.dev/renew}') ]] && break
  sleep 1
done
[[ $now != "$renewed" ]] || fail "the lease was not renewed (renewedAt still $renewed)"
want=$(kubectl get pods -n "$ns" -l cubit.dev/notebook=lab -o jsonpath='{.items[*].metadata.name}')
[[ -n $want ]] || fail "lab has no pod"
give_output "$want"
cubit logs nb/lab >"$work/logs" 2>"$work/logs-err" || { cat "$work/logs-err" >&2; fail "logs nb/lab failed"; }
got=$(printed "$work/logs")
[[ $got == "$want " ]] || { cat "$work/logs" "$work/logs-err" >&2; fail "logs nb/lab printed [$got], want [$want]"; }
cubit stop nb/lab >/dev/null
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Stopped nb/lab --timeout=90s >/dev/null ||
  fail "lab not Stopped: $(kubectl get nb -n "$ns" lab -o jsonpath='{.status}')"
cubit resume lab >/dev/null
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Running nb/lab --timeout=90s >/dev/null ||
  fail "lab did not run again after resume"
echo "PASS"
