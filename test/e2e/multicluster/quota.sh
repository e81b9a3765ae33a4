#!/usr/bin/env bash
# Quota across clusters (docs/multicluster.md#quota-across-clusters): a Project spanning a
# member and the hub with a total quota (cpu 2) and a quota per cluster (the member 1 cpu,
# the hub 150m). A TrainingJob placed on the member counts against the total, and so does
# a pod made in the member directly (never admitted by the hub): a hub pod that would go
# over the total is refused, the message naming the usage of both clusters. A job pinned
# to the member (spec.cluster) that would go over the member's quota is refused at
# admission, naming it, and so is a Notebook pinned there (its pod would be made in the
# member, where no Cubit webhook runs); a job left to the policy skips the member (no
# room under its quota) and is placed on the hub; one more fits nowhere and waits Queued
# (NoClusterFits) with each cluster's quota named, and a status write placing it on the
# member anyway (what a controller with a stale cache would do) is refused.
# The Project's status.clusters[] shows what it holds in each cluster against that
# cluster's quota, status.used the sum and the waiting job.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. The member uses CUBIT_MEMBER_PORT_BASE + 0..8 and is purged
# at the end.
set -euo pipefail
tag=multicluster-quota
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-quota-member
cluster=e2e-qmc-member
secret=e2e-qmc-member-kubeconfig
project=e2e-qmc-project
ns=e2e-qmc-team

cleanup() {
  mc_cleanup trainingjobs notebooks
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get trainingjobs -o yaml >&2 2>/dev/null || true
  grep -E "$ns|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

tfield() { "${kubectl[@]}" -n "$ns" get trainingjob "$1" -o jsonpath="{$2}" 2>/dev/null; }

# job NAME CPU [CLUSTER]: a batch TrainingJob of one pod asking for CPU (the sleep runs
# under the fake kubelet's "run" outcome).
job() {
  local pin=""
  [[ -n ${3:-} ]] && pin="cluster: $3"
  "${kubectl[@]}" apply -f - 2>&1 <<YAML
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: $1, namespace: $ns}
spec:
  framework: batch
  image: busybox
  command: [sh, -c, "sleep 3600"]
  podMetadata: {annotations: {cubit.dev/fake-outcome: run}}
  $pin
  roles: {main: {replicas: 1, resources: {cpu: $2, memory: 16Mi}}}
YAML
}
pod() { # pod KUBECTL... : a pod of the namespace asking for 500m (name from $pod_name)
  "$@" apply -f - 2>&1 <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $pod_name, namespace: $ns, annotations: {cubit.dev/fake-outcome: run}}
spec:
  containers: [{name: main, image: busybox, command: [sleep, "3600"], resources: {requests: {cpu: $pod_cpu, memory: 16Mi}}}]
YAML
}

mc_join "quota: {cpu: '2'}
clusters:
- {name: $cluster, quota: {cpu: '1'}}
- {name: local, quota: {cpu: 150m}}"

# A bad quota per cluster is refused, naming the field.
if out=$("${kubectl[@]}" patch project "$project" --type merge \
  -p "{\"spec\":{\"clusters\":[{\"name\":\"$cluster\",\"quota\":{\"pods\":-1}},{\"name\":\"local\"}]}}" 2>&1); then
  fail "spec.clusters[0].quota.pods -1 was admitted"
fi
[[ $out == *"spec.clusters[0].quota.pods"* ]] || fail "the refusal does not name spec.clusters[0].quota.pods: $out"
say "a bad quota per cluster refused: spec.clusters${out##*spec.clusters}"

# A job placed by the policy on the member (first in the project's order, room under its quota).
out=$(job e2e-qmc-a 800m) || fail "job a refused: $out"
running() { [[ $(tfield "$1" .status.phase) == Running ]]; }
wait_for 60 "job a Running" running e2e-qmc-a
[[ $(tfield e2e-qmc-a .status.cluster) == "$cluster" ]] || fail "job a is on '$(tfield e2e-qmc-a .status.cluster)'"

# A pod made in the member directly: never admitted by the hub, counted all the same.
pod_name=e2e-qmc-direct pod_cpu=500m pod "${mkubectl[@]}" >/dev/null || fail "cannot make the member's pod"

# The hub refuses a pod that would take the total over 2 cpu: 800m (job a) + 500m (the
# member's pod) + 800m. The hub's webhook sees the member's pod once the hub's cache of
# the member does (a second or two).
over_total() {
  ! out=$(pod_name=e2e-qmc-hub pod_cpu=800m pod "${kubectl[@]}" --dry-run=server) &&
    [[ $out == *"project $project: quota exceeded: cpu: requested 800m, used 1300m, quota 2"* ]]
}
wait_for 20 "a hub pod over the total refused" over_total
say "refused: ${out##*denied the request: }"

