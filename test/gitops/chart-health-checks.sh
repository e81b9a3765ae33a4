#!/usr/bin/env bash
# The chart's Argo CD health checks (templates/argocd-health-checks.yaml): off by
# default; with argocd.healthChecks.enabled one argocd-cm key per CRD of crds/, each
# holding files/health.lua byte for byte, and the rendered script passes the status
# table. Needs helm (kind/local's build, or $HELM). Prints "N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
helm=${HELM:-$("$repo/kind/local/build.sh" --print)/helm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

if "$helm" template cubit "$repo/charts/cubit" -n cubit-system | grep -q 'name: cubit-argocd-health-checks'; then
  nok "default values render cubit-argocd-health-checks"
else
  ok "default values render no health-check ConfigMap"
fi

"$helm" template cubit "$repo/charts/cubit" -n cubit-system --set argocd.healthChecks.enabled=true \
  --show-only templates/argocd-health-checks.yaml >"$tmp/cm.yaml"
data=$(yq -c '.data' "$tmp/cm.yaml")
want=$(for f in "$repo"/crds/*.yaml; do
  yq -r '"resource.customizations.health.\(.spec.group)_\(.spec.names.kind)"' "$f"
done | LC_ALL=C sort)
got=$(jq -r 'keys[]' <<<"$data" | LC_ALL=C sort)
if [[ $got == "$want" ]]; then
  ok "one key per CRD: $(wc -l <<<"$got") keys"
else
  nok "keys differ from the CRDs': $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
fi
while IFS= read -r key; do
  jq -j --arg k "$key" '.[$k]' <<<"$data" >"$tmp/script.lua"
  if cmp -s "$tmp/script.lua" "$repo/charts/cubit/files/health.lua"; then
    ok "$key is files/health.lua"
  else
    nok "$key differs from files/health.lua"
  fi
done <<<"$got"

if out=$("$here/status-table.sh" --lua lua5.1 --script "$tmp/script.lua" 2>&1); then
  ok "the rendered script passes the status table ($(tail -n1 <<<"$out"))"
else
  nok "the rendered script fails the status table:"
  grep -v '^ok' <<<"$out"
fi
echo "$passed passed, $failed failed"
((failed == 0))
