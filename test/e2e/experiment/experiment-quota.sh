#!/usr/bin/env bash
# A Project quota holds parallel trials back (issue 15): the Project admits one pod at
# a time (quota pods 1), the Experiment asks for 3 at a time and 4 trials. Never more
# than one trial pod exists unfinished (sampled every half second), the Experiment
# says why it waits (a condition or its phase naming the quota) and still Succeeds
# with its 4 trials, none of them Failed.
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exp_init quota
exp_project "{pods: 1}"
exp_runner held x=1.5/2,y=-0.5/2 --steps 2 --at-once
exp_create held -5 5 5 "objective: {metric: loss, type: minimize}" "algorithm: {name: random, seed: 2}" \
  "parallelTrials: 3" "maxTrials: 4"
# Samples: unfinished trial pods, and what the Experiment says, until it finished.
deadline=$(($(date +%s) + 600))
phase=""
while (($(date +%s) < deadline)); do
  kubectl get pods -n "$ns" -l cubit.dev/experiment=held -o json | python3 -c '
import json, sys
pods = json.load(sys.stdin)["items"]
busy = [p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
print(len(busy), " ".join(busy))' >>"$work/pods"
  kubectl get experiment -n "$ns" held -o json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status") or {}
print(s.get("phase"), "|", " | ".join("%s=%s %s: %s" % (c.get("type"), c.get("status"), c.get("reason", ""), c.get("message", ""))
                                    for c in s.get("conditions") or []))' >>"$work/said" || true
  phase=$(exp_status .phase)
  [[ $phase == Succeeded || $phase == Failed ]] && break
  sleep 0.5
done
echo "finished: $phase after $(exp_elapsed) s"
[[ $phase == Succeeded ]] || exp_fail "Experiment held ended [$phase], want Succeeded"
exp_wait_runner

most=$(sort -n "$work/pods" | tail -n 1)
[[ ${most%% *} -le 1 ]] || exp_fail "$most: ${most%% *} trial pods unfinished at once, want at most 1 (quota pods 1)"
echo "ok    never more than 1 trial pod at once (most: ${most%% *})"
grep -i quota "$work/said" | sort -u | head -n 3 >"$work/why" || true
[[ -s $work/why ]] || exp_fail "the Experiment never said it waited for the quota; it said: $(sort -u "$work/said" | head -n 10)"
echo "ok    the Experiment said why it waited: $(head -n 1 "$work/why")"
exp_check "4 trials, all Succeeded" <<'PY'
expect_numbers(4)
expect_in_time()
expect_values(shifted)
bad = [(t["name"], t["phase"]) for t in trials if t["phase"] != "Succeeded"]
if bad:
    fail(f"trials not Succeeded: {bad}")
PY
echo "PASS ($(exp_elapsed) s)"
