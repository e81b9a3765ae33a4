#!/usr/bin/env bash
# spec.placement.rescheduleOnClusterLoss end to end (docs/multicluster.md#placement-trainingjobs-run-in-members-implemented):
# a Project spanning the member and the hub (member first); a TrainingJob placed there by
# the Ordered policy whose pod never runs (its image "cannot be pulled": kind/local's
# fake kubelet). The member's API server stops for longer than the job's
# clusterLossGraceSeconds (30, the least allowed): the job is placed again on the hub
# (status.cluster local, the member in status.abandonedClusters, a Rescheduled Warning)
# and its Job is made in the hub. The member comes back: the job's Job there is deleted,
# so one run is left.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. The member uses CUBIT_MEMBER_PORT_BASE + 0..8 and is purged
# at the end.
set -euo pipefail
tag=multicluster-reschedule
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-resched-member
cluster=e2e-mcresched-member
secret=e2e-mcresched-member-kubeconfig
project=e2e-mcresched-project
ns=e2e-mcresched-team
job=e2e-mcresched-train

cleanup() {
  mc_cleanup trainingjobs
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o yaml >&2 2>/dev/null || true
  grep -E "$job|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

tfield() { "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o jsonpath="{$1}" 2>/dev/null; }
cond() { tfield ".status.conditions[?(@.type==\"$1\")].$2"; }
member_jobs() { "${mkubectl[@]}" -n "$ns" get jobs -l "cubit.dev/trainingjob=$job" -o name 2>/dev/null | wc -l; }
hub_jobs() { "${kubectl[@]}" -n "$ns" get jobs -l "cubit.dev/trainingjob=$job" -o name 2>/dev/null | wc -l; }

mc_join "clusters: [{name: $cluster}, {name: local}]"

"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $job, namespace: $ns}
spec:
  framework: batch
  image: busybox
  podMetadata: {annotations: {cubit.dev/fake-outcome: image-pull-backoff}}
  placement: {policy: Ordered, rescheduleOnClusterLoss: true, clusterLossGraceSeconds: 30}
  roles: {main: {replicas: 1, resources: {cpu: 100m, memory: 64Mi}}}
YAML
placed() {
  [[ $(tfield .status.cluster) == "$cluster" && $(member_jobs) == 1 && $(tfield .metadata.finalizers) == *remote-children* ]]
}
wait_for 60 "placed on the member, its Job there" placed
[[ $(tfield .status.pods.running) == 0 || -z $(tfield .status.pods.running) ]] || fail "its pod runs"

# The grace counts from when the hub saw the member go, which is after the stop began
# (stopping the API server takes a while: the hub may notice before it returns).
t_stop=$(date +%s)
"$repo/kind/local/member.sh" stop-apiserver "$member" >/dev/null 2>&1
replaced() { [[ $(tfield .status.cluster) == local ]]; }
wait_for 90 "placed again on the hub" replaced
away=$(($(date +%s) - t_stop))
((away >= 30)) || fail "re-placed after ${away}s, before the 30 s grace"
[[ $(tfield '.status.abandonedClusters[0]') == "$cluster" ]] ||
  fail "abandonedClusters: $(tfield .status.abandonedClusters)"
[[ $(cond Placed message) == "re-placed on cluster local: cluster $cluster unreachable for "* ]] ||
  fail "Placed: $(cond Placed message)"
"${kubectl[@]}" get events -n "$ns" --field-selector "involvedObject.name=$job,reason=Rescheduled" -o name | grep -q . ||
  fail "no Rescheduled event"
hub_job() { [[ $(hub_jobs) == 1 ]]; }
wait_for 30 "its Job in the hub" hub_job

"$repo/kind/local/member.sh" up "$member" >/dev/null 2>&1 || fail "the member did not restart"
member_clean() { [[ $(member_jobs) == 0 ]]; }
wait_for 90 "the member's Job deleted once it answers" member_clean
[[ $(hub_jobs) == 1 && $(tfield .status.cluster) == local ]] || fail "$(hub_jobs) Jobs in the hub, cluster $(tfield .status.cluster)"
say "PASS in $(($(date +%s) - t_start))s"
