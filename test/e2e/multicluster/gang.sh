#!/usr/bin/env bash
# Gang scheduling marks in a member cluster (docs/multicluster.md#gang-scheduling-in-members):
# no Cubit pod webhook runs in a member, so the hub writes the marks of the member's gang
# scheduler, named by its Cluster's spec.gangScheduler, into the pod templates of the
# engine object it applies there. A bad spec.gangScheduler is refused by the CRD, naming
# the field. The member's Cluster names coscheduling: a two-pod batch TrainingJob pinned
# to the member gets a Job there whose pod template, and both its pods, carry
# scheduling.x-k8s.io/pod-group=<job>. The member runs no Volcano (kind/local/member.sh
# installs none), so the Volcano marks and the PodGroup made there are proven by the
# unit rows of place_table in test/unit/test_trainingjob.c only.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: about a minute when it runs. The member uses
# CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster-gang
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-gang-member
cluster=e2e-gangmc-member
secret=e2e-gangmc-member-kubeconfig
project=e2e-gangmc-project
ns=e2e-gangmc-team
job=e2e-gangmc-train

cleanup() {
  mc_cleanup trainingjobs
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o yaml >&2 2>/dev/null || true
  "${kubectl[@]}" get cluster "$cluster" -o yaml >&2 2>/dev/null || true
  "${mkubectl[@]}" -n "$ns" get jobs,pods -o wide >&2 2>/dev/null || true
  grep -E "$job|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

tfield() { "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o jsonpath="{$1}" 2>/dev/null; }

mc_join "clusters: [{name: $cluster}, {name: local}]"

# A scheduler the grammar does not know is refused, naming the field.
if out=$("${kubectl[@]}" patch cluster "$cluster" --type merge -p '{"spec":{"gangScheduler":{"scheduler":"yunikorn"}}}' 2>&1); then
  fail "spec.gangScheduler.scheduler yunikorn was accepted"
fi
[[ $out == *"spec.gangScheduler.scheduler"* ]] || fail "the refusal does not name spec.gangScheduler.scheduler: $out"
say "gangScheduler yunikorn refused: spec.gangScheduler.scheduler${out##*spec.gangScheduler.scheduler}"

"${kubectl[@]}" patch cluster "$cluster" --type merge -p '{"spec":{"gangScheduler":{"scheduler":"coscheduling"}}}' >/dev/null
[[ $(cfield .spec.gangScheduler.scheduler) == coscheduling ]] || fail "spec.gangScheduler not kept: $(cfield .spec)"
wait_for 30 "the member Ready with its gang scheduler" cluster_ready

"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $job, namespace: $ns}
spec:
  framework: batch
  image: busybox
  command: [sh, -c, "sleep 3600"]
  cluster: $cluster
  podMetadata: {annotations: {cubit.dev/fake-outcome: run}}
  roles: {main: {replicas: 2, resources: {cpu: 100m, memory: 64Mi}}}
YAML
running() { [[ $(tfield .status.phase) == Running && $(tfield .status.pods.running) == 2 ]]; }
wait_for 60 "Running on the member, both pods" running
[[ $(tfield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(tfield .status.cluster)', not $cluster"
mark='scheduling\.x-k8s\.io/pod-group'
got=$("${mkubectl[@]}" -n "$ns" get job "$job" -o jsonpath="{.spec.template.metadata.labels.$mark}")
[[ $got == "$job" ]] || fail "the member's Job template has pod-group '$got', want $job"
pods=$("${mkubectl[@]}" -n "$ns" get pods -l "cubit.dev/trainingjob=$job" -o jsonpath="{range .items[*]}{.metadata.labels.$mark}{\"\\n\"}{end}")
[[ $(grep -cx "$job" <<<"$pods") == 2 ]] || fail "the member's pods carry pod-group '$pods', want $job on both"
# Coscheduling needs no PodGroup of Volcano's, and none was asked of the member.
say "the member's Job template and both pods carry $mark=$job"

"${kubectl[@]}" -n "$ns" delete trainingjob "$job" --wait=false >/dev/null
gone() {
  [[ -z $("${mkubectl[@]}" -n "$ns" get jobs -l "cubit.dev/trainingjob=$job" -o name 2>/dev/null) ]] &&
    ! "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o name >/dev/null 2>&1
}
wait_for 45 "the member's Job and the hub object gone" gone
say "PASS in $(($(date +%s) - t_start))s"
