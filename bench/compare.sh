#!/usr/bin/env bash
# Cubit's manager against bench/go-operator (controller-runtime) doing the same
# Notebook job on the same local control plane: bench/scale.sh run alternately for
# each, then one table with a column per run.
#
#   bench/compare.sh [N] [--rounds R] [--fresh] [--out DIR]   (N default 500, R default 1)
#   bench/compare.sh --table DIR                      the table of the runs kept in DIR
#
# The plain writer's ceiling does not depend on the operator: the first run measures
# it, the others run with --no-ceiling, and every column is compared with it.
# --fresh starts every run on a new local control plane (kind/local/down.sh --purge,
# then test/e2e/cubit-up.sh with CUBIT_SKIP_SAMPLES=1, about 35 s) instead of waiting
# for the previous run's namespace to be deleted (about 10 minutes at N=2000, the
# garbage collector loading the API server meanwhile), and measures the ceiling in
# each round on a control plane of its own (ceiling-R): every run starts alike and
# is compared with its own round's ceiling.
# Needs what bench/scale.sh needs (test/e2e/cubit-up.sh first). Each run's JSON and
# output are kept in DIR (default a new temporary directory, printed); the machine's
# load average (uptime) before and after each run is printed with its column, since
# other work on the machine moves every time figure.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=500 rounds=1 out="" table_only=0 fresh=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --table) out=$2; table_only=1; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --out) out=$2; shift 2 ;;
    [0-9]*) n=$1; shift ;;
    *) echo "bench/compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench/compare.sh: --rounds: want a positive count, not \"$rounds\"" >&2; exit 2; }
out=${out:-$(mktemp -d /tmp/cubit-compare.XXXXXX)}
mkdir -p "$out"

load() { awk '{print $1 "/" $2 "/" $3}' /proc/loadavg; }
runs=()
if ((table_only)); then
  for f in "$out"/*-[0-9]*.json; do [[ $(basename "$f") == ceiling-* ]] || runs+=("$(basename "$f" .json)"); done
  ((${#runs[@]})) || { echo "bench/compare.sh: no runs in $out" >&2; exit 1; }
  mapfile -t runs < <(printf '%s\n' "${runs[@]}" | sort -t- -k2,2n -k1,1)
  n=$(jq -r .figures.notebooks "$out/${runs[0]}.json")
fi
((table_only)) || echo "bench/compare.sh: N=$n, $rounds round(s), runs kept in $out" >&2
fresh_plane() {
  echo "bench/compare.sh: $1: a fresh control plane" >&2
  "$repo/kind/local/down.sh" --purge >"$out/$1.up.txt" 2>&1
  CUBIT_SKIP_SAMPLES=1 "$repo/test/e2e/cubit-up.sh" >>"$out/$1.up.txt" 2>&1 ||
    { echo "bench/compare.sh: $1: cubit-up failed; see $out/$1.up.txt" >&2; exit 1; }
}
for ((r = 1; r <= rounds && !table_only; r++)); do
  if ((fresh)); then
    fresh_plane "ceiling-$r"
    echo "bench/compare.sh: ceiling-$r: bench/scale.sh $n --ceiling-only (load $(load))" >&2
    "$repo/bench/scale.sh" "$n" --ceiling-only --json "$out/ceiling-$r.json" >"$out/ceiling-$r.txt" 2>&1 ||
      { echo "bench/compare.sh: ceiling-$r failed; see $out/ceiling-$r.txt" >&2; exit 1; }
  fi
  for op in cubit go; do
    name=$op-$r
    ((fresh == 0)) || fresh_plane "$name"
    before=$(load)
    flags=()
    ((${#runs[@]} == 0 && fresh == 0)) || flags+=(--no-ceiling)
    echo "bench/compare.sh: $name: bench/scale.sh $n --operator $op ${flags[*]} (load $before)" >&2
    "$repo/bench/scale.sh" "$n" --operator "$op" "${flags[@]}" --json "$out/$name.json" >"$out/$name.txt" 2>&1 ||
      { echo "bench/compare.sh: $name failed; see $out/$name.txt" >&2; tail -n 5 "$out/$name.txt" >&2; exit 1; }
    # with --fresh, its round's ceiling, as if the run had measured it
    ceiling=null
    ((fresh == 0)) || ceiling=$(jq '.figures.ceiling_s' "$out/ceiling-$r.json")
    jq --arg b "$before" --arg a "$(load)" --argjson c "$ceiling" \
      '.load = {before: $b, after: $a} | if $c == null then . else .figures.ceiling_s = $c end' \
      "$out/$name.json" >"$out/$name.tmp"
    mv "$out/$name.tmp" "$out/$name.json"
    runs+=("$name")
  done
done

# The table: a row per figure, a column per run; sizes in MiB.
rows=(
  "ceiling_s|plain writer: the children (s)|1"
  "write_s|writers: the Notebooks (s)|1"
  "children_s|all children exist (s)|1"
  "children_over_ceiling|  ... over the ceiling (x)|1"
  "idle_rss_kb|idle RSS (MiB)|1024"
  "steady_rss_kb|steady RSS (MiB)|1024"
  "steady_peak_rss_kb|peak RSS while creating (MiB)|1024"
  "cold_peak_rss_kb|cold start with N: peak RSS (MiB)|1024"
  "cold_rss_kb|cold start with N: settled (MiB)|1024"
  "cold_ready_s|cold start with N: ready (s)|1"
  "cpu_s|CPU seconds for the N Notebooks|1"
  "cold_cpu_s|CPU seconds of the cold start|1"
  "requests_per_notebook|API requests per Notebook|1"
)
# The ceiling: each run's own (its round's, with --fresh), else the one measured once.
ceiling_s=""
for r in "${runs[@]}"; do
  [[ -n $ceiling_s ]] || ceiling_s=$(jq -r '.figures.ceiling_s // empty' "$out/$r.json")
done
printf '\nbench/compare.sh: N=%s Notebooks on %s, %s cores\n' "$n" "$(uname -m)" "$(nproc)"
printf '%-36s' "figure"
for r in "${runs[@]}"; do printf ' %12s' "$r"; done
printf '\n'
for row in "${rows[@]}"; do
  IFS='|' read -r key label div <<<"$row"
  printf '%-36s' "$label"
  for r in "${runs[@]}"; do
    v=$(jq -r --arg k "$key" --argjson d "$div" --arg c "${ceiling_s:-}" '
      .figures as $f
      | if $k == "children_over_ceiling" then
          (($f.ceiling_s // (if $c == "" then null else ($c | tonumber) end)) as $cs
           | if $cs == null then empty else $f.children_s / $cs end)
        else ($f[$k] // empty) / $d end' "$out/$r.json")
    printf ' %12s' "$(awk -v v="$v" 'BEGIN {printf (v == "" ? "-" : "%.2f"), v}')"
  done
  printf '\n'
done
printf '%-36s' "load average before (1/5 min)"
for r in "${runs[@]}"; do printf ' %12s' "$(jq -r .load.before "$out/$r.json" | cut -d/ -f1-2)"; done
printf '\n%-36s' "load average after (1/5 min)"
for r in "${runs[@]}"; do printf ' %12s' "$(jq -r .load.after "$out/$r.json" | cut -d/ -f1-2)"; done
printf '\n'