# The Project says where its quota goes (status.clusters[]): the member holds job a and
# the pod made there, under its own quota, and is Ready.
cl() { pfield ".status.clusters[?(@.name==\"$1\")]$2"; }
member_used() {
  [[ $(cl "$cluster" .used.cpu) == 1300m && $(cl "$cluster" .used.pods) == 2 && $(cl "$cluster" .quota.cpu) == 1 &&
     $(cl "$cluster" .ready) == true ]]
}
wait_for 30 "status.clusters: the member holds 1300m of its 1 cpu" member_used

# Pinned to the member: over its quota (1300m held there), refused at admission.
if out=$(job e2e-qmc-pinned 100m "$cluster"); then fail "a job pinned to the member over its quota was admitted"; fi
[[ $out == *"project $project: quota exceeded in cluster $cluster: cpu: requested 100m, used 1300m, quota 1"* ]] ||
  fail "the refusal does not name the member's quota: $out"
say "pinned job refused: ${out##*denied the request: }"

# A Notebook pinned to the member: judged at admission as a whole, as the pinned job.
if out=$("${kubectl[@]}" apply -f - 2>&1 <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Notebook
metadata: {name: e2e-qmc-notebook, namespace: $ns}
spec:
  ide: jupyter
  cluster: $cluster
  resources: {cpu: 500m, memory: 64Mi}
YAML
); then fail "a Notebook pinned to the member over its quota was admitted"; fi
[[ $out == *"project $project: quota exceeded in cluster $cluster: cpu: requested 500m, used 1300m, quota 1"* ]] ||
  fail "the Notebook's refusal does not name the member's quota: $out"
say "pinned Notebook refused: ${out##*denied the request: }"

# Left to the policy: the member has no room under its quota, so the hub takes it.
out=$(job e2e-qmc-b 100m) || fail "job b refused: $out"
placed() { [[ -n $(tfield "$1" .status.cluster) ]]; }
wait_for 30 "job b placed" placed e2e-qmc-b
[[ $(tfield e2e-qmc-b .status.cluster) == local ]] || fail "job b is on '$(tfield e2e-qmc-b .status.cluster)', not local"

# One more fits nowhere: Queued, NoClusterFits, naming each cluster's quota.
out=$(job e2e-qmc-c 100m) || fail "job c refused: $out"
unplaced() { [[ $(tfield e2e-qmc-c '.status.conditions[?(@.type=="Placed")].reason') == NoClusterFits ]]; }
wait_for 30 "job c NoClusterFits" unplaced
msg=$(tfield e2e-qmc-c '.status.conditions[?(@.type=="Placed")].message')
[[ $(tfield e2e-qmc-c .status.phase) == Queued && -z $(tfield e2e-qmc-c .status.cluster) ]] ||
  fail "job c: phase $(tfield e2e-qmc-c .status.phase), cluster $(tfield e2e-qmc-c .status.cluster)"
[[ $msg == *"$cluster: not enough free cpu (project $project's quota in cluster $cluster: cpu used 1300m of 1)"* &&
  $msg == *"local: not enough free cpu (project $project's quota in cluster local: cpu used 100m of 150m)"* ]] ||
  fail "NoClusterFits does not name the quotas: $msg"
say "job c waits: ${msg}"

# Placing it by hand, as a controller would with a stale cache (a status write to the
# /status subresource setting status.cluster): judged under the quota webhook's lock
# against the member's quota, and refused.
if out=$("${kubectl[@]}" -n "$ns" patch trainingjob e2e-qmc-c --subresource=status --type=merge \
  -p "{\"status\":{\"cluster\":\"$cluster\"}}" 2>&1); then
  fail "a status write placing job c on the member over its quota was admitted"
fi
[[ $out == *"project $project: quota exceeded in cluster $cluster: cpu: requested 100m, used 1300m, quota 1"* ]] ||
  fail "the placement's refusal does not name the member's quota: $out"
say "placement refused: ${out##*denied the request: }"

# The hub holds job b (100m of its 150m); job c, waiting, is in the total only.
spread() {
  [[ $(cl local .used.cpu) == 100m && $(cl local .quota.cpu) == 150m && $(cl "$cluster" .used.cpu) == 1300m &&
     $(pfield .status.used.cpu) == 1500m && $(pfield '.status.clusters[*].name') == "$cluster local" ]]
}
wait_for 30 "status.used 1500m: 1300m in the member, 100m in the hub, 100m waiting" spread
say "status.clusters: $(pfield .status.clusters)"
say "PASS in $(($(date +%s) - t_start))s"
