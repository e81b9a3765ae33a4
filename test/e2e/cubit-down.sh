#!/usr/bin/env bash
# Stops cubit-manager (SIGTERM: it drains and releases its lease) and then the
# local control plane. --keep-cluster stops only the manager.
#
# Exits non-zero when the manager's log holds a sanitizer report, so that a leak
# or an overflow found during the end-to-end tests fails the run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
keep=0
[[ ${1:-} == --keep-cluster ]] && keep=1

status=0
if [[ -f $state/manager.pid ]]; then
  pid=$(cat "$state/manager.pid")
  if kill -0 "$pid" 2>/dev/null && grep -q cubit-manager "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "[cubit-down] cubit-manager ignored SIGTERM for 15s; killing" >&2
      kill -KILL "$pid" || true
      status=1
    fi
  fi
  rm -f "$state/manager.pid"
fi
if [[ -f $state/manager.log ]] && grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$state/manager.log"; then
  echo "[cubit-down] sanitizer report in $state/manager.log:" >&2
  grep -nE -A20 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$state/manager.log" | head -60 >&2
  mv "$state/manager.log" "$state/manager.log.failed-$(date +%s)"
  status=1
fi
((keep)) || "$repo/kind/local/down.sh"
exit $status
