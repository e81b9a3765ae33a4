#!/usr/bin/env bash
# Run one end-to-end scenario (a directory holding a chainsaw-test.yaml) against the
# local control plane in .cubit/local (start it with kind/local/up.sh).
#
#   test/e2e/run.sh test/e2e/scenarios/smoke [chainsaw flags...]
#
# Environment: CUBIT_E2E_KEEP=1 keeps the test namespace; KUBECONFIG is ignored on
# purpose, so a scenario never runs against another cluster by accident.
# On failure it prints the tail of .cubit/local/manager.log (the Cubit manager, when
# a scenario started one), the cluster's recent events and the scenario's objects
# (the latter from chainsaw's catch handlers in chainsaw-config.yaml).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}

[[ $# -ge 1 ]] || { echo "usage: $0 <scenario-dir> [chainsaw flags...]" >&2; exit 2; }
scenario=$(cd "$1" && pwd) || { echo "no such scenario: $1" >&2; exit 2; }
shift
[[ -f $scenario/chainsaw-test.yaml ]] || { echo "$scenario has no chainsaw-test.yaml" >&2; exit 2; }

kubeconfig=$state/kubeconfig
if [[ ! -f $state/ready || ! -f $kubeconfig ]]; then
  echo "the local control plane is not up: run kind/local/up.sh first" >&2
  exit 2
fi
bin=$("$repo/kind/local/build.sh" --print) || bin=$("$repo/kind/local/build.sh")
export PATH="$bin:$PATH" KUBECONFIG=$kubeconfig

name=$(basename "$scenario")
reports=$repo/.cubit/e2e/$name
mkdir -p "$reports"
args=(test --test-dir "$scenario" --config "$here/chainsaw-config.yaml"
  --no-color
  --report-format JUNIT-TEST --report-path "$reports" --report-name report)
[[ ${CUBIT_E2E_KEEP:-0} == 1 ]] && args+=(--skip-delete)

start=$(date +%s)
status=0
chainsaw "${args[@]}" "$@" || status=$?
echo "e2e scenario $name: $([[ $status == 0 ]] && echo passed || echo FAILED) in $(($(date +%s) - start))s (report: $reports)"

if [[ $status != 0 ]]; then
  if [[ -f $state/manager.log ]]; then
    echo "----- last 80 lines of $state/manager.log"
    tail -n 80 "$state/manager.log"
  fi
  echo "----- recent events (all namespaces)"
  kubectl get events -A --sort-by=.lastTimestamp 2>&1 | tail -n 40 || true
  echo "----- control plane logs: $state/logs/*.log"
fi
exit "$status"
