#!/usr/bin/env bash
# What can be checked of the container image (Dockerfile) without a container
# engine:
#   - the runtime stage installs exactly the packages scripts/runtime-packages.sh
#     derives from the binary, and runs as a non-root user;
#   - a Debian bookworm minbase root (what debian:bookworm-slim is) with those
#     packages and ca-certificates, assembled by mmdebstrap, resolves every
#     shared library of the binary, and the binary starts there (--help) as uid
#     65532.
# Not checked: the build stage itself (it runs scripts/deps.sh and cmake, as CI
# does), the image's layers and metadata. The root is cached by package list
# under ~/.cache/cubit/image-root. Needs root (chroot) and Debian's package
# mirror; exits 77 (skipped) without root.
#
#   test/install/image.sh build/cubit-manager
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${1:-$repo/build/cubit-manager}
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
finish() { echo "$passed passed, $failed failed"; ((failed == 0)); }

[[ -x $bin ]] || { echo "no binary at $bin"; exit 1; }
pkgs=$("$repo/scripts/runtime-packages.sh" "$bin")
echo "runtime packages: $(tr '\n' ' ' <<<"$pkgs")"

# ---- the Dockerfile uses the derived list and a non-root user
df=$repo/Dockerfile
if grep -q 'scripts/runtime-packages.sh /build/cubit-manager > /build/runtime-packages' "$df" &&
  grep -q '\$(cat /tmp/runtime-packages)' "$df"; then
  ok "the runtime stage installs the packages derived from the binary"
else
  nok "Dockerfile no longer installs the output of scripts/runtime-packages.sh"
fi
for p in $pkgs; do
  if grep -qw -- "$p" "$df"; then nok "Dockerfile names $p by hand: the list must stay derived"; fi
done
user=$(awk '$1 == "USER" { u = $2 } END { print u }' "$df")
if [[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]]; then ok "the image runs as $user"; else nok "the image runs as root"; fi
from=$(awk '$1 == "FROM" { f = $2 } END { print f }' "$df")
[[ $from == debian:bookworm-slim ]] && ok "runtime stage FROM $from" || nok "runtime stage FROM $from, want debian:bookworm-slim"

# ---- the minimal root
if [[ $(id -u) != 0 ]]; then
  echo "not root: cannot chroot; the minimal-root check is skipped"
  finish
  exit 77
fi
command -v mmdebstrap >/dev/null || { nok "mmdebstrap missing (scripts/deps.sh installs it)"; finish; exit 1; }
include=$(printf '%s,' ca-certificates $pkgs)
cache=${CUBIT_CACHE_DIR:-$HOME/.cache/cubit}/image-root
key=$(printf 'bookworm minbase %s' "$include" | sha256sum | cut -c1-16)
tar=$cache/root-$key.tar
mkdir -p "$cache"
if [[ ! -s $tar ]]; then
  echo "assembling a bookworm minbase root with $include (mmdebstrap)"
  if ! mmdebstrap --quiet --variant=minbase --include="${include%,}" bookworm "$cache/partial-$key.tar" >"$cache/mmdebstrap.log" 2>&1; then
    tail -20 "$cache/mmdebstrap.log"
    nok "mmdebstrap could not assemble the root"
    finish
    exit 1
  fi
  mv "$cache/partial-$key.tar" "$tar"
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
tar -C "$root" -xf "$tar"
install -m 0755 "$bin" "$root/usr/local/bin/cubit-manager"

for p in $pkgs; do
  if chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    ok "package $p is in the root"
  else
    nok "package $p is not in the root"
  fi
done
if out=$(chroot "$root" ldd /usr/local/bin/cubit-manager 2>&1) && ! grep -q 'not found' <<<"$out"; then
  ok "every shared library resolves in the root ($(grep -c '=>' <<<"$out") libraries)"
else
  nok "libraries missing in the root:"
  grep 'not found' <<<"$out" | sed 's/^/      /'
fi
if out=$(chroot --userspec=65532:65532 "$root" /usr/local/bin/cubit-manager --help 2>&1) &&
  grep -q '^Usage: cubit-manager' <<<"$out"; then
  ok "cubit-manager --help runs in the root as uid 65532"
else
  nok "cubit-manager does not start in the root: $out"
fi
# Without one library the binary must not start: proves the check looks.
lib=$root/usr/lib/x86_64-linux-gnu/libjansson.so.4
if [[ -e $lib || -L $lib ]]; then
  rm -f "$lib"
  if chroot --userspec=65532:65532 "$root" /usr/local/bin/cubit-manager --help >/dev/null 2>&1; then
    nok "the binary started without libjansson: the root check proves nothing"
  else
    ok "without one of the libraries the binary does not start (the check has teeth)"
  fi
else
  nok "libjansson.so.4 not where expected in the root"
fi
finish
