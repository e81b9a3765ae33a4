#!/usr/bin/env bash
# How a Notebook is reached follows the manager's settings (--config, section notebook):
# an Istio VirtualService when Istio's API exists (the default), an Ingress when
# notebook.istio is false and an ingress class is configured, and no route otherwise,
# with the Notebook's Routed condition saying so; the notebook is Ready in each (its
# Ready message says where it is served, or that nothing routes to it). The manager is
# restarted with each setting; the route of a setting that no longer holds is deleted.
# Restores the default manager at the end.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
export KUBECONFIG=$state/kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
ns=e2e-nb-routes
work=$(mktemp -d)
restore() {
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >/dev/null 2>&1 || echo "WARN: could not restore the default manager" >&2
  rm -rf "$work"
}
trap restore EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$state/manager.log" >&2; exit 1; }

manager() { # config-file
  CUBIT_MANAGER_CONFIG=$1 CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >/dev/null 2>&1 ||
    fail "manager did not start with $1"
}
# wait_for DESCRIPTION COMMAND...: retries for 60 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail "$what"
}
routed() { # reason
  [[ $(kubectl get nb lab -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Routed")].reason}') == "$1" ]]
}
absent() { ! kubectl get "$@" >/dev/null 2>&1; }
ready_says() { # message
  [[ $(kubectl get nb lab -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}: {.status.conditions[?(@.type=="Ready")].message}') == "True: $1" ]]
}

cat >"$work/ingress.yaml" <<YAML
notebook:
  istio: false
  ingressClassName: nginx
  host: ml.example.test
  urlBase: https://ml.example.test
  ingressAnnotations:
    nginx.ingress.kubernetes.io/proxy-body-size: "0"
YAML
cat >"$work/none.yaml" <<YAML
notebook:
  istio: false
YAML

manager "$work/ingress.yaml"
kubectl create namespace "$ns" >/dev/null
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Notebook
metadata: {name: lab, namespace: $ns}
spec: {ide: vscode, volumes: {workspace: {enabled: false}}}
YAML
wait_for "no Ingress route" routed Ingress
ing=$(kubectl get ingress lab -n "$ns" -o jsonpath='{.spec.ingressClassName} {.spec.rules[0].host} {.spec.rules[0].http.paths[0].path} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.number} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.nginx\.ingress\.kubernetes\.io/proxy-body-size}')
[[ $ing == "nginx ml.example.test /notebook/$ns/lab/ Prefix lab:80 Notebook/lab 0" ]] || fail "ingress: $ing"
absent virtualservice lab -n "$ns" || fail "a VirtualService although notebook.istio is false"
url=$(kubectl get nb lab -n "$ns" -o jsonpath='{.status.url}')
[[ $url == "https://ml.example.test/notebook/$ns/lab/" ]] || fail "url $url"
wait_for "not Ready at its URL" ready_says "the IDE is ready at $url"
echo "ok: istio off + ingress class: Ingress $ing, url $url"

manager "$work/none.yaml"
wait_for "no NoRoute condition" routed NoRoute
wait_for "the old Ingress stayed" absent ingress lab -n "$ns"
msg=$(kubectl get nb lab -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Routed")].message}')
grep -q 'notebook.ingressClassName' <<<"$msg" || fail "condition message: $msg"
[[ $(kubectl get nb lab -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Routed")].status}') == False ]] ||
  fail "Routed is not False"
wait_for "Ready does not say that nothing routes to it" \
  ready_says "the IDE is ready at /notebook/$ns/lab/ (no route to it: see the condition Routed)"
echo "ok: no route: Routed False NoRoute: $msg"

manager "$repo/test/e2e/manager-config.yaml"
wait_for "no VirtualService route" routed VirtualService
wait_for "no VirtualService" kubectl get virtualservice lab -n "$ns"
gw=$(kubectl get virtualservice lab -n "$ns" -o jsonpath='{.spec.gateways[0]} {.spec.http[0].match[0].uri.prefix} {.spec.http[0].rewrite.uri}')
[[ $gw == "cubit-system/cubit-gateway /notebook/$ns/lab/ /" ]] || fail "virtualservice: $gw"
echo "ok: default (Istio present): VirtualService $gw (code-server gets the prefix stripped)"
echo PASS
