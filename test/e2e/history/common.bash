# Shared by the history's end-to-end scripts and kubectl-cubit's (sourced; not a test
# itself: ctest registers the *.sh files of this folder). The caller defines repo,
# kubectl and nok.

# manager_up LOG [FLAGS...]: restarts the harness's manager with extra flags
# (CUBIT_MANAGER_CONFIG and CUBIT_SKIP_SAMPLES pass through); on failure prints
# LOG, counts a failed check and exits.
manager_up() {
  local log=$1
  shift
  CUBIT_MANAGER_ARGS="$*" "$repo/test/e2e/cubit-up.sh" >"$log" 2>&1 || { cat "$log"; nok "cubit-up.sh failed"; exit 1; }
}

# drop_finalizers: removes cubit.dev/history from every run object (a manager
# without history never will: see docs/history.md, "Turning history off").
drop_finalizers() {
  local kind
  for kind in trainingjobs pipelineruns notebooks inferenceservices; do
    kubectl get "$kind" -A -o json 2>/dev/null |
      jq -r '.items[] | select((.metadata.finalizers // []) | index("cubit.dev/history")) |
             "\(.metadata.namespace) \(.metadata.name) \((.metadata.finalizers | index("cubit.dev/history")))"' |
      while read -r ns name i; do
        kubectl -n "$ns" patch "$kind" "$name" --type=json \
          -p "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/$i\",\"value\":\"cubit.dev/history\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/$i\"}]" >/dev/null
      done
  done
}

# reader_project PROJECT NAMESPACE: makes the Project with one namespace and the
# ServiceAccount NAMESPACE:reader as a member (view), waits until it is Ready,
# and prints a token of that member (valid 2 h). Fails when the Project is not
# Ready within 120 s.
reader_project() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: $1}
spec:
  namespaces: [$2]
  deletionPolicy: Delete
  members:
    - {kind: ServiceAccount, name: "$2:reader", role: view}
YAML
  kubectl wait --for=condition=Ready "project/$1" --timeout=120s >/dev/null || return 1
  kubectl -n "$2" create serviceaccount reader >/dev/null 2>&1
  kubectl -n "$2" create token reader --duration=2h
}
