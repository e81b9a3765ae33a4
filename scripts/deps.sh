#!/usr/bin/env bash
# Installs the Debian packages Cubit builds and tests with. Safe to re-run:
# it does nothing when everything is present. Go (for the test cluster) must
# already be on PATH; its modules come from the Go module proxy at build time.
set -euo pipefail

packages=(
  clang libclang-rt-14-dev # fuzz/: clang, and its libFuzzer and sanitizer runtimes
  build-essential cmake ninja-build pkg-config git curl ca-certificates openssl
  libcurl4-openssl-dev libyaml-dev libjansson-dev libssl-dev libuv1-dev libsqlite3-dev
  libhttp-parser-dev uthash-dev check valgrind tzdata
  jq yq mmdebstrap binutils
  clang gcovr
  # The Argo CD health check's tests (test/gitops): Lua 5.1 as Argo CD's gopher-lua, 5.4.
  lua5.1 lua5.4 lua-dkjson
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "[deps] installing: ${missing[*]}" >&2
sudo=()
[[ $(id -u) == 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
