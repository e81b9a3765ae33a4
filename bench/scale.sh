#!/usr/bin/env bash
# The manager at scale, on the local control plane (kind/local), against the
# manager test/e2e/cubit-up.sh started (its pid file and command line are reused):
#
#   bench/scale.sh [N] [--operator cubit|go] [--no-ceiling | --ceiling-only] [--json out.json]
#                  [--baseline old.json] [--keep]                            (N default 500)
#
# --operator go measures bench/go-operator (a controller-runtime operator doing the
# Notebook job) instead: Cubit's manager is stopped (its command line kept), its
# webhook configurations removed (nothing would answer them), the Go operator runs
# under the manager's identity and ports; at exit the webhooks and Cubit's manager
# are put back. bench/compare.sh runs both alternately and prints them side by side.
#
# 0. ceiling: the same children (workspace claim, Service, StatefulSet and, when
#            Istio's API is served, VirtualService) written by 4 kubectl processes
#            with no operator involved (the API server's write rate: the ceiling;
#            --no-ceiling leaves it out, --ceiling-only measures nothing else:
#            bench/compare.sh measures it apart);
# 1. idle:   restarts the manager on what the cluster holds now and reads its RSS
#            once synced (after cubit-up.sh with CUBIT_SKIP_SAMPLES=1 on a fresh
#            cluster, that is the idle figure: CRDs installed, no objects);
# 2. create: N Notebooks (their StatefulSet + Service + pod each) in a namespace of
#            their own, written by 4 kubectl processes; time until every child exists;
# 3. steady: RSS once the Notebooks' children exist and the manager has settled,
#            CPU seconds and API requests the manager spent on the N Notebooks,
#            anonymous memory per Notebook, and per resource the objects per
#            Notebook and their JSON size (what the cache keeps, as text);
# 4. cold:   restarts the manager with everything present: peak RSS (VmHWM) while it
#            lists and reconciles, RSS once settled, time until it is ready;
# then deletes the namespace (unless --keep). Prints figures; never asserts anything.
# --baseline compares with an earlier --json output, as the C benchmarks do.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
n=500 json_out="" baseline="" keep=0 operator=cubit ceiling=1 ceiling_only=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --json) json_out=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --operator) operator=$2; shift 2 ;;
    --no-ceiling) ceiling=0; shift ;;
    --ceiling-only) ceiling_only=1; shift ;;
    [0-9]*) n=$1; shift ;;
    *) echo "bench/scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
kubectl=("$("$repo/kind/local/build.sh" --print)/kubectl" --kubeconfig "$state/kubeconfig")
health=${CUBIT_MANAGER_HEALTH_PORT:-18081}
metrics=${CUBIT_MANAGER_METRICS_PORT:-18080}
ns=scale-bench
[[ -f $state/manager.pid ]] && kill -0 "$(cat "$state/manager.pid")" 2>/dev/null ||
  { echo "bench/scale.sh: no manager running; start one with test/e2e/cubit-up.sh" >&2; exit 1; }
# The process measured: its pid file and log.
pidfile=$state/manager.pid log=$state/manager.log work=""
cleanup() {
  [[ -z $work ]] || rm -rf "$work"
  [[ $operator != go ]] || go_restore
}
trap cleanup EXIT
trap 'exit 143' TERM INT # so that a stopped run cleans up too
case $operator in
  cubit) ;;
  go) . "$repo/bench/go-operator/operator.sh" ;;
  *) echo "bench/scale.sh: --operator: want cubit or go, not \"$operator\"" >&2; exit 2 ;;
esac

calc() { awk "BEGIN {printf \"%.3f\", $*}"; }
declare -A fig unit better
figure() { fig[$1]=$2; unit[$1]=$3; better[$1]=$4; order+=("$1"); }
order=()

