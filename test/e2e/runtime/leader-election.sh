#!/usr/bin/env bash
# Two cubit-manager processes elect one leader; after the leader is killed
# with SIGKILL the other takes over within 20 s (lease 15 s, retry 2 s); a
# leader stopped with SIGTERM releases the lease at once.
# Runs under the manager's ServiceAccount (needs test/e2e/cubit-up.sh first), and
# reads who leads from /metrics as a scraper would: over TLS with the token of
# $state/metrics.token. Without webhooks and --metrics-cert-dir each manager issues
# itself a certificate no client can verify (so -k here), in a directory it removes
# when it stops.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
build=${CUBIT_BUILD_DIR:-$repo/build}
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")
lease=cubit-e2e-leader-$$
work=$(mktemp -d)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  "${kubectl[@]}" -n cubit-system delete lease "$lease" --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for i in 0 1; do echo "----- manager $i log" >&2; tail -n 30 "$work/m$i.log" >&2 || true; done
  exit 1
}

start() { # index -> starts manager i on ports 1829i/1839i
  local i=$1
  "$build/cubit-manager" --kubeconfig "$state/manager.kubeconfig" --leader-elect \
    --leader-election-id "$lease" --identity "e2e-$i" \
    --health-probe-bind-address "127.0.0.1:1829$i" --metrics-bind-address "127.0.0.1:1839$i" \
    --webhook-bind-address 0 -v 1 >"$work/m$i.log" 2>&1 &
  pids[$i]=$!
}
leading() { # index -> 0 when manager i reports it leads
  curl -fsS --max-time 1 -k -H "Authorization: Bearer $(cat "$state/metrics.token")" \
    "https://127.0.0.1:1839$1/metrics" 2>/dev/null |
    grep -q "^leader_election_master_status{name=\"$lease\"} 1$"
}
holder() { "${kubectl[@]}" -n cubit-system get lease "$lease" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }

start 0
start 1
leader=""
for _ in $(seq 1 150); do
  l0=0 l1=0
  leading 0 && l0=1
  leading 1 && l1=1
  ((l0 && l1)) && fail "both managers claim to lead"
  if ((l0 || l1)); then leader=$((l0 ? 0 : 1)); break; fi
  sleep 0.2
done
[[ -n $leader ]] || fail "no leader elected within 30s"
other=$((1 - leader))
[[ $(holder) == "e2e-$leader" ]] || fail "lease holder is '$(holder)', expected e2e-$leader"
# Stays a single leader for a few renewals.
for _ in $(seq 1 10); do leading "$other" && fail "the standby claims to lead"; sleep 0.5; done
echo "leader: e2e-$leader; killing it with SIGKILL"

kill -KILL "${pids[$leader]}"
killed=$(date +%s%3N)
took=""
for _ in $(seq 1 250); do
  if leading "$other"; then took=$(($(date +%s%3N) - killed)); break; fi
  sleep 0.1
done
[[ -n $took ]] || fail "standby did not take over within 25s"
echo "takeover after ${took} ms"
((took <= 20000)) || fail "takeover took ${took} ms, more than 20 s"
[[ $(holder) == "e2e-$other" ]] || fail "lease holder is '$(holder)' after takeover"

# SIGTERM: the new leader drains, gives the lease up and exits 0.
kill -TERM "${pids[$other]}"
wait "${pids[$other]}" || fail "manager exited with $? after SIGTERM"
[[ -z $(holder) ]] || fail "lease still held by '$(holder)' after a clean shutdown"
grep -q 'released lease' "$work/m$other.log" || fail "no 'released lease' in the log"
certs=$(sed -n 's/.*msg="metrics served with a self-issued certificate" dir=\([^ ]*\).*/\1/p' "$work/m$other.log")
[[ -n $certs ]] || fail "no self-issued metrics certificate in the log"
[[ ! -e $certs ]] || fail "the self-issued certificate's directory $certs is left behind"
echo "PASS"
