#!/usr/bin/env bash
# Admission reviews per second and latency percentiles over TLS keep-alive, at 1 and
# 64 connections, for the quota webhook (a pod judged against a project holding N
# pods) and the pod-mutation webhook, with wrk (Debian's package, installed here).
#
#   bench/admission.sh [seconds] [pods-in-project]      (defaults: 10, 200)
# Prints one line per run; never asserts anything.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-10}
pods=${2:-200}
if ! command -v wrk >/dev/null; then
  sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq wrk >/dev/null
fi
cmake -S "$repo" -B "$repo/build" -G Ninja >/dev/null
ninja -C "$repo/build" bench_admission >/dev/null
work=$(mktemp -d)
"$repo/build/bench/bench_admission" "$pods" >"$work/port" 2>"$work/log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do grep -q port "$work/port" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/port/ {print $2}' "$work/port")

review='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"bench","name":"new","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"new","namespace":"bench","annotations":{"cubit.dev/gpu":"0.5"}},"spec":{"containers":[{"name":"main","image":"x","resources":{"limits":{"cpu":"2","memory":"4Gi"}}}]}}}}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$review]]
done = function(summary, latency, requests)
  io.write(string.format("FIGURES %.0f %.3f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
printf '%s on %s, %s cores, %s pods in the project, %ss per run\n' "admission bench" "$(uname -m)" "$(nproc)" "$pods" "$secs"
printf '%-16s %6s %12s %10s %10s %10s %7s\n' webhook conns "reviews/s" "p50 ms" "p99 ms" "max ms" errors
for path in validate-quota mutate-pods; do
  for conns in 1 64; do
    threads=$((conns < 2 ? 1 : 2))
    out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "https://127.0.0.1:$port/$path" 2>&1)
    read -r rps p50 p99 max errors <<<"$(grep FIGURES <<<"$out" | cut -d' ' -f2-)"
    printf '%-16s %6d %12s %10s %10s %10s %7s\n' "$path" "$conns" "$rps" "$p50" "$p99" "$max" "$errors"
  done
done
