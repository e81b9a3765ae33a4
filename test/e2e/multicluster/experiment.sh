#!/usr/bin/env bash
# An Experiment whose trials run in a member cluster (docs/multicluster.md#placement):
# its trialTemplate.trainingJob names the member in spec.cluster, so every trial (a
# TrainingJob) is placed there; the trials' pods and their logs exist only in the
# member, and the hub's Experiment controller reads each finished trial's metrics
# (metricsCollector stdout: the pod's log) through the hub's client for the member.
# Two trials, their logs written in the member with known losses; the Experiment
# Succeeds with both trials Succeeded and the lower loss as its best value.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: about 2 minutes when it runs. The member uses
# CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster-experiment
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-exp-member
cluster=e2e-expmc-member
secret=e2e-expmc-member-kubeconfig
project=e2e-expmc-project
ns=e2e-expmc-team
exp=e2e-expmc-search

cleanup() {
  mc_cleanup experiments trainingjobs
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get experiment "$exp" -o yaml >&2 2>/dev/null || true
  "${kubectl[@]}" -n "$ns" get trainingjobs -o wide >&2 2>/dev/null || true
  grep -E "$exp" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up
member_state=$(dirname "$member_kubeconfig")

efield() { "${kubectl[@]}" -n "$ns" get experiment "$exp" -o jsonpath="{$1}" 2>/dev/null; }

mc_join "clusters: [{name: local}, {name: $cluster}]"

# The trials are pinned to the member (the hub is first in the project's order, so a
# trial placed by policy would run in the hub). Each pod runs 25 s, long enough for
# its log to be written before it ends.
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Experiment
metadata: {name: $exp, namespace: $ns}
spec:
  objective: {metric: loss, type: minimize}
  parameters: [{name: x, type: double, min: 0, max: 1}]
  algorithm: {name: random, seed: 3}
  parallelTrials: 2
  maxTrials: 2
  maxFailedTrials: 0
  metricsCollector: {source: stdout, format: text}
  trialTemplate:
    trainingJob:
      framework: batch
      image: busybox
      command: [sh, -c, "echo loss"]
      cluster: $cluster
      podMetadata:
        annotations: {cubit.dev/fake-outcome: succeed, cubit.dev/fake-duration-seconds: "25"}
      roles: {main: {replicas: 1, resources: {cpu: 100m, memory: 64Mi}}}
YAML

# The trials' pods, in the member only, each given its log: the first trial's loss 0.25,
# the second's 0.75.
member_trial_pods() {
  "${mkubectl[@]}" -n "$ns" get pods -l cubit.dev/trainingjob -o \
    jsonpath='{range .items[*]}{.metadata.name} {.metadata.labels.cubit\.dev/trainingjob} {.status.phase}{"\n"}{end}' 2>/dev/null
}
two_running() { [[ $(member_trial_pods | grep -c ' Running$') == 2 ]]; }
wait_for 90 "two trial pods Running in the member" two_running
[[ -z $("${kubectl[@]}" -n "$ns" get pods -l cubit.dev/trainingjob -o name 2>/dev/null) ]] ||
  fail "trial pods exist in the hub"
while read -r pod trial _; do
  loss=0.75
  [[ $trial == "$exp-1" ]] && loss=0.25
  printf 'step=1 loss=0.9\nstep=2 loss=%s\n' "$loss" |
    CUBIT_LOCAL_STATE=$member_state "$repo/kind/local/pod-log.sh" -n "$ns" "$pod" || fail "writing the log of $pod"
  say "trial $trial (pod $pod in the member): loss $loss"
done < <(member_trial_pods)

succeeded() { [[ $(efield .status.phase) == Succeeded ]]; }
wait_for 90 "the Experiment Succeeded" succeeded
[[ $(efield .status.trials.succeeded) == 2 ]] || fail "$(efield .status.trials.succeeded) trials succeeded, want 2"
[[ $(efield .status.bestTrial.name) == "$exp-1" && $(efield .status.bestTrial.value) == 0.25 ]] ||
  fail "best trial $(efield .status.bestTrial.name) value $(efield .status.bestTrial.value), want $exp-1 0.25"
for t in 1 2; do
  [[ $("${kubectl[@]}" -n "$ns" get trainingjob "$exp-$t" -o jsonpath='{.status.cluster}') == "$cluster" ]] ||
    fail "trial $exp-$t was not placed on $cluster"
done
say "PASS in $(($(date +%s) - t_start))s"
