#!/usr/bin/env bash
# The quality bar of every CRD in crds/ (issue 8), checked without a cluster:
#   - apiextensions.k8s.io/v1, group cubit.dev, category cubit, a short name;
#   - one storage version; each version has the status subresource (templates, which
#     declare no status at all, excepted), a printer
#     column Ready (the Ready condition's status) and Age;
#   - a structural schema: every node has a type (or is int-or-string), objects
#     say what they hold, logical junctors carry no type except int-or-string;
#   - a description on every field (so `kubectl explain` answers), metadata aside;
#   - the status conventions Argo CD and Flux read: status.observedGeneration
#     (defaulted to 0, so a just-created object is InProgress to kstatus)
#     and status.conditions (list map on type, with type/status/reason/message/
#     lastTransitionTime);
#   - every kind has a sample in config/samples (or a folder below it, for
#     samples that need more than one cluster: `kubectl apply -f config/samples/`
#     does not descend, so the install tests do not await them), a bad-objects table in
#     test/install/bad-objects/<plural>.yaml, read access for the manager and,
#     when namespaced, access for project members (cubit-project-view/edit).
# The API server checks the schemas again when e2e.install-helm installs them.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fail=0
checked=0
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
# report WHERE JQ-PROGRAM JSON: every line the program prints is a problem.
report() {
  local where=$1 out line
  out=$(jq -r "$2" <<<"$3") || { bad "$where: jq failed on the check"; return; }
  while IFS= read -r line; do [[ -n $line ]] && bad "$where: $line"; done <<<"$out"
  return 0
}

shopt -s nullglob
crds=("$repo"/crds/*.yaml)
((${#crds[@]})) || { echo "no CRDs in crds/"; exit 1; }

# Every document of config/samples and of the manager's roles, as JSON lines.
samples=$(for f in "$repo"/config/samples/*.yaml "$repo"/config/samples/*/*.yaml; do yq -c 'select(. != null)' "$f"; done)
roles=$(yq -c 'select(. != null)' "$repo"/config/rbac/role.yaml "$repo"/config/rbac/project_roles.yaml)

# verbs_for ROLE RESOURCE: the verbs ROLE grants on cubit.dev RESOURCE, one a line.
verbs_for() {
  jq -r --arg role "$1" --arg res "$2" 'select(.metadata.name == $role) | .rules[]
    | select((.apiGroups | index("cubit.dev")) and (.resources | index($res))) | .verbs[]' <<<"$roles" | sort -u
}
has_verbs() { # ROLE RESOURCE VERB...
  local role=$1 res=$2 v have
  shift 2
  have=$(verbs_for "$role" "$res")
  for v in "$@"; do grep -qx "$v" <<<"$have" || return 1; done
}

