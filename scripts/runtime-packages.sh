#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries BINARY links
# directly (its DT_NEEDED entries), one a line: what the image's runtime stage
# installs (their own dependencies come with them). Used by Dockerfile and by
# test/install/image.sh, so the list is derived in one place and never written
# down. libc6 is part of every Debian base image and is left out.
#
#   scripts/runtime-packages.sh build/cubit-manager
set -euo pipefail
bin=${1:?usage: $0 BINARY}
needed=$(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }')
[[ -n $needed ]] || { echo "$bin: no NEEDED entries (static?)" >&2; exit 1; }
for lib in $needed; do
  # The library as the dynamic loader resolves it, then its package.
  path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')
  [[ -n $path && $path != "not" ]] || { echo "$lib: not found by ldd" >&2; exit 1; }
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n1 | cut -d: -f1) ||
    pkg=$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1) || true
  [[ -n $pkg ]] || { echo "$lib ($path): no Debian package owns it" >&2; exit 1; }
  echo "$pkg"
done | grep -vx libc6 | sort -u
