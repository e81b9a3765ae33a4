# shellcheck shell=bash
# Shared by the Experiment scenarios (test/e2e/experiment/experiment-*.sh). Sourced.
#
# Each scenario runs in its own Project and namespace (e2e-exp-<name>), so it can run
# beside the others; trial-runner.py plays every trial's program (the known function
# of the trial's parameters, as the pod's log). Failures say what was expected and
# seen, followed by the Experiment's status, its trials and the runner's complaints.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig KUBECTL=$bin/kubectl
[[ -f $state/ready ]] || { echo "the local control plane is not up (kind/local/up.sh)" >&2; exit 2; }
kubectl() { "$bin/kubectl" "$@"; }

# exp_init NAME: the scenario's namespace and Project e2e-exp-NAME, its work directory
# and clean-up.
exp_init() {
  ns=e2e-exp-$1
  work=$(mktemp -d)
  runner_pid=""
  exp=""
  t0=$(date +%s%3N)
  trap exp_cleanup EXIT
  kubectl delete project "$ns" --ignore-not-found --wait=false >/dev/null
  for _ in $(seq 120); do
    kubectl get namespace "$ns" >/dev/null 2>&1 || break
    sleep 0.5
  done
  rm -rf "$state/pod-logs/$ns"
}

exp_cleanup() {
  [[ -z $runner_pid ]] || kill "$runner_pid" 2>/dev/null || true
  kubectl delete project "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work" "$state/pod-logs/$ns"
}

# exp_elapsed: seconds since exp_init, with a tenth.
exp_elapsed() {
  local d=$(($(date +%s%3N) - t0))
  printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100))
}

# exp_project [QUOTA]: the Project (QUOTA: its spec.quota as flow YAML), Ready.
exp_project() {
  local quota=${1:-}
  kubectl apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: $ns, labels: {cubit.dev/e2e: experiment}}
spec:
  namespaces: [$ns]
  deletionPolicy: Delete
${quota:+  quota: $quota}
YAML
  kubectl wait --for=condition=Ready "project/$ns" --timeout=60s >/dev/null ||
    exp_fail "Project $ns is not Ready: $(kubectl get project "$ns" -o jsonpath='{.status}')"
}

# exp_template SECONDS: an inline trial template whose pods kwok runs for SECONDS;
# the parameters x and y reach the container's arguments.
exp_template() {
  cat <<YAML
  trialTemplate:
    trainingJob:
      framework: batch
      image: busybox
      args: ["--x={{trial.parameters.x}}", "--y={{trial.parameters.y}}"]
      podMetadata: {annotations: {cubit.dev/fake-duration-seconds: "$1"}}
      roles: {main: {}}
YAML
}

# exp_create NAME LO HI SECONDS SPEC_LINE...: the Experiment NAME searching x and y in
# [LO, HI], its trials running SECONDS, with the other spec lines given (objective,
# algorithm, limits, ...).
exp_create() {
  local name=$1 lo=$2 hi=$3 seconds=$4 line
  shift 4
  {
    printf 'apiVersion: cubit.dev/v1alpha1\nkind: Experiment\nmetadata: {name: %s}\nspec:\n  parameters:\n' "$name"
    # "y" quoted: YAML 1.1 reads a bare y as true.
    printf '  - {name: %s, type: double, min: %s, max: %s}\n' x "$lo" "$hi" '"y"' "$lo" "$hi"
    for line in "$@"; do printf '  %s\n' "$line"; done
    exp_template "$seconds"
  } | kubectl apply -n "$ns" -f - >/dev/null
}

# exp_expect_succeeded: waits until the Experiment ended, which must be Succeeded, and
# for the runner to stop by itself.
exp_expect_succeeded() {
  local phase
  phase=$(exp_wait_finished 600)
  echo "finished: $phase after $(exp_elapsed) s"
  [[ $phase == Succeeded ]] || exp_fail "Experiment $exp ended $phase, want Succeeded"
  exp_wait_runner
}

# exp_runner EXPERIMENT OPTIMUM [ARGS...]: trial-runner.py in the background until
# the Experiment is finished; its record in $work/record.
exp_runner() {
  exp=$1
  python3 "$repo/test/e2e/experiment/trial-runner.py" -n "$ns" --experiment "$1" --optimum "$2" \
    --until-finished --timeout 900 --record "$work/record" "${@:3}" 2>"$work/runner.err" &
  runner_pid=$!
}

# exp_status JSONPATH: a field of the Experiment's status.
exp_status() { kubectl get experiment -n "$ns" "$exp" -o jsonpath="{.status$1}" 2>/dev/null; }

