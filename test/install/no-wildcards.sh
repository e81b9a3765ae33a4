#!/usr/bin/env bash
# No Role or ClusterRole grants a wildcard: every apiGroup, resource, verb,
# resourceName and nonResourceURL is spelled out (issue 8). Checks the YAML files
# given, or else every YAML file under config/ and charts/cubit/files/; "-" reads
# a stream (e.g. `helm template` or `kubectl get -o yaml`) from stdin.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
files=("$@")
if ((${#files[@]} == 0)); then
  mapfile -t files < <(find "$repo/config" "$repo/charts/cubit/files" -name '*.yaml' | sort)
fi
roles=0
found=$(for f in "${files[@]}"; do
  yq -c 'select(. != null) | if .kind == "List" or (.kind // "" | endswith("List")) then .items[] else . end
         | select(.kind == "Role" or .kind == "ClusterRole")' "$f"
done)
roles=$(grep -c . <<<"$found" || true)
bad=$(jq -r '. as $r | (.rules // [])[] | to_entries[]
  | select(.key | IN("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"))
  | select(.value | map(test("\\*")) | any)
  | "\($r.kind) \($r.metadata.namespace // "")/\($r.metadata.name): \(.key) has a wildcard: \(.value)"' <<<"$found")
if [[ -n $bad ]]; then
  echo "$bad"
  echo "no-wildcards: $roles role(s) checked, $(grep -c . <<<"$bad") wildcard(s)"
  exit 1
fi
((roles > 0)) || { echo "no-wildcards: no Role or ClusterRole found in ${files[*]}"; exit 1; }
echo "no-wildcards: $roles role(s) checked, none has a wildcard"
