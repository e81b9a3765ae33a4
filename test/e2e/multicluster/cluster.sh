#!/usr/bin/env bash
# A member cluster registered with the hub (docs/multicluster.md): a second local control
# plane (kind/local/member.sh) whose kubeconfig the hub holds in a Secret. Its Cluster
# becomes Ready with the member's version, APIs and GPU capacity (as its fake nodes
# have it), counts a GPU pod started in the member, turns Unreachable when the
# member's API server stops and Ready again when it is back; deleting the Cluster
# disconnects it. A Project listing the member (spec.clusters) gets its namespace
# there, and takes it away when deleted with deletionPolicy Delete.
#
# Needs the hub's manager (test/e2e/cubit-up.sh). Exits 77 (ctest: skipped) with the
# reason when the second control plane cannot be started here (its ports taken, no
# programs), or when CUBIT_E2E_MULTICLUSTER=0. Bounded: about 1.5 minutes when it runs.
# The member uses CUBIT_MEMBER_PORT_BASE (default 17440) + 0..8 and is purged at the end.
set -euo pipefail
tag=multicluster
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
member=e2e-member
cluster=e2e-mc-member
secret=e2e-mc-member-kubeconfig
project=e2e-mc-project
project_ns=e2e-mc-team
project_ns2=e2e-mc-team2


