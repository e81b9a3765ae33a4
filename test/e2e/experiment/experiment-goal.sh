#!/usr/bin/env bash
# A goal stops the Experiment (issue 15): TPE on f(x, y) = ((x - 1.5) / 2)^2 +
# ((y + 0.5) / 2)^2 over [-5, 5]^2 with goal 0.5 and maxTrials 40, 3 at a time. The
# Experiment Succeeds with fewer than 40 trials, its best value reaches the goal, no
# trial was started after the one that reached it was seen (at most the 3 running
# then, and the ones created with it), and its Ready condition says the goal was reached.
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exp_init goal
exp_project
exp_runner goal x=1.5/2,y=-0.5/2 --steps 2 --at-once
exp_create goal -5 5 5 "objective: {metric: loss, type: minimize, goal: 0.5}" "algorithm: {name: tpe, seed: 11}" \
  "parallelTrials: 3" "maxTrials: 40"
exp_expect_succeeded

exp_check "Succeeded early: the goal was reached with fewer than maxTrials trials" <<'PY'
def value(t):
    return (t["metrics"] or {}).get("value")
expect_in_time()
expect_numbers(len(trials))
n = len(trials)
reached = [t for t in trials if value(t) is not None and value(t) <= 0.5]
print(f"{n} trials; values: " + " ".join(f"{t['number']}:{value(t) if value(t) is None else round(value(t), 3)}" for t in trials))
if not n < 40:
    fail(f"{n} trials, want fewer than maxTrials 40")
if not reached:
    fail("no trial reached the goal 0.5, yet the Experiment Succeeded")
first = int(reached[0]["number"])
if n > first + 3:
    fail(f"trial {first} reached the goal, but {n} trials were made (want at most {first + 3}: those running or created with it)")
best = status.get("bestTrial") or {}
if not (best.get("value") is not None and best["value"] <= 0.5):
    fail(f"bestTrial {best}, want a value <= the goal 0.5")
ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
text = " ".join(f"{c.get('reason', '')} {c.get('message', '')}" for c in ready)
print(f"Ready: {text}")
if "goal" not in text.lower():
    fail(f"Ready condition [{text}] does not say the goal was reached")
PY
# Deleting trials of the finished Experiment, the best one among them, starts no
# other trial and loses neither its result nor its end.
best=$(exp_status '.bestTrial.name') made=$(exp_status '.trials.created')
kubectl delete trainingjob -n "$ns" "$best" "$exp-1" --ignore-not-found --wait=true >/dev/null
sleep 8
left=$(kubectl get trainingjobs -n "$ns" -l "cubit.dev/experiment=$exp" -o name | wc -l)
[[ $left -eq $((made - 2)) || ($best == "$exp-1" && $left -eq $((made - 1))) ]] ||
  exp_fail "after deleting $best and $exp-1 of $made trials, $left are left (a trial was made again)"
[[ $(exp_status '.phase') == Succeeded && $(exp_status '.bestTrial.name') == "$best" && $(exp_status '.trials.created') == "$made" ]] ||
  exp_fail "after deleting trials: phase $(exp_status '.phase'), best $(exp_status '.bestTrial.name') (want $best), created $(exp_status '.trials.created') (want $made)"
echo "ok    deleting trials (the best, $best) starts none and keeps the result"
echo "PASS ($(exp_elapsed) s)"
