#!/usr/bin/env bash
# Packages kubectl-cubit as a Krew plugin (https://krew.sigs.k8s.io): the archive of
# the binary built here and the plugin manifest `cubit.yaml` that points at it with its
# sha256, ready for a release page and a custom index (or krew-index). Run it at
# release time, once per platform built; each run writes that platform's archive and
# a manifest with that platform (merge the platforms: entries of several runs).
#
#   deploy/krew/package.sh --url-base https://github.com/OWNER/cubit/releases/download/v0.1.0 \
#       [--build build] [--out dist]
#   kubectl krew install --manifest=dist/cubit.yaml --archive=dist/kubectl-cubit_v0.1.0_linux_amd64.tar.gz
#
# The version is the project's (CMakeLists.txt); os/arch are this machine's.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$repo/build out=$repo/dist url_base=""
while (($#)); do
  case $1 in
    --build) build=$2; shift 2;;
    --out) out=$2; shift 2;;
    --url-base) url_base=${2%/}; shift 2;;
    *) echo "usage: $0 --url-base URL [--build DIR] [--out DIR]" >&2; exit 2;;
  esac
done
[[ -n $url_base ]] || { echo "$0: --url-base is required (where the archive will be downloaded from)" >&2; exit 2; }
bin=$build/kubectl-cubit
[[ -x $bin ]] || { echo "$0: $bin is not built (ninja -C $build kubectl-cubit)" >&2; exit 2; }
version=v$(sed -n 's/^project(cubit VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case $(uname -m) in
  x86_64) arch=amd64;;
  aarch64|arm64) arch=arm64;;
  *) arch=$(uname -m);;
esac
archive=kubectl-cubit_${version}_${os}_${arch}.tar.gz
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/kubectl-cubit"
strip "$stage/kubectl-cubit" 2>/dev/null || true
cp "$repo/docs/cli.md" "$stage/README.md"
# Reproducible: fixed owner, order and times, so the sha256 depends on the binary only.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage" -cf - kubectl-cubit README.md |
  gzip -n >"$out/$archive"
sha=$(sha256sum "$out/$archive" | cut -d' ' -f1)
cat >"$out/cubit.yaml" <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: cubit
spec:
  version: $version
  homepage: https://cubit.dev
  shortDescription: Cubit's ML runs, pipelines, notebooks and GPU usage
  description: |
    kubectl cubit shows and drives the objects of Cubit, the Kubernetes operator for
    machine-learning workloads: a PipelineRun as a tree of its tasks, watched live
    (get, tree, watch), runs submitted with parameters, stopped, resumed, retried from
    a task and backfilled over a past window (submit, stop, resume, retry, backfill),
    the logs of a task, a training job's replica, a notebook or an experiment's trial
    found through Cubit's labels (logs), notebooks renewed and opened (renew, open),
    and GPU-hours and run history from Cubit's history API (usage, history).
  caveats: |
    Cubit must be installed in the cluster (its CRDs and manager). usage and history
    read the history API with your own token: enable history in the Helm chart.
  platforms:
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $url_base/$archive
    sha256: $sha
    bin: kubectl-cubit
YAML
echo "$out/$archive"
echo "$out/cubit.yaml"
