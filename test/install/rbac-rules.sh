#!/usr/bin/env bash
# The manager's permissions are exactly test/install/rbac-expected.txt (issue 13):
# every rule of every Role and ClusterRole bound to the cubit-manager ServiceAccount,
# plus cubit-metrics-reader, expanded to one line per apiGroup, resource, verb and
# resourceName (or non-resource URL and verb), sorted, and compared with the committed
# list. A line here that the list lacks is a widening and fails the test; a line the
# list has and the roles lack fails too, so the list stays the truth. Change both
# together, on purpose, saying why in the commit.
#
#   test/install/rbac-rules.sh              config/rbac/*.yaml
#   test/install/rbac-rules.sh FILE...      rendered YAML (helm template, kubectl get -o yaml)
#   test/install/rbac-rules.sh -            the same from stdin
#   test/install/rbac-rules.sh --print ...  print the expanded rules instead
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
expected=$repo/test/install/rbac-expected.txt
print=0
[[ ${1:-} == --print ]] && { print=1; shift; }
files=("$@")
((${#files[@]})) || mapfile -t files < <(find "$repo/config/rbac" -name '*.yaml' | sort)
objects=$(for f in "${files[@]}"; do
  yq -c 'select(. != null) | if (.kind // "" | endswith("List")) then .items[] else . end' "$f"
done)
# Roles the ServiceAccount cubit-manager is bound to ("Kind name" or "Kind ns/name").
bound=$(jq -r 'select(.kind == "ClusterRoleBinding" or .kind == "RoleBinding")
  | select(any(.subjects[]?; .kind == "ServiceAccount" and .name == "cubit-manager"))
  | if .roleRef.kind == "ClusterRole" then "ClusterRole \(.roleRef.name)"
    else "Role \(.metadata.namespace // "")/\(.roleRef.name)" end' <<<"$objects" | sort -u)
[[ -n $bound ]] || { echo "rbac-rules: nothing is bound to the ServiceAccount cubit-manager in ${files[*]}"; exit 1; }
roles=$(jq -c --arg bound "$bound" '
  select(.kind == "Role" or .kind == "ClusterRole")
  | (if .kind == "ClusterRole" then "ClusterRole \(.metadata.name)" else "Role \(.metadata.namespace // "")/\(.metadata.name)" end) as $id
  | select(($bound | split("\n") | index($id)) or $id == "ClusterRole cubit-metrics-reader")' <<<"$objects")
# The namespace of a Role is the release's: compare without it.
actual=$(jq -r '
  (if .kind == "ClusterRole" then "ClusterRole \(.metadata.name)" else "Role \(.metadata.name)" end) as $id
  | (.rules // [])[] as $r
  | if $r.nonResourceURLs then
      $r.nonResourceURLs[] as $u | $r.verbs[] as $v | "\($id): nonResourceURL \($u) \($v)"
    else
      $r.apiGroups[] as $g | $r.resources[] as $res | $r.verbs[] as $v
      | if ($r.resourceNames // [] | length) > 0 then $r.resourceNames[] as $n | "\($id): \(if $g == "" then "core" else $g end) \($res) \($v) name=\($n)"
        else "\($id): \(if $g == "" then "core" else $g end) \($res) \($v)" end
    end' <<<"$roles" | sort -u)
if ((print)); then
  printf '%s\n' "$actual"
  exit 0
fi
want=$(grep -v '^#' "$expected" | grep . | sort -u)
wider=$(comm -13 <(printf '%s\n' "$want") <(printf '%s\n' "$actual"))
narrower=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$actual"))
status=0
if [[ -n $wider ]]; then
  echo "rbac-rules: the manager's permissions are WIDER than test/install/rbac-expected.txt:"
  sed 's/^/  + /' <<<"$wider"
  status=1
fi
if [[ -n $narrower ]]; then
  echo "rbac-rules: rbac-expected.txt lists permissions the roles no longer grant (remove them from the list):"
  sed 's/^/  - /' <<<"$narrower"
  status=1
fi
((status)) || echo "rbac-rules: $(grep -c . <<<"$actual") permission(s) of $(grep -c . <<<"$bound") bound role(s) and cubit-metrics-reader, as expected"
exit $status
