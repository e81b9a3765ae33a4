#!/usr/bin/env bash
# A Notebook placed on a member cluster (docs/multicluster.md, "Notebooks in members"): a Project
# spanning the member and the hub (member first), a Notebook placed there by the Ordered
# policy. Its StatefulSet, Service and workspace claim exist in the member and not in the
# hub, labelled back to the hub object with no ownerReference; the hub says Running and
# Ready with the member's in-cluster URL, and `kubectl cubit open` refuses it naming the
# cluster. The Cluster naming the member's own gateway (spec.gateway) routes it there (a
# VirtualService in the member, status.url under the gateway's URL); unnamed, the route
# goes. Stopping it scales the member's StatefulSet to 0 and the hub says Stopped.
# Deleting the hub object deletes the member's children (the finalizer
# cubit.dev/remote-children), then the hub object goes.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here, or when
# CUBIT_E2E_MULTICLUSTER=0. Bounded: well under 2 minutes once the member is up. The
# member uses CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster-notebook
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-nb-member
cluster=e2e-nbmc-member
secret=e2e-nbmc-member-kubeconfig
project=e2e-nbmc-project
ns=e2e-nbmc-team
nb=e2e-nbmc-lab
pv=e2e-nbmc-lab-workspace

cleanup() {
  mc_cleanup notebooks
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" -n "$ns" get notebook "$nb" -o yaml >&2 2>/dev/null || true
  "${mkubectl[@]}" -n "$ns" get statefulsets,pods,services,pvc -o wide >&2 2>/dev/null || true
  grep -E "$nb|cluster=$cluster" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

nfield() { "${kubectl[@]}" -n "$ns" get notebook "$nb" -o jsonpath="{$1}" 2>/dev/null; }
cond() { nfield ".status.conditions[?(@.type==\"$1\")].$2"; }
member_children() {
  "${mkubectl[@]}" -n "$ns" get statefulsets,services,pvc -l "cubit.dev/notebook=$nb" -o name 2>/dev/null | wc -l
}
msts() { "${mkubectl[@]}" -n "$ns" get statefulset "$nb" -o jsonpath="{$1}" 2>/dev/null; }

mc_join "clusters: [{name: $cluster}, {name: local}]"

mc_member_pv "$pv" "$nb-workspace"

# Placed by policy (Ordered: the member is first in the project's list and has room).
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Notebook
metadata: {name: $nb, namespace: $ns}
spec:
  ide: jupyter
  placement: {policy: Ordered}
  resources: {cpu: 100m, memory: 128Mi}
  volumes: {workspace: {size: 1Gi}}
YAML
running() { [[ $(nfield .status.phase) == Running && $(cond Ready status) == True ]]; }
wait_for 60 "Running and Ready on the hub" running
[[ $(nfield .status.cluster) == "$cluster" ]] || fail "status.cluster is '$(nfield .status.cluster)', not $cluster"
[[ $(cond Placed message) == "placed on cluster $cluster (policy Ordered)" ]] || fail "Placed: $(cond Placed message)"
[[ $(cond ClusterReachable status) == True ]] || fail "ClusterReachable is '$(cond ClusterReachable status)'"
[[ $(nfield .status.url) == "http://$nb.$ns.svc.cluster.local/notebook/$ns/$nb/" ]] ||
  fail "status.url is '$(nfield .status.url)', not the member's in-cluster URL"
[[ $(member_children) == 3 ]] || fail "$(member_children) children in the member, want 3 (StatefulSet, Service, claim)"
! "${kubectl[@]}" -n "$ns" get statefulset "$nb" -o name >/dev/null 2>&1 || fail "a StatefulSet $nb exists in the hub"
[[ -z $(msts .metadata.ownerReferences) ]] || fail "the member's StatefulSet has ownerReferences"
[[ $(msts '.metadata.labels.cubit\.dev/owner-uid') == "$(nfield .metadata.uid)" ]] ||
  fail "the member's StatefulSet does not carry the hub uid: $(msts .metadata.labels)"
[[ $(msts .status.readyReplicas) == 1 ]] || fail "the member's StatefulSet has $(msts .status.readyReplicas) ready"
[[ $(nfield .metadata.finalizers) == *cubit.dev/remote-children* ]] || fail "no finalizer: $(nfield .metadata.finalizers)"

# kubectl cubit open cannot reach a member's notebook: it says so, naming the cluster.
build=${CUBIT_BUILD_DIR:-$repo/build}
ninja -C "$build" kubectl-cubit >/dev/null
if out=$(KUBECONFIG=$state/kubeconfig timeout 20 "$build/kubectl-cubit" -n "$ns" open "$nb" 2>&1); then
  fail "kubectl cubit open of a member notebook succeeded: $out"
fi
[[ $out == *"runs in member cluster $cluster"* ]] || fail "kubectl cubit open said: $out"
say "kubectl cubit open refused: ${out#*: }"

# The member's own gateway named on its Cluster (spec.gateway): the notebook is routed
# through it, a VirtualService in the member, status.url under the gateway's urlBase.
# Nothing listens at that URL here, so kubectl cubit open still refuses, saying why.
gw_url=http://127.0.0.1:9/east
"${kubectl[@]}" patch cluster "$cluster" --type merge \
  -p "{\"spec\":{\"gateway\":{\"name\":\"istio-system/e2e-east-gateway\",\"urlBase\":\"$gw_url/\"}}}" >/dev/null
mvs() { "${mkubectl[@]}" -n "$ns" get virtualservice "$nb" -o jsonpath="{$1}" 2>/dev/null; }
routed_there() {
  [[ $(cond Routed status) == True && $(cond Routed reason) == MemberGateway &&
     $(nfield .status.url) == "$gw_url/notebook/$ns/$nb/" && $(mvs '.spec.gateways[0]') == istio-system/e2e-east-gateway ]]
}
wait_for 45 "routed through the member's gateway" routed_there
[[ $(mvs '.metadata.labels.cubit\.dev/owner-uid') == "$(nfield .metadata.uid)" && -z $(mvs .metadata.ownerReferences) ]] ||
  fail "the member's VirtualService is not labelled back to the hub object: $(mvs .metadata)"
! "${kubectl[@]}" -n "$ns" get virtualservice "$nb" -o name >/dev/null 2>&1 || fail "a VirtualService $nb exists in the hub"
if out=$(KUBECONFIG=$state/kubeconfig timeout 20 "$build/kubectl-cubit" -n "$ns" open "$nb" 2>&1); then
  fail "kubectl cubit open of a notebook whose route does not answer succeeded: $out"
fi
[[ $out == *"behind that cluster's gateway"* ]] || fail "kubectl cubit open said: $out"
say "routed in the member: $(cond Routed message)"
# The gateway no longer named: the route goes from the member, the in-cluster URL again.
"${kubectl[@]}" patch cluster "$cluster" --type json -p '[{"op":"remove","path":"/spec/gateway"}]' >/dev/null
unrouted() {
  [[ $(cond Routed reason) == InMemberCluster && $(nfield .status.url) == "http://$nb.$ns.svc.cluster.local/notebook/$ns/$nb/" ]] &&
    ! "${mkubectl[@]}" -n "$ns" get virtualservice "$nb" -o name >/dev/null 2>&1
}
wait_for 45 "the member's route gone with the Cluster's gateway" unrouted

# Stop: the member's StatefulSet scales to 0, the hub says Stopped.
"${kubectl[@]}" -n "$ns" patch notebook "$nb" --type merge -p '{"spec":{"stopped":true}}' >/dev/null
stopped() { [[ $(nfield .status.phase) == Stopped && $(msts .spec.replicas) == 0 ]]; }
wait_for 45 "Stopped on the hub, 0 replicas in the member" stopped
[[ $(cond Suspended status) == True ]] || fail "Suspended is '$(cond Suspended status)'"

# Deleting the hub object deletes the member's children, then the hub object goes.
"${kubectl[@]}" -n "$ns" delete notebook "$nb" --wait=false >/dev/null
gone() { [[ $(member_children) == 0 ]] && ! "${kubectl[@]}" -n "$ns" get notebook "$nb" -o name >/dev/null 2>&1; }
wait_for 45 "the member's children and the hub object gone" gone
say "PASS in $(($(date +%s) - t_start))s"
