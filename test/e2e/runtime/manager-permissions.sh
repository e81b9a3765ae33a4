#!/usr/bin/env bash
# The manager's least privilege, against the harness's manager (test/e2e/cubit-up.sh):
#   1. what its ServiceAccount may and may not do, asked of the API server
#      (kubectl auth can-i --as): no update of any ClusterRole, no Secret outside its own
#      namespace and none listed (it gets its certificates and the Clusters' kubeconfig
#      Secrets by name), no update verb where it patches, no exec (pod logs it reads: an
#      Experiment's metrics), no impersonation; and the grants only the guard can narrow;
#   2. what RBAC cannot say, refused by the manager's write guard: a TrainingJob in
#      kube-system makes no Job there (the manager logs the refusal), or is refused
#      at admission;
#   3. deletionPolicy Delete deletes the namespace the Project created and releases
#      the one it adopted.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")
sa=system:serviceaccount:cubit-system:cubit-manager
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
cleanup() {
  "${kubectl[@]}" -n kube-system delete trainingjob e2e-perm-system --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" delete project e2e-perm --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "${kubectl[@]}" delete namespace e2e-perm-adopted e2e-perm-made --ignore-not-found --wait=false >/dev/null 2>&1 || true
  echo "$passed passed, $failed failed"
}
trap cleanup EXIT
[[ -f $state/manager.pid ]] && kill -0 "$(cat "$state/manager.pid")" 2>/dev/null ||
  { echo "no harness manager (test/e2e/cubit-up.sh)"; exit 2; }

# ---- 1. RBAC
can() { "${kubectl[@]}" auth can-i --as "$sa" "$@" 2>/dev/null || true; }
while IFS='|' read -r want what; do
  [[ -z $want ]] && continue
  read -r -a args <<<"$what"
  got=$(can "${args[@]}")
  if [[ $got == "$want" ]]; then ok "can-i $what: $got"; else nok "can-i $what: $got, want $want"; fi
done <<'TABLE'
no|update clusterroles/cluster-admin
no|delete clusterroles/cubit-project-admin
no|escalate clusterroles
no|bind clusterroles/cluster-admin
no|get secrets -n kube-system
no|list secrets -n cubit-system
no|update namespaces/default
no|update deployments -n default
no|update statefulsets -n default
no|delete statefulsets -n default
no|delete persistentvolumeclaims -n default
no|create pods --subresource=exec -n default
no|delete leases -n cubit-system
no|impersonate users
no|get configmaps -n default
no|get nodes
yes|get secrets/cubit-webhook-certs -n cubit-system
yes|get secrets/member-kubeconfig -n cubit-system
yes|get pods --subresource=log -n default
yes|update leases -n cubit-system
yes|create tokenreviews.authentication.k8s.io
yes|create subjectaccessreviews.authorization.k8s.io
yes|patch pods -n default
yes|patch deployments -n kube-system
yes|delete namespaces/kube-system
yes|patch clusterroles/cluster-admin
TABLE
# The last four are why the guard exists: a ClusterRole grants in every namespace,
# and create/patch cannot be limited to names made at run time (cubit-project:*).

# ---- 2. the guard
cat <<'YAML' | "${kubectl[@]}" apply -f - >"$state/perm-apply.log" 2>&1 || true
apiVersion: cubit.dev/v1alpha1
kind: TrainingJob
metadata: {name: e2e-perm-system, namespace: kube-system}
spec:
  framework: batch
  image: registry.example.com/ml/train:1
  command: [python, train.py]
  roles: {main: {replicas: 1, resources: {cpu: "1", memory: 1Gi}}}
YAML
if "${kubectl[@]}" -n kube-system get trainingjob e2e-perm-system >/dev/null 2>&1; then
  refused=0
  for _ in $(seq 1 60); do
    grep -q 'request refused by the write guard.*namespaces/kube-system/jobs' "$state/manager.log" && { refused=1; break; }
    sleep 0.5
  done
  ((refused)) && ok "a TrainingJob in kube-system: the guard refused its Job" || nok "no guard refusal in the manager's log"
  sleep 2
  if "${kubectl[@]}" -n kube-system get jobs -o name | grep -q e2e-perm-system; then
    nok "a Job was made in kube-system"
  else
    ok "no Job in kube-system"
  fi
else
  ok "a TrainingJob in kube-system is refused at admission: $(tail -1 "$state/perm-apply.log")"
fi

# ---- 3. deletion takes only what the project made
"${kubectl[@]}" create namespace e2e-perm-adopted >/dev/null
# a cluster admin gives the namespace to the project
"${kubectl[@]}" label namespace e2e-perm-adopted cubit.dev/project=e2e-perm >/dev/null
cat <<'YAML' | "${kubectl[@]}" apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: e2e-perm}
spec:
  namespaces: [e2e-perm-made, e2e-perm-adopted]
  deletionPolicy: Delete
YAML
if "${kubectl[@]}" wait --for=condition=Ready project/e2e-perm --timeout=60s >/dev/null; then
  ok "the project holds a namespace it made and one it adopted"
else
  nok "the project is not Ready"
fi
made=$("${kubectl[@]}" get namespace e2e-perm-made -o jsonpath='{.metadata.annotations.cubit\.dev/created-by-project}')
adopted=$("${kubectl[@]}" get namespace e2e-perm-adopted -o jsonpath='{.metadata.annotations.cubit\.dev/created-by-project}')
[[ $made == e2e-perm && -z $adopted ]] && ok "only the namespace it made is annotated created-by-project" ||
  nok "created-by-project: made=[$made] adopted=[$adopted]"
"${kubectl[@]}" delete project e2e-perm --wait=true --timeout=60s >/dev/null && ok "the project is deleted" || nok "the project is not deleted"
phase=$("${kubectl[@]}" get namespace e2e-perm-made -o jsonpath='{.status.phase}' 2>/dev/null || true)
[[ -z $phase || $phase == Terminating ]] && ok "the namespace it made is deleted (${phase:-gone})" || nok "the namespace it made is $phase"
phase=$("${kubectl[@]}" get namespace e2e-perm-adopted -o jsonpath='{.status.phase}' 2>/dev/null || true)
label=$("${kubectl[@]}" get namespace e2e-perm-adopted -o jsonpath='{.metadata.labels.cubit\.dev/project}' 2>/dev/null || true)
[[ $phase == Active && -z $label ]] && ok "the namespace it adopted is released, not deleted" ||
  nok "the adopted namespace: phase [$phase] label [$label]"
((failed == 0))
