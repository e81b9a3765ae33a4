#!/usr/bin/env bash
# An Experiment converges (issue 15): Bayesian optimisation, 16 trials, 3 at a time, on
# f(x, y) = ((x - 1.5) / 2)^2 + ((y + 0.5) / 2)^2 over [-5, 5]^2 (minimum 0 at
# (1.5, -0.5)), which trial-runner.py reports as each trial's loss. The Experiment
# Succeeds with 16 trials; its bestTrial is the best trial, within 0.1 of the optimum
# and better than the best of the first 3 (random) trials, and the model-guided trials
# (after the 5 random ones) come within 0.25; every trial's value is f of its
# parameters, and its pod got them as arguments.
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exp_init converges
exp_project
exp_runner search x=1.5/2,y=-0.5/2 --steps 3 --at-once
exp_create search -5 5 5 "objective: {metric: loss, type: minimize}" "algorithm: {name: bayesian, seed: 7}" \
  "parallelTrials: 3" "maxTrials: 16"
exp_expect_succeeded

exp_check "16 trials, each Succeeded, numbered 1..16" <<'PY'
expect_numbers(16)
bad = [(t["name"], t["phase"]) for t in trials if t["phase"] != "Succeeded"]
if bad:
    fail(f"trials not Succeeded: {bad}")
if (status.get("trials") or {}).get("succeeded") != 16:
    fail(f"status.trials {status.get('trials')}, want succeeded 16")
PY

exp_check "each trial is worth f of its parameters (the runner served it in time)" <<'PY'
expect_in_time()
expect_values(shifted)
PY

exp_check "bestTrial is the best, within 0.1 of the optimum 0, better than the first 3 trials" <<'PY'
best = status.get("bestTrial") or {}
values = {t["name"]: t["metrics"]["value"] for t in trials}
lowest = min(values, key=values.get)
first3 = min(values[t["name"]] for t in trials if int(t["number"]) <= 3)
print(f"best {best.get('name')} = {best.get('value')} at {best.get('parameters')}; best of trials 1-3 = {first3:.4g}")
print("values by trial: " + " ".join(f"{t['number']}:{values[t['name']]:.3g}" for t in trials))
if best.get("name") != lowest or abs(best.get("value", 1e9) - values[lowest]) > 1e-9:
    fail(f"bestTrial {best.get('name')} ({best.get('value')}), want {lowest} ({values[lowest]})")
if not values[lowest] <= 0.1:
    fail(f"best value {values[lowest]:.4g}, want <= 0.1 (optimum 0 at x=1.5, y=-0.5)")
if not values[lowest] < first3:
    fail(f"best value {values[lowest]:.4g} is no better than the first 3 trials' best {first3:.4g}")
# The first 5 are random (nStartup = 2 x 2 parameters + 1): the model's own come near too.
guided = min(values[t["name"]] for t in trials if int(t["number"]) > 5)
print(f"best of the model-guided trials 6-16 = {guided:.4g}")
if not guided <= 0.25:
    fail(f"the model-guided trials 6-16 reach at best {guided:.4g}, want <= 0.25")
PY

# The template's {{trial.parameters.*}} reached the pods: a trial's arguments.
exp_check "trial pods got their parameters as arguments" <<'PY'
for t in trials:
    out = subprocess.run([os.environ["KUBECTL"], "get", "pods", "-n", ns, "-l", "cubit.dev/trainingjob=" + t["name"],
                          "-o", "jsonpath={.items[0].spec.containers[0].args}"], capture_output=True, text=True).stdout
    args = json.loads(out) if out else None
    p = t["parameters"]
    want = [f"--x={p['x']}", f"--y={p['y']}"]
    try:
        ok = len(args) == 2 and abs(float(args[0].split("=")[1]) - p["x"]) < 1e-9 and abs(float(args[1].split("=")[1]) - p["y"]) < 1e-9
    except (TypeError, ValueError, IndexError):
        ok = False
    if not ok:
        fail(f"trial {t['name']} parameters {p}: pod args {args}, want {want}")
PY
# kubectl-cubit shows the same search: every trial and the status' best.
build=${CUBIT_BUILD_DIR:-$repo/build}
if ninja -C "$build" kubectl-cubit >/dev/null 2>&1; then
  tree=$("$build/kubectl-cubit" -n "$ns" get "experiment/$exp") || exp_fail "kubectl cubit get experiment/$exp failed: $tree"
  best=$(kubectl get experiment "$exp" -n "$ns" -o jsonpath='{.status.bestTrial.name}')
  grep -q "^Trials: *16 (0 going, 16 succeeded, 0 failed)" <<<"$tree" ||
    exp_fail "kubectl cubit get: want 16 succeeded trials, got:"$'\n'"$tree"
  grep -q "^Best: .*($best)" <<<"$tree" && grep -q " $best .*(best)$" <<<"$tree" ||
    exp_fail "kubectl cubit get: want the best trial $best marked, got:"$'\n'"$tree"
  echo "ok: kubectl cubit get experiment/$exp lists the 16 trials and marks $best"
fi
echo "PASS ($(exp_elapsed) s)"
