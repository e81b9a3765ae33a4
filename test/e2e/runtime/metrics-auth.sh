#!/usr/bin/env bash
# /metrics is served as controller-runtime's secure metrics are: over TLS, to callers
# whose bearer token the API server accepts (TokenReview) and whose identity may get
# the non-resource URL /metrics (SubjectAccessReview). Against the harness's manager
# (test/e2e/cubit-up.sh), with tokens of real ServiceAccounts:
#   no token -> 401, a made-up token -> 401, a token without the role -> 403,
#   a token bound to cubit-metrics-reader -> 200 with the metrics;
#   plain HTTP gets nothing; no token reaches the manager's log; the refusal of a
#   token whose binding is gone comes within the cache's 60 s.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")
metrics=${CUBIT_MANAGER_METRICS_PORT:-18080}
url=https://127.0.0.1:$metrics/metrics
ca=$state/webhook-certs/ca.crt
ns=e2e-metrics-auth
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
cleanup() {
  "${kubectl[@]}" delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  "${kubectl[@]}" delete clusterrolebinding "$ns-reader" --ignore-not-found >/dev/null 2>&1 || true
  echo "$passed passed, $failed failed"
}
trap cleanup EXIT
[[ -f $state/manager.pid ]] && kill -0 "$(cat "$state/manager.pid")" 2>/dev/null ||
  { echo "no harness manager (test/e2e/cubit-up.sh)"; exit 2; }

# status CURL-ARGS...: the HTTP status of a scrape ("000" when there was no answer).
status() { curl -sS -o "$state/metrics-auth.body" -w '%{http_code}' --max-time 10 --cacert "$ca" "$@" "$url" 2>/dev/null || true; }
expect() { # DESCRIPTION WANT CURL-ARGS...
  local what=$1 want=$2 got
  shift 2
  got=$(status "$@")
  if [[ $got == "$want" ]]; then ok "$what: $got"; else nok "$what: got $got, want $want ($(head -c 200 "$state/metrics-auth.body" 2>/dev/null))"; fi
}

"${kubectl[@]}" create namespace "$ns" --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
for sa in reader stranger; do "${kubectl[@]}" -n "$ns" create serviceaccount "$sa" >/dev/null; done
"${kubectl[@]}" create clusterrolebinding "$ns-reader" --clusterrole=cubit-metrics-reader \
  --serviceaccount="$ns:reader" >/dev/null
reader=$("${kubectl[@]}" -n "$ns" create token reader --duration=1h)
stranger=$("${kubectl[@]}" -n "$ns" create token stranger --duration=1h)

expect "no token" 401
grep -q "no Authorization header" "$state/metrics-auth.body" && ok "the 401 says why" || nok "the 401 says why"
headers=$(curl -sS -D - -o /dev/null --max-time 10 --cacert "$ca" "$url" || true)
grep -qi '^www-authenticate: Bearer' <<<"$headers" && ok "the 401 asks for a bearer token" || nok "no WWW-Authenticate: Bearer"
expect "not a bearer token" 401 -u admin:admin
expect "a made-up token" 401 -H "Authorization: Bearer not-a-token-$RANDOM"
expect "a token of an identity without the role" 403 -H "Authorization: Bearer $stranger"
grep -q "system:serviceaccount:$ns:stranger" "$state/metrics-auth.body" && ok "the 403 names the user" || nok "the 403 names the user"
expect "a token bound to cubit-metrics-reader" 200 -H "Authorization: Bearer $reader"
grep -q '^controller_runtime_reconcile_total{' "$state/metrics-auth.body" && grep -q '^workqueue_depth{' "$state/metrics-auth.body" &&
  ok "the metrics are there" || nok "the metrics are not there"
expect "again (from the cache)" 200 -H "Authorization: Bearer $reader"
expect "HEAD with the token" 200 -I -H "Authorization: Bearer $reader"
if curl -fsS --max-time 5 "http://127.0.0.1:$metrics/metrics" >/dev/null 2>&1; then nok "plain HTTP answered"; else ok "plain HTTP gets nothing"; fi
if curl -fsS --max-time 5 -k --tls-max 1.1 -H "Authorization: Bearer $reader" "$url" >/dev/null 2>&1; then
  nok "TLS 1.1 answered"
else
  ok "TLS 1.1 refused"
fi
leaked=0
for t in "$reader" "$stranger"; do grep -qF "$t" "$state/manager.log" && leaked=1; done
((leaked == 0)) && ok "no token in the manager's log" || nok "a token is in the manager's log"

# Taking the role away: refused once the cached decision (60 s) has expired.
"${kubectl[@]}" delete clusterrolebinding "$ns-reader" >/dev/null
got=""
for _ in $(seq 1 40); do
  got=$(status -H "Authorization: Bearer $reader")
  [[ $got == 403 ]] && break
  sleep 2
done
[[ $got == 403 ]] && ok "a revoked reader is refused within 80 s" || nok "a revoked reader still gets $got"
((failed == 0))
