#!/usr/bin/env bash
# GitOps conformance on the live cluster (issue 12, docs/gitops.md): drives every Cubit
# kind through its states and asserts, at each step, what Flux's kstatus (kind/local's
# kstatus command) and Argo CD's health check (charts/cubit/files/health.lua, run by
# test/gitops/argocd-health.lua) make of the live object, as docs/status.md says.
#
#   test/e2e/gitops/run.sh                 every scenario of scenarios.yaml
#   test/e2e/gitops/run.sh notebook-stop   only the scenarios named
#
# Needs the cluster of kind/local and cubit-manager (test/e2e/cubit-up.sh). The
# scenarios run in parallel (CUBIT_GITOPS_JOBS, default 4), each in its own namespace
# gitops-<scenario>; the namespaces and cluster-scoped objects are deleted afterwards
# unless CUBIT_E2E_KEEP=1. Logs: .cubit/e2e/gitops/<scenario>.log.
#
# scenarios.yaml holds a list of scenarios, each a name and steps. A step is
#   name:     what the step shows
#   apply:    objects applied first (claims, ...), not judged; in the scenario's
#             namespace unless they name their own (then deleted afterwards)
#   create:   an object to create; the API server's answer is judged at once (the
#             object as it exists before any controller saw it)
#   patch:    a merge patch of the step's object (`of`); the answer is judged at once
#   of:       Kind/name of the object judged (default: the last one created)
#   expect:   kstatus (InProgress, Current, Failed, ...), health (Healthy, Progressing,
#             Degraded, Suspended), and optionally phase and message: regular
#             expressions (grep -E) for status.phase and for the health message
#   timeout:  seconds to wait for the live object to match (default 90), when the
#             step neither creates nor patches
#   hold:     seconds the live object must then keep matching (a terminal state)
# ${NS} in a step is the scenario's namespace (cluster-scoped names derive from it).
# Prints one line per step and "N passed, N failed" (steps). A step whose action is
# refused or whose wait times out skips the rest of its scenario (counted as failed);
# a wrong verdict on an answer does not, as it leaves the object where it should be.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
table=${CUBIT_GITOPS_SCENARIOS:-$here/scenarios.yaml}
parallel=${CUBIT_GITOPS_JOBS:-4}
[[ -f $state/ready ]] || { echo "the local control plane is not up (test/e2e/cubit-up.sh)" >&2; exit 2; }
bin=$("$repo/kind/local/build.sh" --print) || exit 2
export KUBECONFIG=$state/kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
reports=$repo/.cubit/e2e/gitops
rm -rf "$reports"
mkdir -p "$reports"

