#!/usr/bin/env bash
# A TrainingJob placed on a member cluster (docs/multicluster.md#placement): a Project
# spanning the member and the hub (member first), a batch TrainingJob placed there by
# the Ordered policy. Its Job exists in the member and not in the hub, carries labels
# back to the hub object and no ownerReference; its status (phase, pods) is seen on the
# hub. The member's API server stops mid-run: the hub says ClusterReachable=False with
# the Cluster's words, the phase stays; it comes back: ClusterReachable=True, exactly one
# Job and one pod in the member. Deleting the hub object deletes the member's Job (the
# finalizer cubit.dev/remote-children). Admission refuses a spec.cluster the project
# does not list, and the CRD refuses changing spec.cluster.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: about 2 minutes when it runs. The member uses
# CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster-trainingjob
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-tj-member
cluster=e2e-tjmc-member
secret=e2e-tjmc-member-kubeconfig
project=e2e-tjmc-project
ns=e2e-tjmc-team
job=e2e-tjmc-train


cleanup() {
  mc_cleanup trainingjobs
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o yaml >&2 2>/dev/null || true
  "${kubectl[@]}" get cluster "$cluster" -o jsonpath='{.status.phase} {.status.conditions}{"\n"}' >&2 2>/dev/null || true
  grep -E "$job|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

tfield() { "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o jsonpath="{$1}" 2>/dev/null; }
cond() { tfield ".status.conditions[?(@.type==\"$1\")].$2"; }
member_jobs() { "${mkubectl[@]}" -n "$ns" get jobs -l "cubit.dev/trainingjob=$job" -o name 2>/dev/null | wc -l; }
member_pods() { "${mkubectl[@]}" -n "$ns" get pods -l "cubit.dev/trainingjob=$job" -o name 2>/dev/null | wc -l; }

mc_join "clusters: [{name: $cluster}, {name: local}]"

# Admission: a cluster the project does not list is refused, naming the field.
if out=$("${kubectl[@]}" apply -f - 2>&1 <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: e2e-tjmc-nowhere, namespace: $ns}
spec:
  framework: batch
  image: busybox
  cluster: nowhere
  roles: {main: {replicas: 1, resources: {cpu: 100m, memory: 64Mi}}}
YAML
); then fail "a TrainingJob with spec.cluster nowhere was admitted"; fi
[[ $out == *"spec.cluster: nowhere is not one of project $project's clusters ($cluster, local)"* ]] ||
  fail "the refusal does not name spec.cluster: $out"
say "spec.cluster nowhere refused: spec.cluster${out##*: spec.cluster}"

# Placed by policy (Ordered: the member is first in the project's list and has room).
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $job, namespace: $ns}
spec:
  framework: batch
  image: busybox
  command: [sh, -c, "sleep 3600"]
  podMetadata: {annotations: {cubit.dev/fake-outcome: run}}
  placement: {policy: Ordered}
  roles: {main: {replicas: 1, resources: {cpu: 100m, memory: 64Mi}}}
YAML
running() { [[ $(tfield .status.phase) == Running && $(tfield .status.pods.running) == 1 ]]; }
wait_for 60 "Running on the hub" running
[[ $(tfield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(tfield .status.cluster)', not $cluster"
[[ $(cond Placed status) == True && $(cond Placed message) == "placed on cluster $cluster (policy Ordered)" ]] ||
  fail "Placed: $(cond Placed status) $(cond Placed message)"
[[ $(cond ClusterReachable status) == True ]] || fail "ClusterReachable is '$(cond ClusterReachable status)'"
[[ $(member_jobs) == 1 ]] || fail "$(member_jobs) Jobs in the member, want 1"
! "${kubectl[@]}" -n "$ns" get job "$job" -o name >/dev/null 2>&1 || fail "a Job $job exists in the hub"
mjob() { "${mkubectl[@]}" -n "$ns" get job "$job" -o jsonpath="{$1}"; }
[[ -z $(mjob .metadata.ownerReferences) ]] || fail "the member's Job has ownerReferences: $(mjob .metadata.ownerReferences)"
[[ $(mjob '.metadata.labels.cubit\.dev/owner-uid') == "$(tfield .metadata.uid)" ]] ||
  fail "the member's Job does not carry the hub uid: $(mjob .metadata.labels)"
[[ $(tfield .metadata.finalizers) == *cubit.dev/remote-children* ]] || fail "no finalizer: $(tfield .metadata.finalizers)"
"${kubectl[@]}" get events -n "$ns" --field-selector "involvedObject.name=$job,reason=Placed" -o name | grep -q . ||
  fail "no Placed event"

# spec.cluster cannot be set to another cluster once placed, nor changed once set.
if out=$("${kubectl[@]}" -n "$ns" patch trainingjob "$job" --type merge -p '{"spec":{"cluster":"local"}}' 2>&1); then
  fail "spec.cluster moved a placed job to local"
fi
[[ $out == *"spec.cluster"* ]] || fail "the refusal does not name spec.cluster: $out"
say "moving the placed job refused: spec.cluster${out##*: spec.cluster}"

# The member's API server stops mid-run: ClusterReachable=False with the Cluster's words,
# the phase stays Running.
"$repo/kind/local/member.sh" stop-apiserver "$member" >/dev/null 2>&1
unreachable() { [[ $(cond ClusterReachable status) == False ]]; }
wait_for 45 "ClusterReachable=False" unreachable
[[ $(cond ClusterReachable message) == "cluster $cluster: "*"cannot reach the API server"* ]] ||
  fail "ClusterReachable message: $(cond ClusterReachable message)"
[[ $(tfield .status.phase) == Running && $(tfield .status.cluster) == "$cluster" ]] ||
  fail "phase $(tfield .status.phase) / cluster $(tfield .status.cluster) changed while the member was away"
"${kubectl[@]}" get events -n "$ns" --field-selector "involvedObject.name=$job,reason=ClusterUnreachable" -o name |
  grep -q . || fail "no ClusterUnreachable event"

# Back: converges, exactly one Job and one pod there.
"$repo/kind/local/member.sh" up "$member" >/dev/null 2>&1 || fail "the member did not restart"
reachable_again() { [[ $(cond ClusterReachable status) == True ]] && running; }
wait_for 60 "ClusterReachable=True and Running again" reachable_again
[[ $(member_jobs) == 1 && $(member_pods) == 1 ]] || fail "$(member_jobs) Jobs, $(member_pods) pods in the member, want 1 and 1"
[[ $(tfield .status.cluster) == "$cluster" ]] || fail "re-placed on $(tfield .status.cluster)"

# Deleting the hub object deletes the member's Job, then the hub object goes.
"${kubectl[@]}" -n "$ns" delete trainingjob "$job" --wait=false >/dev/null
gone() { [[ $(member_jobs) == 0 ]] && ! "${kubectl[@]}" -n "$ns" get trainingjob "$job" -o name >/dev/null 2>&1; }
wait_for 45 "the member's Job and the hub object gone" gone
say "PASS in $(($(date +%s) - t_start))s"
