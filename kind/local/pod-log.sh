#!/usr/bin/env bash
# Give a fake pod's container its output on kind/local: what `kubectl logs` (and the
# API's pods/log, which the API server fetches from kwok) then returns.
#
#   kind/local/pod-log.sh [-n NAMESPACE] [-c CONTAINER] [--stderr] POD < lines
#       appends stdin's lines to the container's log (stdout unless --stderr); the
#       first call creates the kwok `Logs` object that points kwok at the file and
#       returns once kwok serves it (at most 5 s).
#   kind/local/pod-log.sh [-n NAMESPACE] [-c CONTAINER] --end POD
#       ends every `logs -f` of the container (the output so far stays readable).
#
# kwok reads a log file in the CRI format a container runtime writes
# ("<RFC 3339 time> stdout F <line>"), from $CUBIT_LOCAL_STATE/pod-logs/NS/POD/CONTAINER.log.
# It follows a log (-f) until the client leaves, since it cannot know that a fake
# container ended; --end makes its reader fail on purpose, so a follower's stream ends
# with kwok's one-line complaint `failed to read log file ...: is a directory`.
# Without -c, the file serves every container of the pod. Deleting the pod's
# namespace deletes its Logs object; the files go with `kind/local/down.sh --purge`.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ns=default container="" stream=stdout end=0 pod=""
while (($#)); do
  case $1 in
    -n) ns=$2; shift 2 ;;
    -c) container=$2; shift 2 ;;
    --stderr) stream=stderr; shift ;;
    --end) end=1; shift ;;
    -*) kl_die "pod-log.sh: unknown option $1" ;;
    *) [[ -z $pod ]] || kl_die "pod-log.sh: one pod at a time"; pod=$1; shift ;;
  esac
done
[[ -n $pod ]] || kl_die "usage: pod-log.sh [-n NAMESPACE] [-c CONTAINER] [--stderr|--end] POD"

dir=$KL_STATE/pod-logs/$ns/$pod
file=$dir/${container:-all}.log
mkdir -p "$dir"

if ((end)); then
  # Readers from now on are sent to a copy (below); then the file is replaced by a
  # directory: a follower waits on the directory for changes to the file's name,
  # reopens it, fails to read a directory, and its stream ends.
  [[ -f $file ]] || kl_die "pod-log.sh: $ns/$pod has no log to end"
  cp "$file" "$file.ended"
else
  [[ ! -e $file.ended ]] ||
    kl_die "pod-log.sh: the log of $ns/$pod${container:+ container $container} has ended"
  new=0
  [[ -e $file ]] || new=1
  # One timestamp for the batch: readers only need the lines in order.
  awk -v ts="$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" -v s="$stream" '{ print ts " " s " F " $0 }' >>"$file"
  ((new)) || exit 0
fi

# The Logs object, named like the pod in its namespace (kwok matches on both): one
# entry per container with a file (an ended log is read from its copy; "all" serves
# the containers without a file of their own).
entries=""
for f in "$dir"/*.log "$dir"/*.log.ended; do
  [[ -f $f && ! -e $f.ended ]] || continue
  c=${f##*/}
  c=${c%.ended}
  c=${c%.log}
  if [[ $c == all ]]; then c="[]"; else c="[\"$c\"]"; fi
  entries+="  - {containers: $c, logsFile: \"$f\"}"$'\n'
done
BIN=${CUBIT_KIND_LOCAL_BIN:-$("$KL_DIR/build.sh" --print)}
"$BIN/kubectl" --kubeconfig "$KL_KUBECONFIG" apply --server-side --force-conflicts \
  --field-manager=kind-local-pod-log -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata: {name: "$pod", namespace: "$ns"}
spec:
  logs:
$entries
EOF
# kwok learns of the object through a watch: return once it serves the log (kwok says
# "no logs found" until then), so the caller's next reader finds it.
args=(-n "$ns" "$pod" --limit-bytes=1)
[[ -z $container ]] || args+=(-c "$container")
for _ in $(seq 50); do
  err=$("$BIN/kubectl" --kubeconfig "$KL_KUBECONFIG" logs "${args[@]}" 2>&1 >/dev/null) && break
  [[ $err == *"no logs found"* || $err == *"log target not found"* ]] || break
  sleep 0.1
done
if ((end)); then
  # A reader that looked the old path up just before gets a second to open it.
  sleep 1
  rm -f "$file"
  mkdir "$file"
fi