all=$(yq -c '.scenarios' "$table") || exit 2
if (($#)); then
  want=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
  all=$(jq -c --argjson want "$want" '[.[] | select(.name as $n | $want | index($n))]' <<<"$all")
  (($(jq length <<<"$all") == $#)) || { echo "no such scenario among: $*" >&2; exit 2; }
fi

# verdict OBJ_JSON: one line, "kstatus<TAB>kmessage<TAB>health<TAB>hmessage<TAB>phase".
verdict() {
  local k h
  k=$("$bin/kstatus" -o json <<<"$1" 2>&1) || k='{"status":"error","message":'$(jq -Rs . <<<"$k")'}'
  h=$(lua5.4 "$repo/test/gitops/argocd-health.lua" -o json <<<"$1" 2>&1) ||
    h='{"status":"error","message":'$(jq -Rs . <<<"$h")'}'
  jq -rn --argjson k "$k" --argjson h "$h" --argjson o "$1" \
    '[$k.status, $k.message, $h.status, $h.message, ($o.status.phase // "")] | @tsv'
}

# matches EXPECT_JSON VERDICT: whether the verdict is what the step expects.
matches() {
  local ks km hs hm phase
  IFS=$'\t' read -r ks km hs hm phase <<<"$2"
  [[ $ks == "$(jq -r '.kstatus // empty' <<<"$1")" || -z $(jq -r '.kstatus // empty' <<<"$1") ]] || return 1
  [[ $hs == "$(jq -r '.health // empty' <<<"$1")" || -z $(jq -r '.health // empty' <<<"$1") ]] || return 1
  local re
  re=$(jq -r '.phase // empty' <<<"$1")
  [[ -z $re ]] || grep -qE "^($re)\$" <<<"$phase" || return 1
  re=$(jq -r '.message // empty' <<<"$1")
  [[ -z $re ]] || grep -qE -- "$re" <<<"$hm" || return 1
}

describe() { # VERDICT
  local ks km hs hm phase
  IFS=$'\t' read -r ks km hs hm phase <<<"$1"
  printf 'kstatus %s (%s); Argo CD %s (%s); phase %s' "$ks" "$km" "$hs" "$hm" "${phase:-none}"
}

# What a failed step shows: the object's status, its namespace's pods and events, and
# the manager's last lines about it.
diagnose() { # NS KIND NAME
  echo "----- $2/$3 status"
  kubectl get "$2" "$3" -n "$1" -o json 2>&1 | jq '{generation: .metadata.generation, status}' 2>&1 | sed 's/^/  /'
  echo "----- pods in $1"
  kubectl get pods -n "$1" -o wide 2>&1 | sed 's/^/  /'
  kubectl get pods -n "$1" -o json 2>/dev/null | jq -r '.items[] | .metadata.name as $p
    | (.status.conditions // [])[] | select(.status != "True") | "  \($p): \(.type)=\(.status) \(.reason // "") \(.message // "")"'
  echo "----- events in $1"
  kubectl get events -n "$1" --sort-by=.lastTimestamp 2>&1 | tail -n 15 | sed 's/^/  /'
  if [[ -f $state/manager.log ]]; then
    echo "----- manager.log lines about $3"
    grep -F "$3" "$state/manager.log" | tail -n 10 | sed 's/^/  /'
  fi
}

apply_items() { # STEP_JSON JQ_SELECT [KUBECTL_ARGS...]: applies the step's objects selected
  local list
  list=$(jq -c "{apiVersion: \"v1\", kind: \"List\", items: [.apply[] | select($2)]}" <<<"$1") || return 1
  [[ $(jq '.items | length' <<<"$list") -gt 0 ]] || return 0
  kubectl apply "${@:3}" -f - <<<"$list" 2>&1
}

run_scenario() { # SCENARIO_JSON -> its log on stdout; exit 1 on a failed step
  local sc=$1 name ns nsteps i step sname of="" ns_of expect timeout hold out v obj kind oname ref_ns ref_kind ref_name
  name=$(jq -r .name <<<"$sc")
  ns=gitops-$name
  local created=() elsewhere=()
  if kubectl get namespace "$ns" >/dev/null 2>&1; then
    kubectl delete namespace "$ns" --wait=true --timeout=120s >/dev/null 2>&1
  fi
  kubectl create namespace "$ns" >/dev/null || { echo "FAIL  $name: cannot create namespace $ns"; return 1; }
  nsteps=$(jq '.steps | length' <<<"$sc")
  local status=0
  for ((i = 0; i < nsteps; i++)); do
    step=$(jq -c ".steps[$i]" <<<"$sc")
    step=${step//'${NS}'/$ns}
    sname="$name: $(jq -r .name <<<"$step")"
    if ((status)); then
      echo "FAIL  $sname (skipped after the failure above)"
      continue
    fi
    expect=$(jq -c '.expect // {}' <<<"$step")
    if jq -e '.apply' <<<"$step" >/dev/null; then
      # Objects naming their own namespace (a Cluster's Secret in cubit-system) are
      # applied there and deleted afterwards; the others go to the scenario's.
      if ! out=$(apply_items "$step" '.metadata.namespace == null' -n "$ns") ||
        ! out=$(apply_items "$step" '.metadata.namespace != null'); then
        echo "FAIL  $sname: apply refused: $out"; status=1; continue
      fi
      mapfile -t -O "${#elsewhere[@]}" elsewhere < <(jq -r '.apply[] | select(.metadata.namespace != null) |
        "\(.metadata.namespace) \(.kind) \(.metadata.name)"' <<<"$step")
    fi
    [[ $(jq -r '.of // empty' <<<"$step") ]] && of=$(jq -r .of <<<"$step")
    out=""
    if jq -e '.create' <<<"$step" >/dev/null; then
      obj=$(jq -c .create <<<"$step")
      of="$(jq -r .kind <<<"$obj")/$(jq -r .metadata.name <<<"$obj")"
      if ! out=$(kubectl create -n "$ns" -o json -f - <<<"$obj" 2>&1); then
        echo "FAIL  $sname: create refused: $out"; status=1; continue
      fi
      [[ $(jq -r '.metadata.namespace // empty' <<<"$out") ]] || created+=("$of")
    elif jq -e '.patch' <<<"$step" >/dev/null; then
      if ! out=$(kubectl patch "${of%%/*}" "${of#*/}" -n "$ns" --type merge \
        -p "$(jq -c .patch <<<"$step")" -o json 2>&1); then
        echo "FAIL  $sname: patch refused: $out"; status=1; continue
      fi
    fi
    [[ $expect == "{}" ]] && { echo "ok    $sname"; continue; }
    kind=${of%%/*} oname=${of#*/}
    if [[ -n $out ]]; then
      # The answer to the create or patch: judged as it is, no waiting.
      v=$(verdict "$out")
      if matches "$expect" "$v"; then
        echo "ok    $sname: $(describe "$v")"
      else
        # Judged, not waited for: the object's state is as the step left it, so the
        # scenario goes on.
        echo "FAIL  $sname: the API server's answer: $(describe "$v"); expected $expect"
      fi
      continue
    fi
    timeout=$(jq -r '.timeout // 90' <<<"$step")
    hold=$(jq -r '.hold // 0' <<<"$step")
    local deadline=$((SECONDS + timeout)) matched=0 last="no object"
    while ((SECONDS < deadline)); do
      if out=$(kubectl get "$kind" "$oname" -n "$ns" -o json 2>&1); then
        last=$(verdict "$out")
        if matches "$expect" "$last"; then matched=1; break; fi
      else
        last="get failed: $out"
      fi
      sleep 1
    done
    if ((!matched)); then
      echo "FAIL  $sname: after ${timeout}s: $(describe "$last"); expected $expect"
      diagnose "$ns" "$kind" "$oname"
      status=1
      continue
    fi
    local held=$((SECONDS + hold))
    while ((SECONDS < held)); do
      sleep 1
      out=$(kubectl get "$kind" "$oname" -n "$ns" -o json 2>&1) && last=$(verdict "$out")
      if ! matches "$expect" "$last"; then
        echo "FAIL  $sname: matched, then within ${hold}s: $(describe "$last"); expected $expect"
        diagnose "$ns" "$kind" "$oname"
        status=1
        break
      fi
    done
    ((status)) || echo "ok    $sname: $(describe "$last")"
  done
  if [[ ${CUBIT_E2E_KEEP:-0} != 1 ]]; then
    local ref
    for ref in "${created[@]}"; do
      kubectl delete "${ref%%/*}" "${ref#*/}" --wait=false >/dev/null 2>&1
    done
    for ref in "${elsewhere[@]}"; do
      read -r ref_ns ref_kind ref_name <<<"$ref"
      kubectl delete "$ref_kind" "$ref_name" -n "$ref_ns" --wait=false >/dev/null 2>&1
    done
    kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1
    # Namespaces a Project of the scenario made (named after the scenario's).
    kubectl get namespaces -o name | grep "^namespace/$ns-" | xargs -r "$bin/kubectl" delete --wait=false >/dev/null 2>&1
  fi
  return $status
}

start=$SECONDS
n=$(jq length <<<"$all")
pids=()
for ((s = 0; s < n; s++)); do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n; done
  sc=$(jq -c ".[$s]" <<<"$all")
  name=$(jq -r .name <<<"$sc")
  run_scenario "$sc" >"$reports/$name.log" 2>&1 &
  pids+=($!)
done
wait
passed=0 failed=0
for ((s = 0; s < n; s++)); do
  name=$(jq -r ".[$s].name" <<<"$all")
  cat "$reports/$name.log"
  passed=$((passed + $(grep -c '^ok ' "$reports/$name.log")))
  failed=$((failed + $(grep -c '^FAIL ' "$reports/$name.log")))
done
echo "gitops e2e: $n scenarios in $((SECONDS - start))s (logs: $reports)"
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
