#!/usr/bin/env bash
# A PipelineRun placed as a whole on a member cluster (docs/multicluster.md, "PipelineRuns
# placed as a whole"): a Project spanning the hub and a member (the hub first, so only
# the run's spec.cluster sends it to the member), a pipeline of two tasks sharing a
# work volume made per run, the second reading the first's output. The run is placed
# on the member (status.cluster, Placed); its work claim exists in the member only;
# both tasks' TrainingJobs are pinned there and their pods run there, not in the hub;
# the first task's output is read in the member (its outputs reader Job runs there) and
# passed to the second; the run Succeeds on the hub. Deleting the run deletes its
# claim and readers in the member (the finalizer cubit.dev/remote-children), then the
# run goes.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: about 2 minutes once the member is up. The member
# uses CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster-pipeline
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-pl-member
cluster=e2e-plmc-member
secret=e2e-plmc-member-kubeconfig
project=e2e-plmc-project
ns=e2e-plmc-team
run=e2e-plmc-run
pv=e2e-plmc-run-work

cleanup() {
  mc_cleanup pipelineruns trainingjobs pipelines jobtemplates
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get pipelinerun "$run" -o yaml >&2 2>/dev/null || true
  "${kubectl[@]}" -n "$ns" get trainingjobs -o wide >&2 2>/dev/null || true
  "${mkubectl[@]}" -n "$ns" get jobs,pods,pvc -o wide >&2 2>/dev/null || true
  grep -E "$run" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

rfield() { "${kubectl[@]}" -n "$ns" get pipelinerun "$run" -o jsonpath="{$1}" 2>/dev/null; }
cond() { rfield ".status.conditions[?(@.type==\"$1\")].$2"; }
member_children() {
  "${mkubectl[@]}" -n "$ns" get jobs,pvc -l "cubit.dev/pipelinerun=$run" -o name 2>/dev/null | wc -l
}

mc_join "clusters: [{name: local}, {name: $cluster}]"

mc_member_pv "$pv" "$run-work" cubit-e2e-manual

# Task a writes an output (the fake reader reports it from the pod's termination
# message); task b takes it as a parameter and shows it in its command.
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: JobTemplate
metadata: {name: step, namespace: $ns}
spec:
  parameters:
  - {name: dataset, default: none}
  outputs:
  - {name: model, path: model.txt}
  workload:
    framework: batch
    image: busybox
    command: [sh, -c, 'echo trained-on-{{params.dataset}} > \$CUBIT_OUTPUT_model']
    podMetadata:
      annotations:
        cubit.dev/fake-termination-message: "model=trained-on-{{params.dataset}}"
        cubit.dev/fake-duration-seconds: "3"
    roles: {main: {replicas: 1, resources: {cpu: 100m, memory: 64Mi}}}
---
apiVersion: cubit.dev/v1alpha1
kind: Pipeline
metadata: {name: two, namespace: $ns}
spec:
  workVolume:
    volumeClaimTemplate:
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: cubit-e2e-manual
        resources: {requests: {storage: 1Gi}}
  tasks:
  - {name: a, templateRef: {name: step}, params: {dataset: mnist}}
  - {name: b, templateRef: {name: step}, dependsOn: [a], params: {dataset: "{{tasks.a.outputs.model}}"}}
---
apiVersion: cubit.dev/v1alpha1
kind: PipelineRun
metadata: {name: $run, namespace: $ns}
spec:
  pipelineRef: {name: two}
  cluster: $cluster
YAML

succeeded() { [[ $(rfield .status.phase) == Succeeded ]]; }
wait_for 150 "the run Succeeded on the hub" succeeded
[[ $(rfield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(rfield .status.cluster)', not $cluster"
[[ $(cond Placed message) == "placed on cluster $cluster (spec.cluster)" ]] || fail "Placed: $(cond Placed message)"
[[ $(rfield .status.nodes.a.outputs.model) == trained-on-mnist ]] ||
  fail "task a's output is '$(rfield .status.nodes.a.outputs.model)'"
[[ $(rfield .status.nodes.b.outputs.model) == trained-on-trained-on-mnist ]] ||
  fail "task b did not get a's output: its own is '$(rfield .status.nodes.b.outputs.model)'"
for t in a b; do
  tj=$run-$t-1
  [[ $("${kubectl[@]}" -n "$ns" get trainingjob "$tj" -o jsonpath='{.status.cluster}') == "$cluster" ]] ||
    fail "TrainingJob $tj is not placed on $cluster"
  [[ -n $("${mkubectl[@]}" -n "$ns" get pods -l "cubit.dev/trainingjob=$tj" -o name 2>/dev/null) ]] ||
    fail "no pod of $tj in the member"
  [[ -n $("${mkubectl[@]}" -n "$ns" get job "$tj-outputs" -o name 2>/dev/null) ]] ||
    fail "no outputs reader $tj-outputs in the member"
done
[[ -z $("${kubectl[@]}" -n "$ns" get pods,jobs,pvc -o name 2>/dev/null) ]] ||
  fail "pods, Jobs or claims of the run exist in the hub: $("${kubectl[@]}" -n "$ns" get pods,jobs,pvc -o name)"
[[ $("${mkubectl[@]}" -n "$ns" get pvc "$run-work" -o jsonpath='{.metadata.labels.cubit\.dev/owner-uid}') == \
  "$(rfield .metadata.uid)" ]] || fail "the member's claim does not carry the run's uid"
[[ $(rfield .metadata.finalizers) == *cubit.dev/remote-children* ]] || fail "no finalizer: $(rfield .metadata.finalizers)"

# Deleting the run deletes its claim and readers in the member, then the run goes.
"${kubectl[@]}" -n "$ns" delete pipelinerun "$run" --wait=false >/dev/null
gone() { [[ $(member_children) == 0 ]] && ! "${kubectl[@]}" -n "$ns" get pipelinerun "$run" -o name >/dev/null 2>&1; }
wait_for 90 "the member's claim and readers and the hub run gone" gone
say "PASS in $(($(date +%s) - t_start))s"
