#!/usr/bin/env bash
# The manager is SIGKILLed mid-Experiment and restarted (issue 15): TPE, 12 trials, 3
# at a time, trials of 8 s. Once 4 trials exist the manager is killed; while it is down kwok finishes
# the running trials; then it is started again (test/e2e/cubit-up.sh, as after a
# crash). The Experiment Succeeds with exactly the trials 1..12: no number missing or
# twice, each trial made once (one pod served per trial), each worth f of its
# parameters, and the counts in its status add up.
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exp_init restart
exp_project
exp_runner crash x=1.5/2,y=-0.5/2 --steps 3 --at-once
exp_create crash -5 5 8 "objective: {metric: loss, type: minimize}" "algorithm: {name: tpe, seed: 5}" \
  "parallelTrials: 3" "maxTrials: 12"
for _ in $(seq 240); do
  n=$(kubectl get trainingjobs -n "$ns" -l cubit.dev/experiment=crash -o name | wc -l)
  ((n >= 4)) && break
  sleep 0.5
done
((n >= 4)) || exp_fail "the Experiment made $n trials in 120 s, want 4 before the kill"
pid=$(cat "$state/manager.pid")
grep -q cubit-manager "/proc/$pid/cmdline" 2>/dev/null || exp_fail "no cubit-manager at pid $pid ($state/manager.pid)"
kill -KILL "$pid"
echo "killed cubit-manager (pid $pid) with SIGKILL at $(exp_elapsed) s with $n trials: $(kubectl get trainingjobs -n "$ns" -l cubit.dev/experiment=crash -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}')"
sleep 6 # the running trials end while no manager looks
echo "restarting it at $(exp_elapsed) s"
CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >"$work/up.log" 2>&1 ||
  { cat "$work/up.log" >&2; exp_fail "test/e2e/cubit-up.sh could not restart the manager"; }
echo "manager ready again at $(exp_elapsed) s"
exp_expect_succeeded

exp_check "trials 1..12, each once, none lost, each worth f of its parameters" <<'PY'
expect_numbers(12)
names = [t["name"] for t in trials]
if names != [f"crash-{i}" for i in range(1, 13)]:
    fail(f"trial names {names}, want crash-1..crash-12")
expect_in_time()
expect_values(shifted)
served = {}
for r in record:
    served.setdefault(r["trial"], []).append(r["pod"])
twice = {k: v for k, v in served.items() if len(v) != 1}
if twice or len(served) != 12:
    fail(f"pods served per trial: {served}, want one pod for each of the 12 trials")
bad = [(t["name"], t["phase"]) for t in trials if t["phase"] != "Succeeded"]
if bad:
    fail(f"trials not Succeeded: {bad}")
counts = status.get("trials") or {}
if counts.get("total") != 12 or counts.get("succeeded") != 12:
    fail(f"status.trials {counts}, want total 12, succeeded 12")
params = [json.dumps(t["parameters"], sort_keys=True) for t in trials]
if len(set(params)) != 12:
    fail(f"an assignment was suggested twice: {params}")
PY
echo "PASS ($(exp_elapsed) s)"
