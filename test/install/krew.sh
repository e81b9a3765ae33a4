#!/usr/bin/env bash
# deploy/krew/package.sh: the archive holds an executable kubectl-cubit that runs, the
# manifest is a Krew Plugin whose platform's sha256 is the archive's and whose uri ends
# in the archive's name, and packaging twice gives the same bytes (reproducible).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$repo/build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mapfile -t made < <("$repo/deploy/krew/package.sh" --build "$build" --out "$out/a" --url-base https://example.com/r/v0)
((${#made[@]} == 2)) || fail "deploy/krew/package.sh made no archive and manifest (see its message above)"
archive=${made[0]} manifest=${made[1]}
[[ $(yq -r .kind "$manifest") == Plugin ]] || fail "not a Plugin"
[[ $(yq -r .apiVersion "$manifest") == krew.googlecontainertools.github.com/v1alpha2 ]] || fail "apiVersion"
[[ $(yq -r .metadata.name "$manifest") == cubit ]] || fail "the plugin is not named cubit (kubectl cubit)"
[[ $(yq -r '.spec.platforms[0].sha256' "$manifest") == $(sha256sum "$archive" | cut -d' ' -f1) ]] || fail "sha256"
[[ $(yq -r '.spec.platforms[0].uri' "$manifest") == "https://example.com/r/v0/$(basename "$archive")" ]] || fail "uri"
[[ $(yq -r '.spec.platforms[0].bin' "$manifest") == kubectl-cubit ]] || fail "bin"
[[ $(yq -r .spec.version "$manifest") =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version is not vX.Y.Z"
mkdir "$out/x"
tar -xzf "$archive" -C "$out/x"
[[ -x $out/x/kubectl-cubit ]] || fail "no executable kubectl-cubit in the archive"
"$out/x/kubectl-cubit" --help | grep -q '^Usage: kubectl cubit' || fail "the packaged binary does not run"
"$repo/deploy/krew/package.sh" --build "$build" --out "$out/b" --url-base https://example.com/r/v0 >/dev/null
cmp -s "$archive" "$out/b/$(basename "$archive")" || fail "packaging twice gave different archives"
echo "PASS"