pid() { cat "$pidfile"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(pid)/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$(pid)/status"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$(pid)/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$(pid)/stat"; }
ready() { curl -fsS --max-time 1 "http://127.0.0.1:$health/readyz" >/dev/null 2>&1; }
requests() {
  [[ $operator == go ]] && { go_requests; return; }
  curl -fsS --max-time 5 --cacert "$state/webhook-certs/ca.crt" -H "Authorization: Bearer $(cat "$state/metrics.token")" \
    "https://127.0.0.1:$metrics/metrics" | awk '/^rest_client_requests_total/ {s += $NF} END {print s + 0}'
}
# The RSS once it stops moving: sampled each second until two readings 5 s
# apart differ by less than 1% (at most 120 s).
settle() {
  local prev now
  prev=$(rss_kb)
  for _ in $(seq 1 24); do
    sleep 5
    now=$(rss_kb)
    ((now - prev < prev / 100 && prev - now < prev / 100)) && break
    prev=$now
  done
  rss_kb
}
# Kills the manager and starts it again with the same command line and
# environment, appending to its log. Returns once /readyz answers.
restart() {
  local old cmd=() env=()
  old=$(pid)
  mapfile -d '' cmd <"/proc/$old/cmdline"
  mapfile -d '' env <"/proc/$old/environ"
  kill "$old"
  while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
  printf '\n==== %s bench/scale.sh restarting %s\n' "$(date -u +%FT%TZ)" "${cmd[0]}" >>"$log"
  env -i "${env[@]}" setsid "${cmd[@]}" </dev/null >>"$log" 2>&1 &
  echo $! >"$pidfile"
  t_restart=$(date +%s.%N)
  for _ in $(seq 1 600); do ready && return 0; sleep 0.1; done
  echo "bench/scale.sh: manager not ready 60 s after restart" >&2
  exit 1
}
# How many objects of a resource path the namespace holds, asked for one item
# and told the rest (remainingItemCount): polling once a second must not load
# the API server it measures with listing thousands of objects each time.
count() {
  "${kubectl[@]}" get --raw "$1?limit=1" 2>/dev/null |
    jq '(.items | length) + (.metadata.remainingItemCount // 0)' 2>/dev/null || echo 0
}
children() {
  local s v
  s=$(count "/apis/apps/v1/namespaces/$ns/statefulsets")
  v=$(count "/api/v1/namespaces/$ns/services")
  echo $((s < v ? s : v))
}

echo "bench/scale.sh: N=$n on $(uname -m), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" >&2
"${kubectl[@]}" delete namespace "$ns" --ignore-not-found --wait=true >/dev/null

# Print, compare, write.
report() {
  printf 'bench/scale on %s %s, %s cores, N=%s\n' "$(uname -s)" "$(uname -m)" "$(nproc)" "$n"
  figures_json='{}'
  for k in "${order[@]}"; do
    line=$(printf '  %-28s %14.2f %-6s' "$k" "${fig[$k]}" "${unit[$k]}")
    if [[ -n $baseline ]]; then
      old=$(jq -r --arg k "$k" '.figures[$k] // empty' "$baseline")
      if [[ -n $old ]]; then
        line+=$(awk -v new="${fig[$k]}" -v old="$old" -v hib="${better[$k]}" 'BEGIN {
          c = old != 0 ? (new - old) / old * 100 : 0
          b = hib ? c > 0 : c < 0
          printf "  baseline %12.2f  %+6.1f%% %s", old, c, c == 0 ? "" : b ? "(better)" : "(worse)" }')
      fi
    fi
    echo "$line"
    figures_json=$(jq --arg k "$k" --argjson v "${fig[$k]}" '.[$k] = $v' <<<"$figures_json")
  done
  if [[ -n $json_out ]]; then
    jq -n --argjson f "$figures_json" --arg m "$(uname -m), $(nproc) cores" '{benchmark: "scale", machine: $m, figures: $f}' >"$json_out"
  fi
}

