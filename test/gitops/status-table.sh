#!/usr/bin/env bash
# Judges every row of test/gitops/status-table.yaml: the Argo CD health check
# (charts/cubit/files/health.lua, run by test/gitops/argocd-health.lua under each Lua
# named) and/or kstatus (kind/local's kstatus command), each against its column.
#
#   test/gitops/status-table.sh --lua lua5.1 --lua lua5.4    the health column
#   test/gitops/status-table.sh --kstatus BIN/kstatus        the kstatus column
#   test/gitops/status-table.sh --kstatus built              ... kind/local's build of it
#   ... --script FILE    judge another health script (e.g. the one the chart renders)
#
# Prints one line per row and judge, then "N passed, N failed"; exit 1 on a failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
table=$here/status-table.yaml
luas=() kstatus="" script=$repo/charts/cubit/files/health.lua
while (($#)); do
  case $1 in
    --lua) luas+=("$2"); shift 2 ;;
    --kstatus) kstatus=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --table) table=$2; shift 2 ;;
    *) echo "usage: $0 [--lua LUA]... [--kstatus BIN] [--script FILE] [--table FILE]" >&2; exit 2 ;;
  esac
done
if [[ $kstatus == built ]]; then
  kstatus=$("$repo/kind/local/build.sh" --print)/kstatus || exit 2
fi
((${#luas[@]})) || [[ -n $kstatus ]] || { echo "$0: name a judge (--lua or --kstatus)" >&2; exit 2; }

cases=$(yq -c '.cases' "$table")
objects=$(jq -c '{apiVersion: "v1", kind: "List", items: [.[].object]}' <<<"$cases")
passed=0 failed=0

# judge NAME COLUMN OUTPUT: compares OUTPUT (one JSON line per object, in the table's
# order) with the table's COLUMN and COLUMN+"Message".
judge() {
  local name=$1 col=$2 out=$3 verdicts
  verdicts=$(jq -rn --arg col "$col" --arg judge "$name" \
    --argjson cases "$cases" --slurpfile got <(printf '%s\n' "$out") '
    [range(0; $cases | length)] | .[] as $i | $cases[$i] as $c | $got[$i] as $g
    | select($c[$col] != null)
    | ($c[$col + "Message"]) as $m
    | if $g == null then "FAIL\t\($c.name)\t\($judge): no verdict"
      elif $g.status != $c[$col] then
        "FAIL\t\($c.name)\t\($judge): \($g.status) (\($g.message)), expected \($c[$col]): \($c.why)"
      elif $m != null and $g.message != $m then
        "FAIL\t\($c.name)\t\($judge): message \($g.message | tojson), expected \($m | tojson)"
      else "ok\t\($c.name)\t\($judge): \($g.status)" end')
  while IFS=$'\t' read -r verdict row rest; do
    printf '%-5s %-40s %s\n' "$verdict" "$row" "$rest"
    if [[ $verdict == ok ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done <<<"$verdicts"
}

for lua in "${luas[@]}"; do
  if out=$("$lua" "$here/argocd-health.lua" --script "$script" -o json <<<"$objects"); then
    judge "Argo CD ($lua)" health "$out"
  else
    echo "FAIL  $lua could not run $script over the table"; failed=$((failed + 1))
  fi
done
if [[ -n $kstatus ]]; then
  if out=$("$kstatus" -o json <<<"$objects"); then
    judge kstatus kstatus "$out"
  else
    echo "FAIL  $kstatus could not judge the table"; failed=$((failed + 1))
  fi
fi
echo "$passed passed, $failed failed"
((failed == 0))
