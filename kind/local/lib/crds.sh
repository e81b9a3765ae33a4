# shellcheck shell=bash disable=SC2034
# The upstream CRDs Cubit writes into, found in the Go module cache at the versions
# pinned by tools/crds/go.mod, with kind/local/crds/ as the fallback. KubeRay's RayJob
# and RayCluster and spark-operator's SparkApplication are always the copies in kind/local/crds/
# (pinned by tag in its README): editing tools/crds/go.mod would change the stamp of
# every kind/local build. Sourced by up.sh.

KL_CRD_NAMES=(
  logs.kwok.x-k8s.io clusterlogs.kwok.x-k8s.io portforwards.kwok.x-k8s.io clusterportforwards.kwok.x-k8s.io
  tfjobs.kubeflow.org pytorchjobs.kubeflow.org mpijobs.kubeflow.org xgboostjobs.kubeflow.org
  paddlejobs.kubeflow.org jaxjobs.kubeflow.org
  rayjobs.ray.io rayclusters.ray.io sparkapplications.sparkoperator.k8s.io
  jobs.batch.volcano.sh podgroups.scheduling.volcano.sh queues.scheduling.volcano.sh
  virtualservices.networking.istio.io destinationrules.networking.istio.io gateways.networking.istio.io
)

# crds_module_dir MODULE [TOOL]: the module's directory in the module cache at the
# version pinned by tools/TOOL/go.mod (default crds), downloading it (verified against
# that go.sum) when missing.
crds_module_dir() {
  local mod=$1 tool=${2:-crds} ver dir
  # Inside a require block, or a one-line `require MODULE VERSION`.
  ver=$(awk -v m="$mod" '$1 == "require" { $0 = substr($0, 9) }
    $1 == m && $2 ~ /^v/ { print $2; exit }' "$KL_DIR/tools/$tool/go.mod")
  [[ -n $ver ]] || return 1
  # Module paths here are lower case, so the cache path needs no escaping.
  dir=$(go env GOMODCACHE)/$mod@$ver
  if [[ ! -d $dir ]]; then
    (cd "$KL_DIR/tools/$tool" && GOTOOLCHAIN=local go mod download "$mod") >&2 || return 1
  fi
  [[ -d $dir ]] && printf '%s\n' "$dir"
}

# crds_istio_extract FILE NAME...: print the documents of the multi-document FILE whose
# metadata.name is one of NAME.
crds_istio_extract() {
  local file=$1
  shift
  awk -v want="$*" '
    BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) names["  name: " w[i]] = 1 }
    function flush() { if (keep) printf "---\n%s", doc; doc = ""; keep = 0 }
    /^---$/ { flush(); next }
    { doc = doc $0 "\n"; if ($0 in names) keep = 1 }
    END { flush() }' "$file"
}

# The CRDs copied from kind/local/crds/ whatever the module cache holds.
KL_CRD_COPIES=(ray.io_rayjobs.yaml ray.io_rayclusters.yaml sparkoperator.k8s.io_sparkapplications.yaml)

# crds_collect DIR: write the CRD files to DIR and print where they came from.
crds_collect() {
  local out=$1 to volcano istio kwok f
  rm -rf "$out"
  mkdir -p "$out"
  if to=$(crds_module_dir github.com/kubeflow/training-operator) &&
    kwok=$(crds_module_dir sigs.k8s.io/kwok kwok) &&
    volcano=$(crds_module_dir volcano.sh/volcano) &&
    istio=$(crds_module_dir istio.io/api); then
    for f in tfjobs pytorchjobs mpijobs xgboostjobs paddlejobs jaxjobs; do
      cp "$to/manifests/base/crds/kubeflow.org_$f.yaml" "$out/"
    done
    for f in batch.volcano.sh_jobs scheduling.volcano.sh_podgroups scheduling.volcano.sh_queues; do
      cp "$volcano/config/crd/volcano/bases/$f.yaml" "$out/"
    done
    crds_istio_extract "$istio/kubernetes/customresourcedefinitions.gen.yaml" \
      virtualservices.networking.istio.io destinationrules.networking.istio.io \
      gateways.networking.istio.io >"$out/networking.istio.io.yaml"
    # kwok's Logs, ClusterLogs, PortForward and ClusterPortForward (kwok runs with
    # --enable-crds naming them): how a test gives a fake pod its container output,
    # and where a port-forward to a fake pod's port goes (kind/local/pod-port.sh).
    for f in logs clusterlogs portforwards clusterportforwards; do
      cp "$kwok/kustomize/crd/bases/kwok.x-k8s.io_$f.yaml" "$out/"
    done
    for f in "${KL_CRD_COPIES[@]}"; do cp "$KL_DIR/crds/$f" "$out/"; done
    chmod -R u+w "$out"
    printf 'Go modules: %s %s %s %s; copies: %s\n' "${to##*/}" "${volcano##*/}" "${istio##*/}" "${kwok##*/}" "${KL_CRD_COPIES[*]}"
  else
    kl_log "upstream modules not available; using the copies in kind/local/crds/"
    cp "$KL_DIR"/crds/*.yaml "$out/"
    printf 'fallback copies in kind/local/crds/\n'
  fi
}