# 0. ceiling: the children alone, as a plain writer creates them.
ceiling_ns=scale-ceiling
if ((ceiling)); then
  "${kubectl[@]}" delete namespace "$ceiling_ns" --ignore-not-found --wait=true >/dev/null
  "${kubectl[@]}" create namespace "$ceiling_ns" >/dev/null
  ceiling=$(mktemp -d)
  vs=0
  "${kubectl[@]}" api-resources --api-group=networking.istio.io -o name 2>/dev/null | grep -qx virtualservices.networking.istio.io && vs=1
  for w in 0 1 2 3; do
    for ((i = w; i < n; i += 4)); do
      # What Cubit and bench/go-operator make for a Jupyter notebook (less the
      # owner reference), in the order they make it.
      b="/notebook/$ceiling_ns/nb-$(printf %05d "$i")/"
      printf -- '---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: nb-%05d-workspace, namespace: %s, labels: {cubit.dev/notebook: nb-%05d, app.kubernetes.io/managed-by: cubit}}\n' "$i" "$ceiling_ns" "$i"
      printf 'spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}\n'
      printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: nb-%05d, namespace: %s, labels: {cubit.dev/notebook: nb-%05d, app.kubernetes.io/managed-by: cubit}}\n' "$i" "$ceiling_ns" "$i"
      printf 'spec: {selector: {cubit.dev/notebook: nb-%05d}, ports: [{name: http-notebook, port: 80, targetPort: 8888, protocol: TCP}]}\n' "$i"
      printf -- '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: nb-%05d, namespace: %s, labels: {cubit.dev/notebook: nb-%05d, app.kubernetes.io/managed-by: cubit}}\n' "$i" "$ceiling_ns" "$i"
      printf 'spec:\n  replicas: 1\n  serviceName: nb-%05d\n  selector: {matchLabels: {cubit.dev/notebook: nb-%05d}}\n  template:\n' "$i" "$i"
      printf '    metadata: {labels: {cubit.dev/notebook: nb-%05d, app.kubernetes.io/managed-by: cubit}}\n' "$i"
      printf '    spec:\n      securityContext: {fsGroup: 100}\n      volumes: [{name: workspace, persistentVolumeClaim: {claimName: nb-%05d-workspace}}, {name: dshm, emptyDir: {medium: Memory}}]\n' "$i"
      printf '      containers:\n      - name: notebook\n        image: quay.io/jupyter/scipy-notebook:python-3.12\n'
      printf '        ports: [{name: notebook-port, containerPort: 8888, protocol: TCP}]\n        command: [jupyter, lab]\n'
      printf '        args: [--ServerApp.ip=0.0.0.0, --ServerApp.port=8888, --ServerApp.base_url=%s, --ServerApp.root_dir=/home/jovyan, --IdentityProvider.token=, --ServerApp.password=, "--ServerApp.allow_origin=*", --ServerApp.open_browser=False]\n' "$b"
      printf '        env: [{name: NB_PREFIX, value: %s}]\n        resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 256Mi}}\n' "$b"
      printf '        readinessProbe: {httpGet: {path: %sapi, port: 8888}, periodSeconds: 5, failureThreshold: 3}\n' "$b"
      printf '        livenessProbe: {tcpSocket: {port: 8888}, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6}\n'
      printf '        volumeMounts: [{name: workspace, mountPath: /home/jovyan}, {name: dshm, mountPath: /dev/shm}]\n'
      ((vs)) || continue
      printf -- '---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: nb-%05d, namespace: %s, labels: {cubit.dev/notebook: nb-%05d, app.kubernetes.io/managed-by: cubit}}\n' "$i" "$ceiling_ns" "$i"
      printf 'spec: {hosts: ["*"], gateways: [cubit-system/cubit-gateway], http: [{match: [{uri: {prefix: %s}}], rewrite: {uri: %s}, route: [{destination: {host: nb-%05d.%s.svc.cluster.local, port: {number: 80}}}], timeout: 300s}]}\n' "$b" "$b" "$i" "$ceiling_ns"
    done >"$ceiling/children-$w.yaml"
  done
  t0=$(date +%s.%N)
  writers=()
  for w in 0 1 2 3; do
    "${kubectl[@]}" create -f "$ceiling/children-$w.yaml" >/dev/null &
    writers+=($!)
  done
  wait "${writers[@]}"
  figure ceiling_s "$(calc "$(date +%s.%N) - $t0")" s 0
  rm -rf "$ceiling"
  if ((ceiling_only)); then
    "${kubectl[@]}" delete namespace "$ceiling_ns" --wait=false >/dev/null
    report
    exit 0
  fi
  "${kubectl[@]}" delete namespace "$ceiling_ns" --wait=true --timeout=600s >/dev/null
