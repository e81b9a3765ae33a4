#!/usr/bin/env bash
# An InferenceService pinned to a member cluster (docs/multicluster.md#placement): a
# Project spanning the member and the hub, an InferenceService with spec.cluster naming
# the member. Its Deployment, Services and HPA exist in the member and not in the hub,
# carry labels back to the hub object and no ownerReference; the hub reports it Ready
# (phase Serving) once the member's pods are ready, with status.cluster, Placed and
# ClusterReachable. A second service whose image the member never pulls gets the member's
# Warning relayed onto it once. Admission refuses a spec.cluster the project does not list, and the
# CRD refuses changing it. Deleting the hub object deletes the member's children (the
# finalizer cubit.dev/remote-children), then the hub object goes.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: well under 2 minutes when it runs. The member uses
# CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster-inferenceservice
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-isvc-member
cluster=e2e-isvcmc-member
secret=e2e-isvcmc-member-kubeconfig
project=e2e-isvcmc-project
ns=e2e-isvcmc-team
isvc=e2e-isvcmc-model

cleanup() {
  mc_cleanup inferenceservices
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get inferenceservice "$isvc" -o yaml >&2 2>/dev/null || true
  "${mkubectl[@]}" -n "$ns" get deployments,services,hpa,pods -o wide >&2 2>/dev/null || true
  grep -E "$isvc|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

ifield() { "${kubectl[@]}" -n "$ns" get inferenceservice "$isvc" -o jsonpath="{$1}" 2>/dev/null; }
cond() { ifield ".status.conditions[?(@.type==\"$1\")].$2"; }
member_count() { "${mkubectl[@]}" -n "$ns" get "$1" -l "cubit.dev/inferenceservice=$isvc" -o name 2>/dev/null | wc -l; }

mc_join "clusters: [{name: local}, {name: $cluster}]"

# Admission: a cluster the project does not list is refused, naming the field.
if out=$("${kubectl[@]}" apply -f - 2>&1 <<YAML
apiVersion: cubit.dev/v1alpha1
kind: InferenceService
metadata: {name: e2e-isvcmc-nowhere, namespace: $ns}
spec: {runtime: onnxruntime, cluster: nowhere, resources: {cpu: 100m, memory: 128Mi}}
YAML
); then fail "an InferenceService with spec.cluster nowhere was admitted"; fi
[[ $out == *"spec.cluster: nowhere is not one of project $project's clusters (local, $cluster)"* ]] ||
  fail "the refusal does not name spec.cluster: $out"
say "spec.cluster nowhere refused: spec.cluster${out##*: spec.cluster}"

# Pinned to the member (the hub is first in the project's list and has room: only
# spec.cluster sends it there).
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: InferenceService
metadata: {name: $isvc, namespace: $ns}
spec:
  runtime: onnxruntime
  cluster: $cluster
  resources: {cpu: 100m, memory: 128Mi}
YAML
serving() { [[ $(ifield .status.phase) == Serving && $(cond Ready status) == True ]]; }
wait_for 60 "Serving and Ready on the hub" serving
[[ $(ifield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(ifield .status.cluster)', not $cluster"
[[ $(cond Placed status) == True && $(cond Placed message) == "placed on cluster $cluster (spec.cluster)" ]] ||
  fail "Placed: $(cond Placed status) $(cond Placed message)"
[[ $(cond ClusterReachable status) == True ]] || fail "ClusterReachable is '$(cond ClusterReachable status)'"
rev=$(ifield '.status.revisions[?(@.role=="stable")].name')
[[ -n $rev && $(ifield '.status.revisions[?(@.role=="stable")].readyReplicas') == 1 ]] ||
  fail "the stable revision '$rev' has no ready replica on the hub"
[[ $(member_count deployments) == 1 ]] || fail "$(member_count deployments) Deployments in the member, want 1"
[[ $(member_count services) == 2 && $(member_count hpa) == 1 ]] ||
  fail "$(member_count services) Services, $(member_count hpa) HPAs in the member, want 2 and 1"
ready_pods=$("${mkubectl[@]}" -n "$ns" get deployment "$rev" -o jsonpath='{.status.readyReplicas}')
[[ $ready_pods == 1 ]] || fail "the member's Deployment $rev has '$ready_pods' ready replicas"
[[ -z $("${kubectl[@]}" -n "$ns" get deployments,services,hpa -l "cubit.dev/inferenceservice=$isvc" -o name 2>/dev/null) ]] ||
  fail "children exist in the hub: $("${kubectl[@]}" -n "$ns" get deployments,services,hpa -o name)"
mdep() { "${mkubectl[@]}" -n "$ns" get deployment "$rev" -o jsonpath="{$1}"; }
[[ -z $(mdep .metadata.ownerReferences) ]] || fail "the member's Deployment has ownerReferences: $(mdep .metadata.ownerReferences)"
[[ $(mdep '.metadata.labels.cubit\.dev/owner-uid') == "$(ifield .metadata.uid)" ]] ||
  fail "the member's Deployment does not carry the hub uid: $(mdep .metadata.labels)"
[[ $(ifield .metadata.finalizers) == *cubit.dev/remote-children* ]] || fail "no finalizer: $(ifield .metadata.finalizers)"
[[ $(ifield .status.url) == "http://$isvc.$ns.svc."* ]] || fail "status.url is '$(ifield .status.url)'"
"${kubectl[@]}" get events -n "$ns" --field-selector "involvedObject.name=$isvc,reason=Placed" -o name | grep -q . ||
  fail "no Placed event"

# What goes wrong in the member is told on the hub: a second service pinned there whose
# image is never pulled (kind/local's fake kubelet fails registry.invalid images with a
# Warning "Failed" on the pod) gets that Warning relayed once, in the member's words, and
# kept in status.memberWarnings; later reconciles tell it no second time.
bad=e2e-isvcmc-nopull
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: InferenceService
metadata: {name: $bad, namespace: $ns}
spec:
  runtime: onnxruntime
  image: registry.invalid/team/model:1
  cluster: $cluster
  resources: {cpu: 100m, memory: 128Mi}
YAML
relayed() {
  "${kubectl[@]}" get events -n "$ns" --field-selector "involvedObject.name=$bad,reason=Failed" \
    -o jsonpath='{range .items[*]}{.count} {.message}{"\n"}{end}' 2>/dev/null
}
seen() { [[ $(relayed) == *"cluster $cluster: Pod $bad-"*"Back-off pulling image"* ]]; }
wait_for 60 "the member's image pull Warning relayed onto the hub object" seen
bfield() { "${kubectl[@]}" -n "$ns" get inferenceservice "$bad" -o jsonpath="{$1}" 2>/dev/null; }
[[ $(bfield '.status.memberWarnings[0].reason') == Failed && $(bfield '.status.memberWarnings[0].object') == Pod/$bad-* ]] ||
  fail "status.memberWarnings: $(bfield .status.memberWarnings)"
# Other changes (the Stalled verdict, the member's pod status) wake it meanwhile.
sleep 10
[[ $(relayed | wc -l) == 1 && $(relayed) == "1 "* ]] || fail "the Warning was relayed more than once: $(relayed)"
say "relayed once: $(relayed)"
"${kubectl[@]}" -n "$ns" delete inferenceservice "$bad" --wait=false >/dev/null

# spec.cluster cannot be changed once set (the CRD).
if out=$("${kubectl[@]}" -n "$ns" patch inferenceservice "$isvc" --type merge -p '{"spec":{"cluster":"local"}}' 2>&1); then
  fail "spec.cluster moved a placed service to local"
fi
[[ $out == *"spec.cluster"* ]] || fail "the refusal does not name spec.cluster: $out"
say "moving the placed service refused: spec.cluster${out##*: spec.cluster}"

# Deleting the hub object deletes the member's children, then the hub object goes.
"${kubectl[@]}" -n "$ns" delete inferenceservice "$isvc" --wait=false >/dev/null
gone() {
  [[ $(member_count deployments) == 0 && $(member_count services) == 0 && $(member_count hpa) == 0 ]] &&
    [[ -z $("${mkubectl[@]}" -n "$ns" get deployments -l "cubit.dev/inferenceservice=$bad" -o name 2>/dev/null) ]] &&
    ! "${kubectl[@]}" -n "$ns" get inferenceservice "$isvc" -o name >/dev/null 2>&1
}
wait_for 45 "the member's children and the hub object gone" gone
say "PASS in $(($(date +%s) - t_start))s"
