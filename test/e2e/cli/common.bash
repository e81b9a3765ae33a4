# Shared by kubectl-cubit's end-to-end scripts that stop at the first failure (sourced;
# not a test itself: ctest registers the *.sh files of this folder). Sets repo, state,
# bin, build and KUBECONFIG, defines kubectl, builds kubectl-cubit, makes a scratch
# folder $work, and gives fail/has/expect_code. The caller sets ns first and its own
# cleanup trap (which removes $work).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
bin=$("$repo/kind/local/build.sh" --print)
build=${CUBIT_BUILD_DIR:-$repo/build}
export KUBECONFIG=$state/kubeconfig
kubectl() { "$bin/kubectl" "$@"; }
ninja -C "$build" kubectl-cubit >/dev/null
cubit() { "$build/kubectl-cubit" -n "$ns" "$@"; }
work=$(mktemp -d)

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_code() { # want got what
  [[ $2 == "$1" ]] || fail "$3: exit code $2, want $1"
}
has() { # file text
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$(basename "$1") lacks: $2"; }
}

# cli_project LABEL: the Project $ns with its one namespace (deleted with it),
# labelled cubit.dev/e2e=LABEL, Ready within 60 s.
cli_project() {
  cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Project
metadata: {name: $ns, labels: {cubit.dev/e2e: $1}}
spec: {namespaces: [$ns], deletionPolicy: Delete}
YAML
  kubectl wait --for=condition=Ready "project/$ns" --timeout=60s >/dev/null || fail "project $ns not ready"
}
