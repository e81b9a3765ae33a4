#!/usr/bin/env bash
# Build the controller-runtime reference operator of bench/scale.sh --operator go
# into a cache directory named by the hash of its sources, and print the binary's
# path on stdout. An unchanged tree finds its binary without starting Go.
#
#   bench/go-operator/build.sh            build if missing, print the path
#   bench/go-operator/build.sh --print    print the path; exit 1 if not built
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${CUBIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cubit}/go-operator

mode=build
case "${1:-}" in
  --print) mode=print ;;
  "") ;;
  *) echo "usage: $0 [--print]" >&2; exit 2 ;;
esac

# Bump when the way the binary is built changes without any source changing.
RECIPE=1
stamp=$({
  printf 'recipe=%s go=%s %s %s\n' "$RECIPE" "$(go version | awk '{print $3}')" "$(uname -s)" "$(uname -m)"
  cd "$dir" && find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) | LC_ALL=C sort | xargs sha256sum
  grep -v '^[[:space:]]*#' "$dir/build.sh" | sha256sum
} | sha256sum | cut -c1-12)
bin=$cache/$stamp/go-operator

if [[ -x $bin ]]; then echo "$bin"; exit 0; fi
[[ $mode == print ]] && { echo "bench/go-operator/build.sh: not built yet: $bin" >&2; exit 1; }

mkdir -p "$cache/$stamp"
exec 9>"$cache/$stamp/.lock"
flock 9
[[ -x $bin ]] && { echo "$bin"; exit 0; }
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -buildvcs=false"
echo "bench/go-operator/build.sh: building into $cache/$stamp" >&2
tmp=$(mktemp "$cache/$stamp/.build.XXXXXX")
(cd "$dir" && nice -n "${CUBIT_BUILD_NICE:-10}" go build -ldflags '-s -w' -o "$tmp" .) ||
  { rm -f "$tmp"; echo "bench/go-operator/build.sh: go build failed" >&2; exit 1; }
mv -f "$tmp" "$bin"
# Keep this build and the two newest others.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -path "$cache/$stamp" -printf '%T@ %p\n' | sort -rn |
  tail -n +3 | cut -d' ' -f2- | xargs -r rm -rf
echo "$bin"
