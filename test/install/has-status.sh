#!/usr/bin/env bash
# has-status.sh KIND: exit 0 when the Cubit kind (lower-case or not) has a status
# subresource in crds/, 1 when it declares none (templates), 2 when unknown.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
want=$(tr '[:upper:]' '[:lower:]' <<<"$1")
for crd in "$repo"/crds/*.yaml; do
  kind=$(yq -r '.spec.names.kind' "$crd" | tr '[:upper:]' '[:lower:]')
  [[ $kind == "$want" ]] || continue
  [[ $(yq -r '[.spec.versions[] | select(.subresources.status != null)] | length' "$crd") != 0 ]] && exit 0
  exit 1
done
exit 2
