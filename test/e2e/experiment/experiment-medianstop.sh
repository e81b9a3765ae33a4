#!/usr/bin/env bash
# medianstop stops clearly bad trials early (issue 15): random search, 9 trials, 3 at
# a time, each running 45 s (the controller reads running trials' logs at least every
# 30 s) and reporting 15 steps of a curve that falls to
# f(x, y) = x^2 + y^2 over [0, 10]^2 and ranks trials as f does from the first step.
# With minTrials 3 and startStep 2, trials worse than the median are EarlyStopped
# before they finish: at least one is; every one of them is worth more (worse) than
# the median of the succeeded trials; none got all its 15 steps out before it was
# stopped; and the Experiment Succeeds with its 9 trials.
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exp_init medianstop
exp_project
exp_runner stop x=0/1,y=0/1 --steps 15
exp_create stop 0 10 45 "objective: {metric: loss, type: minimize}" "algorithm: {name: random, seed: 3}" \
  "earlyStopping: {name: medianstop, settings: {minTrials: 3, startStep: 2}}" "parallelTrials: 3" "maxTrials: 9"
exp_expect_succeeded

exp_check "bad trials EarlyStopped before their end, good ones Succeeded" <<'PY'
def f(p):
    return p["x"] ** 2 + p["y"] ** 2
def state(t):
    return (t["metrics"] or {}).get("state")
expect_numbers(9)
stopped = [t for t in trials if state(t) == "EarlyStopped"]
done = [t for t in trials if state(t) == "Succeeded"]
print("trials (number state f): " + " ".join(f"{t['number']}:{state(t)}:{f(t['parameters']):.1f}" for t in trials))
other = [(t["name"], state(t)) for t in trials if t not in stopped and t not in done]
if other:
    fail(f"trials neither Succeeded nor EarlyStopped: {other}")
if not stopped:
    fail(f"no trial was EarlyStopped, want at least one (status.trials {status.get('trials')})")
if (status.get("trials") or {}).get("earlyStopped") != len(stopped):
    fail(f"status.trials {status.get('trials')}, want earlyStopped {len(stopped)}")
fs = sorted(f(t["parameters"]) for t in done)
median = (fs[(len(fs) - 1) // 2] + fs[len(fs) // 2]) / 2
for t in stopped:
    if not f(t["parameters"]) > median:
        fail(f"trial {t['name']} (f = {f(t['parameters']):.2f}) was stopped, but the succeeded trials' median f is {median:.2f}")
    rows = [r for r in record if r["trial"] == t["number"]]
    if not rows or rows[-1]["written"] >= rows[-1]["steps"]:
        fail(f"trial {t['name']} was stopped only after its last step: runner rows {rows}")
best = status.get("bestTrial") or {}
want = min(done, key=lambda t: f(t["parameters"]))
if best.get("name") != want["name"]:
    fail(f"bestTrial {best.get('name')}, want {want['name']} (the best succeeded trial)")
PY
echo "PASS ($(exp_elapsed) s)"