# exp_wait_finished TIMEOUT: waits until the Experiment is Succeeded or Failed; prints
# the phase.
exp_wait_finished() {
  local phase="" deadline=$(($(date +%s) + $1))
  while (($(date +%s) < deadline)); do
    phase=$(exp_status .phase)
    [[ $phase == Succeeded || $phase == Failed ]] && break
    sleep 1
  done
  [[ $phase == Succeeded || $phase == Failed ]] ||
    exp_fail "Experiment $exp not finished after $1 s: phase [$phase], want Succeeded or Failed"
  printf '%s\n' "$phase"
}

# exp_wait_runner: the runner stops by itself once the Experiment is finished.
exp_wait_runner() {
  local code=0
  wait "$runner_pid" || code=$?
  runner_pid=""
  ((code == 0)) || exp_fail "trial-runner.py exited $code, want 0"
}

# exp_fail MESSAGE: the failure, then what the cluster shows.
exp_fail() {
  {
    echo "FAIL: $*"
    if [[ -n $exp ]]; then
      echo "--- Experiment $ns/$exp status (after $(exp_elapsed) s):"
      kubectl get experiment -n "$ns" "$exp" -o json 2>&1 | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin).get("status", {})
except ValueError:
    sys.exit(0)
s.pop("recentTrials", None)
print(json.dumps(s, indent=1, sort_keys=True))' || true
      echo "--- its trials (TrainingJobs):"
      kubectl get trainingjobs -n "$ns" -l "cubit.dev/experiment=$exp" \
        -o custom-columns='NAME:.metadata.name,TRIAL:.metadata.labels.cubit\.dev/trial,PHASE:.status.phase,PARAMETERS:.metadata.annotations.cubit\.dev/trial-parameters,METRICS:.metadata.annotations.cubit\.dev/trial-metrics' 2>&1 || true
      [[ ! -s $work/runner.err ]] || { echo "--- trial-runner.py (late pods, then its last lines):"; grep LATE "$work/runner.err" || true; tail -n 30 "$work/runner.err"; }
    fi
  } >&2
  exit 1
}

# exp_trials: the trials as JSON lines {name, number, phase, parameters, metrics}.
exp_trials() {
  kubectl get trainingjobs -n "$ns" -l "cubit.dev/experiment=$exp" -o json | python3 -c '
import json, sys
for tj in json.load(sys.stdin)["items"]:
    m = tj["metadata"]
    a = m.get("annotations") or {}
    print(json.dumps({
        "name": m["name"], "number": m.get("labels", {}).get("cubit.dev/trial"),
        "phase": (tj.get("status") or {}).get("phase"),
        "parameters": json.loads(a.get("cubit.dev/trial-parameters", "null")),
        "metrics": json.loads(a.get("cubit.dev/trial-metrics", "null")),
    }, sort_keys=True))'
}

# exp_check NAME <<'PY' ... PY: runs the Python on stdin with `status` (the
# Experiment's status), `trials` (exp_trials, by number), `record` (the runner's rows),
# `ns`, `fail(msg)` and the helpers below; a failed check fails the scenario with its
# message, and what the check prints is shown.
exp_check() {
  local name=$1 msg
  kubectl get experiment -n "$ns" "$exp" -o json >"$work/experiment.json"
  exp_trials >"$work/trials.jsonl"
  {
    cat <<'PY'
import json, os, subprocess, sys
w, ns = sys.argv[1], sys.argv[2]
status = json.load(open(os.path.join(w, "experiment.json"))).get("status") or {}
trials = [json.loads(l) for l in open(os.path.join(w, "trials.jsonl"))]
trials.sort(key=lambda t: int(t["number"] or 0))
rec = os.path.join(w, "record")
record = [json.loads(l) for l in open(rec)] if os.path.exists(rec) else []
def fail(msg):
    print(msg)
    sys.exit(1)
def shifted(p):
    """The runner's function for --optimum x=1.5/2,y=-0.5/2."""
    return ((p["x"] - 1.5) / 2) ** 2 + ((p["y"] + 0.5) / 2) ** 2
def expect_numbers(n):
    nums = [int(t["number"]) for t in trials]
    if nums != list(range(1, n + 1)):
        fail(f"trial numbers {nums}, want 1..{n}, each once")
def expect_in_time():
    """Only a note: a late pod's log was completed after kwok ended it, so the
    controller read it on a retry (expect_values judges what it recorded)."""
    late = [r["pod"] for r in record if r["late"]]
    if late:
        print(f"note: the runner completed these logs only after their pods ended (a loaded machine): {late}")
def expect_values(f):
    for t in trials:
        v = (t["metrics"] or {}).get("value")
        if v is None or abs(v - f(t["parameters"])) > 1e-6:
            fail(f"trial {t['name']} parameters {t['parameters']}: value {v} ({t['metrics']}), want f = {f(t['parameters'])}")
PY
    cat
  } >"$work/check.py"
  if ! msg=$(python3 "$work/check.py" "$work" "$ns" 2>&1); then
    exp_fail "$name: $msg"
  fi
  [[ -z $msg ]] || printf '%s\n' "$msg"
  echo "ok    $name"
}