fi

# 1. idle
restart
figure idle_ready_s "$(calc "$(date +%s.%N) - $t_restart")" s 0
figure idle_rss_kb "$(settle)" KiB 0
figure idle_rss_anon_kb "$(anon_kb)" KiB 0
figure idle_threads "$(awk '/^Threads/ {print $2}' "/proc/$(pid)/status")" "" 0

# 2. create
"${kubectl[@]}" create namespace "$ns" >/dev/null
work=$(mktemp -d)
for w in 0 1 2 3; do
  for ((i = w; i < n; i += 4)); do
    printf -- '---\napiVersion: cubit.dev/v1alpha1\nkind: Notebook\nmetadata: {name: nb-%05d, namespace: %s}\nspec: {ide: jupyter, resources: {cpu: 100m, memory: 256Mi}}\n' "$i" "$ns"
  done >"$work/nb-$w.yaml"
done
cpu0=$(cpu_s) req0=$(requests) t0=$(date +%s.%N)
writers=()
for w in 0 1 2 3; do
  "${kubectl[@]}" create -f "$work/nb-$w.yaml" >/dev/null &
  writers+=($!)
done
wait "${writers[@]}" # not the manager, also a child of this shell after restart
t_written=$(date +%s.%N)
while (($(children) < n)); do
  sleep 1
  if awk -v a="$(date +%s)" -v b="${t0%.*}" 'BEGIN {exit !(a - b > 900)}'; then echo "bench/scale.sh: children missing after 900 s" >&2; break; fi
done
t_children=$(date +%s.%N)
figure notebooks "$n" "" 1
figure write_s "$(calc "$t_written - $t0")" s 0
figure children_s "$(calc "$t_children - $t0")" s 0

# 3. steady
figure steady_rss_kb "$(settle)" KiB 0
figure steady_rss_anon_kb "$(anon_kb)" KiB 0
figure steady_peak_rss_kb "$(hwm_kb)" KiB 0
figure cpu_s "$(calc "$(cpu_s) - $cpu0")" s 0
figure requests_per_notebook "$(calc "($(requests) - $req0) / $n")" "" 0
# What one Notebook costs: the manager's anonymous memory over idle, and per
# resource the objects per Notebook and their JSON as the API serves it less
# managedFields and last-applied-configuration (what the store keeps as text
# of a resource it does not cut; pods are cut further, pkg/runtime/fields.c).
figure anon_per_notebook_b "$(calc "($(anon_kb) - ${fig[idle_rss_anon_kb]}) * 1024 / $n")" B 0
for r in notebooks statefulsets services persistentvolumeclaims virtualservices.networking.istio.io pods; do
  read -r count bytes < <("${kubectl[@]}" -n "$ns" get "$r" -o json |
    jq -c '.items[] | del(.metadata.managedFields) | del(.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])' |
    awk '{s += length($0)} END {printf "%d %d\n", NR, s}')
  r=${r%%.*}
  figure "${r}_per_notebook" "$(calc "$count / $n")" "" 0
  figure "${r}_json_b" "$(calc "$bytes / ($count > 0 ? $count : 1)")" B 0
done

# 4. cold start with everything present
restart
figure cold_ready_s "$(calc "$(date +%s.%N) - $t_restart")" s 0
figure cold_rss_kb "$(settle)" KiB 0
figure cold_peak_rss_kb "$(hwm_kb)" KiB 0
figure cold_cpu_s "$(cpu_s)" s 0 # the new process: its list, sync and reconciles

if ((keep == 0)); then "${kubectl[@]}" delete namespace "$ns" --wait=false >/dev/null; fi

report
