# Shared by the history's end-to-end scripts (sourced; not a test itself: ctest
# registers the *.sh files of this folder).

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
