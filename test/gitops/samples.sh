#!/usr/bin/env bash
# Every sample of config/samples runs for real (issue 12): applied as a user would
# (the Project first, then the rest), each object settles where a user expects it and
# the two GitOps judges agree, and every pod of the samples' namespaces is Running or
# Completed.
#
#   - Cubit objects: kstatus (kind/local's kstatus) Current and Argo CD's health
#     (charts/cubit/files/health.lua) Healthy, and then `kubectl wait
#     --for=condition=Ready` returns at once; or, for an object a sample leaves
#     suspended on purpose, Suspended with Suspended=True and no Ready condition.
#   - Other objects (the claims): kstatus Current.
#   - Pods in the samples' namespaces: phase Running (and Ready) or Succeeded.
#
# Needs the cluster and cubit-manager (test/e2e/cubit-up.sh, which applies the samples
# too). CUBIT_SAMPLES_TIMEOUT (default 180) is how long objects may take to settle.
# Prints one line per object and pod, then "N passed, N failed"; on a failure the
# object's status, its pods' conditions and the namespace's events.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
samples=$repo/config/samples
timeout=${CUBIT_SAMPLES_TIMEOUT:-180}
[[ -f $state/ready ]] || { echo "the local control plane is not up (test/e2e/cubit-up.sh)" >&2; exit 2; }
bin=$("$repo/kind/local/build.sh" --print) || exit 2
export KUBECONFIG=$state/kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
health() { lua5.4 "$repo/test/gitops/argocd-health.lua" -o json; }
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

# ---- apply, as the samples' comments tell a user
if ! out=$(kubectl apply -f "$samples/project.yaml" 2>&1); then
  nok "apply project.yaml: $out"
elif ! out=$(kubectl wait --for=condition=Ready projects --all --timeout=60s 2>&1); then
  nok "projects not Ready: $out"
elif ! out=$(kubectl apply -f "$samples/" 2>&1); then
  nok "apply config/samples/: $out"
fi

# Every object of the samples: kind, namespace (for namespaced kinds), name.
objects=$(for f in "$samples"/*.yaml; do yq -c 'select(. != null)' "$f"; done |
  jq -c '{apiVersion, kind, name: .metadata.name, namespace: .metadata.namespace}')
# judge OBJ_JSON -> "kstatus<TAB>health<TAB>health message"
judge() {
  local k h
  k=$("$bin/kstatus" -o json <<<"$1" | jq -r .status)
  if [[ $(jq -r .apiVersion <<<"$1") == cubit.dev/* ]]; then
    h=$(health <<<"$1" | jq -r '[.status, .message] | @tsv')
  else
    h=$'-\t-'
  fi
  printf '%s\t%s\n' "$k" "$h"
}

settled() { # KSTATUS HEALTH
  [[ $1 == Current && ($2 == Healthy || $2 == Suspended || $2 == -) ]]
}

namespaces=()
# One deadline for all: once it has passed, each remaining object is judged once.
deadline=$((SECONDS + timeout))
while IFS= read -r o; do
  kind=$(jq -r .kind <<<"$o") name=$(jq -r .name <<<"$o")
  ns=$(jq -r '.namespace // "default"' <<<"$o")
  key="$kind/$name"
  # -n is ignored for cluster-scoped kinds; the live object says which it is.
  nsflag=(-n "$ns")
  verdict="not found" live=""
  while :; do
    if live=$(kubectl get "$kind" "$name" "${nsflag[@]}" -o json 2>&1); then
      if [[ $(jq -r '.metadata.namespace // empty' <<<"$live") ]]; then
        key="$kind $ns/$name"
        [[ " ${namespaces[*]} " == *" $ns "* ]] || namespaces+=("$ns")
      fi
      verdict=$(judge "$live")
      IFS=$'\t' read -r ks hs hm <<<"$verdict"
      settled "$ks" "$hs" && break
    else
      verdict="get failed: $live" live=""
    fi
    ((SECONDS < deadline)) || break
    sleep 2
  done
  IFS=$'\t' read -r ks hs hm <<<"$verdict"
  if ! settled "$ks" "$hs"; then
    nok "$key not settled within ${timeout}s: kstatus $ks, Argo CD ${hs:-?} (${hm:-})"
    [[ -n $live ]] && jq '{generation: .metadata.generation, status}' <<<"$live" | sed 's/^/      /'
    continue
  fi
  if [[ $hs == Healthy ]]; then
    if out=$(kubectl wait --for=condition=Ready "$kind/$name" "${nsflag[@]}" --timeout=5s 2>&1); then
      ok "$key: kstatus Current, Argo CD Healthy ($hm), condition Ready"
    else
      nok "$key: kstatus Current, Argo CD Healthy, but kubectl wait --for=condition=Ready: $out"
    fi
  elif [[ $hs == Suspended ]]; then
    if jq -e '(.status.conditions // []) | (any(.type == "Suspended" and .status == "True"))
        and (any(.type == "Ready") | not)' <<<"$live" >/dev/null; then
      ok "$key: kstatus Current, Argo CD Suspended on purpose ($hm)"
    else
      nok "$key: Argo CD Suspended without Suspended=True and Ready removed"
    fi
  else
    ok "$key: kstatus Current"
  fi
done <<<"$objects"

# ---- the pods: Running and Ready, or Completed
for ns in "${namespaces[@]}"; do
  pods=$(kubectl get pods -n "$ns" -o json | jq -c '.items[]')
  [[ -n $pods ]] || continue
  while IFS= read -r p; do
    pname=$(jq -r .metadata.name <<<"$p") phase=$(jq -r .status.phase <<<"$p")
    ready=$(jq -r '(.status.conditions // [])[] | select(.type == "Ready") | .status' <<<"$p")
    if [[ $phase == Succeeded || ($phase == Running && $ready == True) ]]; then
      ok "pod $ns/$pname: $phase"
    else
      nok "pod $ns/$pname: $phase, Ready=${ready:-?}"
      jq -r '((.status.conditions // [])[] | select(.status != "True")
          | "      \(.type)=\(.status) \(.reason // "") \(.message // "")"),
        ((.status.containerStatuses // [])[] | select(.state.running == null)
          | "      container \(.name): \(.state | tostring)")' <<<"$p"
      kubectl get events -n "$ns" --field-selector "involvedObject.name=$pname" 2>/dev/null |
        tail -n 5 | sed 's/^/      /'
    fi
  done <<<"$pods"
done
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