cleanup() {
  "${kubectl[@]}" delete project "$project" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" delete namespace "$project_ns2" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" delete cluster "$cluster" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" -n cubit-system delete secret "$secret" --ignore-not-found >/dev/null 2>&1 || true
  "$repo/kind/local/member.sh" purge "$member" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() {
  say "FAIL: $*"
  "${kubectl[@]}" get cluster "$cluster" -o yaml >&2 2>/dev/null || true
  grep -E "cluster=$cluster|logger=members" "$log" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

member_up

field() { "${kubectl[@]}" get cluster "$cluster" -o jsonpath="{$1}" 2>/dev/null; }
phase_is() { [[ $(field .status.phase) == "$1" ]]; }
ready() { field '.status.conditions[?(@.type=="Ready")].'"$1"; }
a100_used() { [[ $(field '.status.gpus[?(@.model=="A100")].used') == "$1" ]]; }

mc_secret
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Cluster
metadata:
  name: $cluster
spec:
  kubeconfig:
    secretRef:
      name: $secret
  labels:
    region: loopback
YAML
wait_for 60 "Ready" phase_is Ready

# What the member says of itself, against what the hub reports.
want_version=$("${mkubectl[@]}" get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
[[ $(field .status.kubernetesVersion) == "$want_version" ]] ||
  fail "kubernetesVersion $(field .status.kubernetesVersion), the member says $want_version"
# The APIs, against the member's own discovery.
served=$("${mkubectl[@]}" api-resources -o name 2>/dev/null)
has() { grep -qx "$1" <<<"$served" && echo true || echo false; }
want_kinds=""
for k in tfjobs:TFJob pytorchjobs:PyTorchJob mpijobs:MPIJob xgboostjobs:XGBoostJob paddlejobs:PaddleJob jaxjobs:JAXJob; do
  [[ $(has "${k%%:*}.kubeflow.org") == true ]] && want_kinds+="${want_kinds:+ }${k#*:}"
done
[[ -n $want_kinds && $(field '.status.apis.trainingOperator[*]') == "$want_kinds" ]] ||
  fail "apis.trainingOperator: $(field '.status.apis.trainingOperator[*]'), the member serves [$want_kinds]"
[[ $(field .status.apis.volcano) == "$(has jobs.batch.volcano.sh)" &&
   $(field .status.apis.istio) == "$(has virtualservices.networking.istio.io)" ]] || fail "volcano/istio not as the member serves them"
[[ $(field .status.apis.kubeRay) == "$(has rayjobs.ray.io)" &&
   $(field .status.apis.sparkOperator) == "$(has sparkapplications.sparkoperator.k8s.io)" ]] ||
  fail "kubeRay/sparkOperator $(field .status.apis.kubeRay)/$(field .status.apis.sparkOperator), the member serves rayjobs $(has rayjobs.ray.io), sparkapplications $(has sparkapplications.sparkoperator.k8s.io)"
want_nodes=$("${mkubectl[@]}" get nodes -o name | wc -l)
[[ $(field .status.nodes) == "$want_nodes" ]] || fail "nodes $(field .status.nodes), the member has $want_nodes"
[[ $(field .status.labels.region) == loopback ]] || fail "labels not copied"
# GPU cards per model from the member's nodes (allocatable nvidia.com/gpu by cubit.dev/gpu-model).
want_gpus=$("${mkubectl[@]}" get nodes -o jsonpath='{range .items[*]}{.metadata.labels.cubit\.dev/gpu-model}={.status.allocatable.nvidia\.com/gpu}{"\n"}{end}' |
  awk -F= '$1 != "" && $2 != "" { n[$1] += $2 } END { for (m in n) print m "=" n[m] }' | sort | tr '\n' ' ')
got_gpus=$("${kubectl[@]}" get cluster "$cluster" -o jsonpath='{range .status.gpus[*]}{.model}={.allocatable}{"\n"}{end}' |
  sort | tr '\n' ' ')
[[ -n $want_gpus && $got_gpus == "$want_gpus" ]] || fail "gpus '$got_gpus', the member's nodes have '$want_gpus'"
[[ $(field .status.used.gpu) == 0 ]] || fail "used.gpu $(field .status.used.gpu) on an idle member"
say "Ready: $(field .status.kubernetesVersion), $(field .status.nodes) nodes, GPUs $got_gpus"

# A pod using two A100 cards in the member is counted.
"${mkubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: e2e-mc-gpu, namespace: default, annotations: {cubit.dev/fake-outcome: run}}
spec:
  nodeSelector: {cubit.dev/gpu-model: A100}
  containers:
  - {name: c, image: busybox, resources: {limits: {nvidia.com/gpu: "2"}}}
YAML
wait_for 30 "2 A100 cards used" a100_used 2

# A Project that lists the member gets its namespace there too (labelled for it), its
# members' roles, bindings and shared claim, and with deletionPolicy Delete takes the
# namespace away again when deleted.
"${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata:
  name: $project
spec:
  namespaces: [$project_ns]
  clusters: [{name: local}, {name: $cluster}]
  deletionPolicy: Delete
  members:
  - {kind: User, name: e2e-mc-alice, role: edit}
  volumes: {shared: {claimName: e2e-mc-shared, provision: {size: 1Gi, accessModes: [ReadWriteOnce]}}}
YAML
project_field() { "${kubectl[@]}" get project "$project" -o jsonpath="{$1}" 2>/dev/null; }
project_active() { [[ $(project_field .status.phase) == Active ]]; }
wait_for 60 "Project Active" project_active
[[ $("${mkubectl[@]}" get namespace "$project_ns" -o jsonpath='{.metadata.labels.cubit\.dev/project}') == "$project" ]] ||
  fail "namespace $project_ns in the member is not labelled for $project"
in_member() { project_field ".status.clusters[?(@.name==\"$cluster\")]$1"; }
[[ $(project_field '.status.clusters[*].name') == "local $cluster" && $(in_member .namespaces[0]) == "$project_ns" &&
   $(in_member .ready) == true ]] || fail "status.clusters: $(project_field .status.clusters)"
# The project's members get in the member what they get in the hub: the role (copied
# from the hub's), its binding and the shared claim; alice may create pods there.
member_access() {
  "${mkubectl[@]}" get clusterrole cubit-project-edit -o name >/dev/null 2>&1 &&
    [[ $("${mkubectl[@]}" -n "$project_ns" get rolebinding cubit-project-edit -o jsonpath='{.subjects[0].name}' 2>/dev/null) == e2e-mc-alice ]] &&
    "${mkubectl[@]}" -n "$project_ns" get pvc e2e-mc-shared -o name >/dev/null 2>&1
}
wait_for 30 "the edit role, alice's binding and the shared claim in the member" member_access
[[ $("${mkubectl[@]}" -n "$project_ns" auth can-i create pods --as e2e-mc-alice) == yes ]] ||
  fail "alice may not create pods in $project_ns in the member"
[[ $("${mkubectl[@]}" -n "$project_ns" auth can-i create pods --as e2e-mc-bob 2>/dev/null) == no ]] ||
  fail "bob, no member of the project, may create pods in the member"
# alice leaves the project: her binding in the member goes.
"${kubectl[@]}" patch project "$project" --type merge -p '{"spec":{"members":[{"kind":"User","name":"e2e-mc-carol","role":"view"}]}}' >/dev/null
edit_gone() {
  ! "${mkubectl[@]}" -n "$project_ns" get rolebinding cubit-project-edit -o name >/dev/null 2>&1 &&
    "${mkubectl[@]}" -n "$project_ns" get rolebinding cubit-project-view -o name >/dev/null 2>&1
}
wait_for 30 "alice's binding gone from the member, carol's there" edit_gone
# A second namespace listed, then dropped: released in the member as in the hub (the
# project's labels removed, the namespace left).
"${kubectl[@]}" patch project "$project" --type merge -p "{\"spec\":{\"namespaces\":[\"$project_ns\",\"$project_ns2\"]}}" >/dev/null
ns2_label() { "${mkubectl[@]}" get namespace "$project_ns2" -o jsonpath='{.metadata.labels.cubit\.dev/project}' 2>/dev/null; }
ns2_held() { [[ $(ns2_label) == "$project" ]]; }
wait_for 30 "namespace $project_ns2 held in the member" ns2_held
"${kubectl[@]}" patch project "$project" --type merge -p "{\"spec\":{\"namespaces\":[\"$project_ns\"]}}" >/dev/null
ns2_released() { "${mkubectl[@]}" get namespace "$project_ns2" -o name >/dev/null 2>&1 && [[ -z $(ns2_label) ]]; }
wait_for 30 "namespace $project_ns2 released in the member" ns2_released
"${kubectl[@]}" delete project "$project" --wait=false >/dev/null
member_ns_gone() { ! "${mkubectl[@]}" get namespace "$project_ns" -o name >/dev/null 2>&1 ||
  [[ -n $("${mkubectl[@]}" get namespace "$project_ns" -o jsonpath='{.metadata.deletionTimestamp}') ]]; }
wait_for 30 "the member's namespace deleted with the Project" member_ns_gone
project_gone() { ! "${kubectl[@]}" get project "$project" -o name >/dev/null 2>&1; }
wait_for 60 "the Project gone" project_gone

# The member's API server stops: Unreachable, with the reason, and a Warning event.
"$repo/kind/local/member.sh" stop-apiserver "$member" >/dev/null 2>&1
wait_for 30 "Unreachable" phase_is Unreachable
[[ $(ready status) == False ]] || fail "Ready is $(ready status), not False"
[[ $(ready reason) == Unreachable ]] || fail "Ready reason is $(ready reason), not Unreachable"
[[ $(ready message) == *"cannot reach the API server"* ]] || fail "the message does not say why: $(ready message)"
"${kubectl[@]}" get events -A --field-selector "involvedObject.name=$cluster,reason=Unreachable" -o name | grep -q . ||
  fail "no Unreachable event"

# Back: Ready again, and its informers have resumed (a deletion made now is seen).
"$repo/kind/local/member.sh" up "$member" >/dev/null 2>&1 || fail "the member did not restart"
wait_for 60 "Ready again" phase_is Ready
"${mkubectl[@]}" delete pod e2e-mc-gpu --wait=false >/dev/null
wait_for 45 "the A100 cards free again" a100_used 0

# Deleting the Cluster disconnects the member (said in the log from now on).
log_lines=$(wc -l <"$log")
"${kubectl[@]}" delete cluster "$cluster" >/dev/null
disconnected() { tail -n +"$((log_lines + 1))" "$log" | grep -q "msg=\"member cluster disconnected\" cluster=$cluster"; }
wait_for 20 "disconnected" disconnected
say "PASS in $(($(date +%s) - t_start))s"
