#!/usr/bin/env bash
# The manager renews its own webhook certificate while admissions go on: with
# a 60 s certificate (renewed when 20 s are left) and checks every 2 s, 100 s
# of server-side dry-run pod creations in a project namespace — each one
# through the mutating and validating webhooks over TLS — all succeed while
# the serving certificate changes at least twice. Restores the default
# manager at the end.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
restore() {
  kubectl delete project e2e-certs --wait=false >/dev/null 2>&1 || true
  CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >/dev/null 2>&1 || echo "WARN: could not restore the default manager" >&2
}
trap restore EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$state/manager.log" >&2; exit 1; }

CUBIT_MANAGER_ARGS="--webhook-cert-validity 60 --webhook-cert-check 2" CUBIT_SKIP_SAMPLES=1 \
  "$repo/test/e2e/cubit-up.sh" >/dev/null 2>&1 || fail "manager did not start"
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: e2e-certs}
spec: {namespaces: [e2e-certs], deletionPolicy: Delete}
YAML
kubectl wait --for=condition=Ready project/e2e-certs --timeout=60s >/dev/null || fail "project not ready"

serial() { kubectl get secret -n cubit-system cubit-webhook-certs -o jsonpath='{.data.tls\.crt}' | base64 -d |
  openssl x509 -noout -serial; }
serials=$(serial)
ok=0 failed=0
end=$(($(date +%s) + 100))
while (($(date +%s) < end)); do
  if kubectl run probe -n e2e-certs --image=x --restart=Never --dry-run=server -o name >/dev/null 2>"$state/cert-renewal.err"; then
    ok=$((ok + 1))
  else
    failed=$((failed + 1))
    cat "$state/cert-renewal.err" >&2
  fi
  s=$(serial)
  grep -qF "$s" <<<"$serials" || serials=$(printf '%s\n%s' "$serials" "$s")
done
renewals=$(($(wc -l <<<"$serials") - 1))
echo "admissions: $ok ok, $failed failed; certificate renewals: $renewals"
((failed == 0)) || fail "$failed admissions failed during renewal"
((renewals >= 2)) || fail "only $renewals renewals in 100 s"
grep -q 'issued webhook certificate' "$state/manager.log" || fail "no renewal in the manager log"
echo PASS
