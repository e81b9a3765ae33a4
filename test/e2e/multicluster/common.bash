# Shared by the multi-cluster end-to-end scripts (sourced; not a test itself: ctest
# registers the *.sh files of this folder). The caller sets `tag` (its log prefix)
# before sourcing, and `member` before calling member_up; it defines fail.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")
log=$state/manager.log
t_start=$(date +%s)

say() { printf '[%s] %s\n' "$tag" "$*" >&2; }
skip() {
  say "SKIPPED: $*"
  exit 77
}
[[ ${CUBIT_E2E_MULTICLUSTER:-1} == 0 ]] && skip "CUBIT_E2E_MULTICLUSTER=0"

# member_up: starts the member control plane $member (skipped, exit 77, when it
# cannot start here) and sets member_kubeconfig and mkubectl.
member_up() {
  say "starting the member control plane $member"
  local up_out
  if ! up_out=$(CUBIT_MEMBER_UP_TIMEOUT=${CUBIT_MEMBER_UP_TIMEOUT:-120} "$repo/kind/local/member.sh" up "$member" 2>&1); then
    printf '%s\n' "$up_out" | tail -n 8 >&2
    skip "the second control plane could not be started here (see above)"
  fi
  member_kubeconfig=$("$repo/kind/local/member.sh" kubeconfig "$member")
  mkubectl=("$bin/kubectl" --kubeconfig "$member_kubeconfig")
}

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
  local timeout=$1 what=$2 t0
  shift 2
  t0=$(date +%s)
  until "$@"; do
    (($(date +%s) - t0 < timeout)) || fail "$what not seen within ${timeout}s"
    sleep 1
  done
  say "$what after $(($(date +%s) - t0))s"
}

# The scripts that place objects on one member name it and its hub objects alike:
# member (kind/local's name), cluster (the Cluster), secret (its kubeconfig Secret),
# project and ns (the Project and its one namespace).
cfield() { "${kubectl[@]}" get cluster "$cluster" -o jsonpath="{$1}" 2>/dev/null; }
pfield() { "${kubectl[@]}" get project "$project" -o jsonpath="{$1}" 2>/dev/null; }
cluster_ready() { [[ $(cfield .status.phase) == Ready ]]; }
project_ready() { [[ $(pfield .status.phase) == Active ]] && "${mkubectl[@]}" get namespace "$ns" -o name >/dev/null 2>&1; }

# mc_secret: the member's kubeconfig Secret $secret in the hub, holding the identity a
# member's admin gives the hub as docs/multicluster.md says (config/member/hub-access.yaml
# applied in the member, a token of its ServiceAccount), never the member's admin: what
# the hub does in the member is then what that documented role allows.
mc_secret() {
  local out
  out=$("$repo/kind/local/member.sh" hub-secret "$member" cubit-system "$secret") || fail "no hub identity in the member"
  printf '%s\n' "$out" | "${kubectl[@]}" apply -f - >/dev/null
}

# mc_join SPEC: registers the member (its kubeconfig Secret, mc_secret, and a Cluster)
# and a Project of namespace $ns (deletionPolicy Delete) whose spec also holds the YAML
# lines SPEC (its clusters, quota, members), then waits until the member is Ready and
# the project's namespace exists there.
mc_join() {
  mc_secret
  "${kubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: cubit.dev/v1alpha1
kind: Cluster
metadata: {name: $cluster}
spec: {kubeconfig: {secretRef: {name: $secret}}}
---
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: $project}
spec:
  namespaces: [$ns]
  deletionPolicy: Delete
$(printf '%s\n' "$1" | sed 's/^/  /')
YAML
  wait_for 60 "the member Ready" cluster_ready
  wait_for 60 "the Project Active, its namespace in the member" project_ready
}

# mc_member_pv NAME CLAIM [CLASS]: the member has no storage provisioner: a 1Gi
# hostPath volume NAME there (of storage class CLASS, default none), bound in advance
# to claim CLAIM of $ns.
mc_member_pv() {
  "${mkubectl[@]}" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: $1}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  hostPath: {path: /tmp/cubit-e2e/$1}
  storageClassName: "${3:-}"
  claimRef: {namespace: $ns, name: $2}
YAML
}

# mc_cleanup KIND...: the objects of these kinds in $ns deleted, their finalizers
# dropped (one placed on a member that is gone keeps it for minutes), then the
# Project, the Cluster, its Secret, and the member purged.
mc_cleanup() {
  local kind o
  for kind in "$@"; do
    "${kubectl[@]}" -n "$ns" delete "$kind" --all --ignore-not-found --wait=false >/dev/null 2>&1 || true
    for o in $("${kubectl[@]}" -n "$ns" get "$kind" -o name 2>/dev/null); do
      "${kubectl[@]}" -n "$ns" patch "$o" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    done
  done
  "${kubectl[@]}" delete project "$project" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" delete cluster "$cluster" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" -n cubit-system delete secret "$secret" --ignore-not-found >/dev/null 2>&1 || true
  "$repo/kind/local/member.sh" purge "$member" >/dev/null 2>&1 || true
}
