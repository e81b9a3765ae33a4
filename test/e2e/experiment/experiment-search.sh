#!/usr/bin/env bash
# The Experiment scenarios that share nothing but the cluster, run at once (each in its
# own Project and namespace, README.md): converges, goal, medianstop and quota. One
# ctest test, so e2e tests that restart the manager (experiment-restart, history) never
# run beside them. Prints each scenario's output after it ends; fails when any fails.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
names=(converges goal medianstop quota)
declare -A pid
for n in "${names[@]}"; do
  timeout 540 "$here/experiment-$n.sh" >"$work/$n.log" 2>&1 &
  pid[$n]=$!
done
failed=()
for n in "${names[@]}"; do
  wait "${pid[$n]}"
  rc=$?
  echo "=== experiment-$n (exit $rc)"
  cat "$work/$n.log"
  ((rc == 0)) || failed+=("$n")
done
if ((${#failed[@]})); then
  echo "FAIL: ${failed[*]}"
  exit 1
fi
echo "PASS: ${names[*]}"
