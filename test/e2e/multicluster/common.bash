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