for f in "${crds[@]}"; do
  name=$(basename "$f")
  crd=$(yq -c . "$f")
  kind=$(jq -r .spec.names.kind <<<"$crd")
  plural=$(jq -r .spec.names.plural <<<"$crd")
  scope=$(jq -r .spec.scope <<<"$crd")
  # Templates (JobTemplate, ClusterJobTemplate) are data that other objects use: they
  # declare no status at all, so the status conventions do not apply to them.
  passive=$(jq '(.spec.versions | length) as $n | [.spec.versions[] | select(.subresources.status == null and .schema.openAPIV3Schema.properties.status == null)] | length == $n' <<<"$crd")
  checked=$((checked + 1))

  # Names, group, categories.
  report "$name" '
    (if .apiVersion != "apiextensions.k8s.io/v1" or .kind != "CustomResourceDefinition" then "not an apiextensions.k8s.io/v1 CustomResourceDefinition" else empty end),
    (if .spec.group != "cubit.dev" then "group is \(.spec.group), want cubit.dev" else empty end),
    (if .metadata.name != "\(.spec.names.plural).\(.spec.group)" then "metadata.name must be <plural>.<group>" else empty end),
    (if ((.spec.names.categories // []) | index("cubit")) == null then "spec.names.categories lacks cubit (kubectl get cubit)" else empty end),
    (if ((.spec.names.shortNames // []) | length) == 0 then "spec.names.shortNames is empty" else empty end),
    (if ([.spec.versions[] | select(.storage)] | length) != 1 then "want exactly one storage version" else empty end)
    ' "$crd"

  nversions=$(jq '.spec.versions | length' <<<"$crd")
  for ((i = 0; i < nversions; i++)); do
    v=$(jq -c ".spec.versions[$i]" <<<"$crd")
    vn=$(jq -r .name <<<"$v")
    where="$name $vn"
    [[ $passive == true ]] || report "$where" '
      (if .subresources.status == null then "no status subresource" else empty end),
      (if ([.additionalPrinterColumns[]? | select(.name == "Ready" and (.jsonPath | gsub(" "; "") | contains("conditions[?(@.type==\"Ready\")].status")))] | length) == 0
         then "no printer column Ready with jsonPath .status.conditions[?(@.type==\"Ready\")].status" else empty end),
      (if ([.additionalPrinterColumns[]? | select(.name == "Age" and .type == "date")] | length) == 0 then "no printer column Age (type date)" else empty end),
      (if .schema.openAPIV3Schema == null then "no openAPIV3Schema" else empty end),
      # status conventions
      (.schema.openAPIV3Schema.properties.status as $st
       | if $st == null then "no status in the schema"
         else
           (if $st.properties.observedGeneration.type != "integer" then "status.observedGeneration (integer) missing" else empty end),
           (if $st.default.observedGeneration != 0 then "status has no default {observedGeneration: 0}: kstatus calls a just-created object Current" else empty end),
           ($st.properties.conditions as $c
            | if $c == null then "status.conditions missing"
              else
                (if $c.type != "array" then "status.conditions is not an array" else empty end),
                (if $c["x-kubernetes-list-type"] != "map" or $c["x-kubernetes-list-map-keys"] != ["type"] then "status.conditions must be a list map keyed on type" else empty end),
                ($c.items.properties as $ip | ["type", "status", "reason", "message", "lastTransitionTime"][]
                 | select($ip[.] == null) | "status.conditions[] lacks \(.)")
              end)
         end),
      (if .schema.openAPIV3Schema.properties.spec == null then "no spec in the schema" else empty end)
      ' "$v"

    # The schema walk: structural rules and descriptions on every field.
    report "$where" '
      def junctors: ["anyOf", "oneOf", "allOf", "not"];
      def check(p; isroot):
        (if (.type == null) and (.["x-kubernetes-int-or-string"] != true) and (.["x-kubernetes-preserve-unknown-fields"] != true)
           then "\(p): no type (a structural schema needs one)" else empty end),
        (if .type == "object" and .properties == null and .additionalProperties == null
            and .["x-kubernetes-preserve-unknown-fields"] != true and (p != ".metadata")
           then "\(p): an object with neither properties nor additionalProperties (its fields would be pruned)" else empty end),
        (if .type == "array" and .items == null then "\(p): an array without items" else empty end),
        (. as $n | junctors[] as $j | ($n[$j] // empty) | (if type == "array" then .[] else . end)
         | select(has("description") or has("default") or has("additionalProperties") or has("nullable")
                  or (has("type") and ($n["x-kubernetes-int-or-string"] != true)))
         | "\(p): \($j) may not set type, description, default, additionalProperties or nullable"),
        ((.properties // {}) | to_entries[] | .key as $k | .value as $v
         | (if ($v.description // "" | length) == 0 and ((isroot and ($k == "metadata")) | not)
              then "\(p).\($k): no description" else empty end),
           ($v | check("\(p).\($k)"; false))),
        (if (.items | type) == "object" then (.items | check("\(p)[]"; false)) else empty end),
        (if (.additionalProperties | type) == "object" then (.additionalProperties | check("\(p).*"; false)) else empty end);
      .schema.openAPIV3Schema
      | (if (.description // "" | length) == 0 then "the root has no description" else empty end),
        check(""; true)
      ' "$v"
  done

  # A sample and a bad-objects table per kind.
  jq -n -e --arg k "$kind" '[inputs | select(.kind == $k and .apiVersion == "cubit.dev/v1alpha1")] | length > 0' <<<"$samples" >/dev/null ||
    bad "$name: no $kind in config/samples/"
  [[ -f $repo/test/install/bad-objects/$plural.yaml ]] ||
    bad "$name: no test/install/bad-objects/$plural.yaml (rows of bad ${kind}s the API server must refuse)"

  # RBAC: the manager reads every kind (its informers list and watch) and writes its
  # status; members use namespaced kinds.
  has_verbs cubit-manager "$plural" list watch || bad "$name: ClusterRole cubit-manager lacks list/watch on $plural"
  [[ $passive == true ]] || verbs_for cubit-manager "$plural/status" | grep -qxE 'update|patch' ||
    bad "$name: ClusterRole cubit-manager cannot update or patch $plural/status"
  if [[ $scope == Namespaced ]]; then
    has_verbs cubit-project-view "$plural" get list watch || bad "$name: cubit-project-view lacks get/list/watch on $plural"
    has_verbs cubit-project-edit "$plural" get list watch create update patch delete ||
      bad "$name: cubit-project-edit lacks create/update/patch/delete on $plural"
  fi
done

echo "crd-lint: $checked CRD(s) checked, $fail problem(s)"
((fail == 0))
