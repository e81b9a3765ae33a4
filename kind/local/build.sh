#!/usr/bin/env bash
# Build the programs of the local test control plane from the Go module proxy into a
# version-stamped cache directory, and print that directory's bin/ on stdout.
#
#   kind/local/build.sh            build whatever is missing, print the bin dir
#   kind/local/build.sh --print    print the bin dir; exit 1 if anything is missing
#   kind/local/build.sh --force    rebuild everything for the current stamp
#
# The stamp names the pinned versions and hashes every go.mod, go.sum and .go file
# under tools/ plus this script's code, so editing a pin or a build flag gives a new directory
# and an unchanged tree finds its binaries without starting the Go toolchain.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mode=build
case "${1:-}" in
  --print) mode=print ;;
  --force) mode=force ;;
  "") ;;
  *) kl_die "usage: $0 [--print|--force]" ;;
esac

TOOLS=$KL_DIR/tools

# modver DIR MODULE: the version of MODULE required by tools/DIR/go.mod.
modver() {
  awk -v m="$2" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' \
    "$TOOLS/$1/go.mod"
}

K8S_VERSION=$(modver k8s k8s.io/kubernetes)
ETCD_VERSION=$(modver k8s go.etcd.io/etcd/server/v3)
KWOK_VERSION=$(modver kwok sigs.k8s.io/kwok)
HELM_VERSION=$(modver helm helm.sh/helm/v3)
CHAINSAW_VERSION=$(modver chainsaw github.com/kyverno/chainsaw)
TRAINING_OPERATOR_VERSION=$(modver training-operator github.com/kubeflow/training-operator)
GO_VERSION=$(go version | awk '{ print $3 }')

# Bump when the way the programs are built changes without any go.mod changing.
RECIPE=3

inputs_hash() {
  {
    printf 'recipe=%s go=%s goos=%s goarch=%s\n' "$RECIPE" "$GO_VERSION" \
      "$(uname -s)" "$(uname -m)"
    cd "$TOOLS" && find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) \
      | LC_ALL=C sort | xargs sha256sum
    # This script's code, not its comments.
    grep -v '^[[:space:]]*#' "$KL_DIR/build.sh" | sha256sum | awk '{ print $1 }'
  } | sha256sum | cut -c1-12
}

STAMP="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}_chainsaw-${CHAINSAW_VERSION}_${GO_VERSION}_$(inputs_hash)"
OUT=$CUBIT_CACHE_DIR/kind-local/$STAMP
BIN=$OUT/bin

REQUIRED=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm chainsaw kstatus)

# The training operator is optional: when it fails to build the failure is recorded
# once (bin/training-operator.failed holds the log) and not retried on every start.
complete() {
  local b
  for b in "${REQUIRED[@]}"; do [[ -x $BIN/$b ]] || return 1; done
  [[ -x $BIN/training-operator || -f $BIN/training-operator.failed ]]
}

if [[ $mode != force ]] && complete; then
  printf '%s\n' "$BIN"
  exit 0
fi
[[ $mode == print ]] && { kl_log "not built yet: $BIN"; exit 1; }

mkdir -p "$BIN"
# One builder per stamp at a time (ctest and a developer may start up.sh together).
exec 9>"$OUT/.lock"
flock 9
[[ $mode != force ]] && complete && { printf '%s\n' "$BIN"; exit 0; }

export CGO_ENABLED=0 GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath"
NICE=(nice -n "${CUBIT_BUILD_NICE:-10}")

kl_log "building into $OUT ($(nproc) cores, GOMODCACHE=$(go env GOMODCACHE), GOCACHE=$(go env GOCACHE))"
total_start=$(kl_now_ms)

# gobuild DIR LDFLAGS PKG...: build PKG... of tools/DIR into a scratch dir, then move
# every binary into bin/ only once the whole group has linked.
gobuild() {
  local dir=$1 ldflags=$2; shift 2
  local tmp start
  tmp=$(mktemp -d "$OUT/.build.XXXXXX")
  start=$(kl_now_ms)
  if ! (cd "$TOOLS/$dir" && "${NICE[@]}" go build -ldflags "$ldflags" -o "$tmp/" "$@") \
      >"$tmp/build.log" 2>&1; then
    kl_log "build of tools/$dir failed after $(kl_elapsed "$start"):"
    tail -n 40 "$tmp/build.log" >&2
    cp "$tmp/build.log" "$OUT/$dir.build.log"
    rm -rf "$tmp"
    return 1
  fi
  rm -f "$tmp/build.log"
  local f
  for f in "$tmp"/*; do mv -f "$f" "$BIN/"; done
  rmdir "$tmp"
  kl_log "built tools/$dir ($*) in $(kl_elapsed "$start")"
}

# The version stamps upstream's release build (hack/lib/version.sh) sets, so that
# `kubectl version` and /version report the pinned release. The build date is the
# release's publication time on the module proxy, which keeps the binaries reproducible.
k8s_release_time() {
  (cd "$TOOLS/k8s" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION") \
    | sed -n 's/^[[:space:]]*"Time": "\(.*\)",*$/\1/p' | head -n1
}
k8s_ldflags() {
  local v=${K8S_VERSION#v} date pkg flags="-s -w"
  date=$(k8s_release_time)
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${date:-1970-01-01T00:00:00Z}"
  done
  printf '%s' "$flags"
}

missing() { local b; for b in "$@"; do [[ $mode == force || ! -x $BIN/$b ]] && return 0; done; return 1; }

if missing etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  gobuild k8s "$(k8s_ldflags)" ./cmd/etcd k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
fi
if missing kwok; then
  gobuild kwok "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    sigs.k8s.io/kwok/cmd/kwok
fi
if missing helm; then
  gobuild helm "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    helm.sh/helm/v3/cmd/helm
fi
if missing chainsaw; then
  gobuild chainsaw "-s -w -X github.com/kyverno/chainsaw/pkg/version.BuildVersion=$CHAINSAW_VERSION" \
    github.com/kyverno/chainsaw
fi
# kstatus: the GitOps tests' judge (what Flux's status library makes of an object).
if missing kstatus; then
  gobuild kstatus "-s -w" ./cmd/kstatus
fi
if [[ $mode == force ]] || [[ ! -x $BIN/training-operator && ! -f $BIN/training-operator.failed ]]; then
  rm -f "$BIN/training-operator.failed"
  if ! gobuild training-operator "-s -w" ./cmd/training-operator; then
    mv -f "$OUT/training-operator.build.log" "$BIN/training-operator.failed"
    kl_log "training operator $TRAINING_OPERATOR_VERSION did not build; see $BIN/training-operator.failed"
  fi
fi

complete || kl_die "build incomplete in $BIN"
kl_log "all programs built in $(kl_elapsed "$total_start"); $(du -sh "$BIN" | cut -f1) in $BIN"

# Each stamp takes ~700 MB: keep this one and the two most recently built others
# (e.g. another branch's pins), drop the rest.
find "$CUBIT_CACHE_DIR/kind-local" -mindepth 1 -maxdepth 1 -type d -name 'k8s-*' \
  ! -path "$OUT" -printf '%T@ %p\n' | sort -rn | tail -n +3 | cut -d' ' -f2- |
  while read -r old; do
    kl_log "removing old build $old"
    rm -rf "$old"
  done
printf '%s\n' "$BIN"
