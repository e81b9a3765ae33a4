#!/usr/bin/env bash
# Gang scheduling marks in a member cluster (docs/multicluster.md#gang-scheduling-in-members):
# no Cubit pod webhook runs in a member, so the hub writes the marks of the member's gang
# scheduler, named by its Cluster's spec.gangScheduler, into the pod templates of the
# engine object it applies there. A bad spec.gangScheduler is refused by the CRD, naming
# the field.
#   volcano: a two-pod batch TrainingJob pinned to the member gets a Job there whose pod
#     template and both pods carry schedulerName volcano, scheduling.k8s.io/group-name
#     and volcano.sh/task-spec, and its PodGroup (minMember 2, labelled back to the hub
#     object) is made there; deleting the job deletes both. The member serves Volcano's
#     CRDs but runs no Volcano scheduler, so those pods stay unscheduled: the marks and
#     the PodGroup are what is proven, not Volcano's ganging.
#   coscheduling: the next job's Job template and both (running) pods carry
#     scheduling.x-k8s.io/pod-group=<job>, and no PodGroup is made.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: about two minutes when it runs. The member uses
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

cleanup() {
  mc_cleanup trainingjobs
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get trainingjob "${job:-}" -o yaml >&2 2>/dev/null || true
  "${kubectl[@]}" get cluster "$cluster" -o yaml >&2 2>/dev/null || true
  "${mkubectl[@]}" -n "$ns" get jobs,pods -o wide >&2 2>/dev/null || true
  grep -E "${job:-e2e-gangmc}|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
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

# make_job NAME: a two-pod batch TrainingJob pinned to the member.
make_job() {
  "${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $1, namespace: $ns}
spec:
  framework: batch
  image: busybox
  command: [sh, -c, "sleep 3600"]
  cluster: $cluster
  podMetadata: {annotations: {cubit.dev/fake-outcome: run}}
  roles: {main: {replicas: 2, resources: {cpu: 100m, memory: 64Mi}}}
YAML
}
mjob() { "${mkubectl[@]}" -n "$ns" get job "$job" -o jsonpath="{$1}" 2>/dev/null; }
# The value of jsonpath $1 on each of the member's pods of the job, one a line.
mpods() {
  "${mkubectl[@]}" -n "$ns" get pods -l "cubit.dev/trainingjob=$job" -o jsonpath="{range .items[*]}{$1}{\"\\n\"}{end}" 2>/dev/null
}
both() { [[ $(grep -cx -- "$2" <<<"$(mpods "$1")") == 2 ]]; }
mpodgroup() { "${mkubectl[@]}" -n "$ns" get podgroups.scheduling.volcano.sh "$job" -o jsonpath="{$1}" 2>/dev/null; }
deleted() {
  "${kubectl[@]}" -n "$ns" delete trainingjob "$job" --wait=false >/dev/null
  gone() {
    [[ -z $("${mkubectl[@]}" -n "$ns" get jobs,podgroups.scheduling.volcano.sh -l "cubit.dev/trainingjob=$job" -o name 2>/dev/null) ]] &&
      ! "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o name >/dev/null 2>&1
  }
  wait_for 60 "the member's Job and PodGroup and the hub object of $job gone" gone
}

# --- volcano
"${kubectl[@]}" patch cluster "$cluster" --type merge -p '{"spec":{"gangScheduler":{"scheduler":"volcano"}}}' >/dev/null
[[ $(cfield .spec.gangScheduler.scheduler) == volcano ]] || fail "spec.gangScheduler not kept: $(cfield .spec)"
wait_for 30 "the member Ready with its gang scheduler" cluster_ready
job=e2e-gangmc-volcano
make_job "$job"
pods_made() { [[ $(mpods .metadata.name | grep -c .) == 2 ]]; }
wait_for 60 "the member's Job and its two pods" pods_made
[[ $(mjob .spec.template.spec.schedulerName) == volcano ]] || fail "the member's Job template: schedulerName '$(mjob .spec.template.spec.schedulerName)'"
[[ $(mjob '.spec.template.metadata.annotations.scheduling\.k8s\.io/group-name') == "$job" &&
  $(mjob '.spec.template.metadata.annotations.volcano\.sh/task-spec') == main ]] ||
  fail "the member's Job template annotations: $(mjob .spec.template.metadata.annotations)"
both .spec.schedulerName volcano && both '.metadata.annotations.scheduling\.k8s\.io/group-name' "$job" &&
  both '.metadata.annotations.volcano\.sh/task-spec' main || fail "the member's pods: $(mpods .metadata)"
podgroup() { [[ $(mpodgroup .spec.minMember) == 2 ]]; }
wait_for 30 "the PodGroup $job in the member (minMember 2)" podgroup
[[ $(mpodgroup '.metadata.labels.cubit\.dev/owner-uid') == "$(tfield .metadata.uid)" && -z $(mpodgroup .metadata.ownerReferences) ]] ||
  fail "the member's PodGroup is not labelled back to the hub object: $(mpodgroup .metadata)"
say "volcano: the member's Job template and both pods marked, PodGroup $job there"
deleted

# --- coscheduling
"${kubectl[@]}" patch cluster "$cluster" --type merge -p '{"spec":{"gangScheduler":{"scheduler":"coscheduling"}}}' >/dev/null
job=e2e-gangmc-cosched
make_job "$job"
running() { [[ $(tfield .status.phase) == Running && $(tfield .status.pods.running) == 2 ]]; }
wait_for 60 "Running on the member, both pods" running
[[ $(tfield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(tfield .status.cluster)', not $cluster"
mark='scheduling\.x-k8s\.io/pod-group'
[[ $(mjob ".spec.template.metadata.labels.$mark") == "$job" ]] ||
  fail "the member's Job template labels: $(mjob .spec.template.metadata.labels)"
both ".metadata.labels.$mark" "$job" || fail "the member's pods' labels: $(mpods .metadata.labels)"
[[ -z $(mjob .spec.template.spec.schedulerName) || $(mjob .spec.template.spec.schedulerName) == default-scheduler ]] ||
  fail "schedulerName $(mjob .spec.template.spec.schedulerName) for coscheduling"
[[ -z $(mpodgroup .metadata.name) ]] || fail "a Volcano PodGroup was made for coscheduling"
say "coscheduling: the member's Job template and both pods carry scheduling.x-k8s.io/pod-group=$job, no PodGroup"
deleted
say "PASS in $(($(date +%s) - t_start))s"
