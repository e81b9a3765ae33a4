#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan+UBSan, in build-fuzz)
# and runs each for a bounded time; fails when any target finds a crash, a
# leak, undefined behaviour, a timeout or a broken property (docs/fuzzing.md).
#
#   fuzz/run.sh [seconds] [target...]   fuzz each target (all by default) for
#                                       'seconds' (default 20), FUZZ_JOBS at once
#   fuzz/run.sh --replay [target...]    run the seed corpora and the recorded
#                                       crashes (fuzz/crashes/) once, no fuzzing
#
# Each target reads its seeds from fuzz/corpus/<target>/ (never written) and
# keeps what it finds in build-fuzz/corpus/<target>/; a failing input is saved
# under build-fuzz/artifacts/<target>/ and the log is build-fuzz/logs/<target>.log.
# Environment: FUZZ_JOBS (default: the number of cores), FUZZ_BUILD_DIR
# (default build-fuzz), CC (default clang).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One target, run by the parallel loop below: prints one summary line.
if [[ ${1:-} == --one ]]; then
  mode=$2 target=$3 seconds=$4
  bin=$build/fuzz/fuzz_$target
  log=$build/logs/$target.log
  seeds=$repo/fuzz/corpus/$target
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target" "$build/logs" "$build/tmp"
  export TMPDIR=$build/tmp # what a target writes (kubeconfig's files) stays here, even after a crash
  args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/")
  if [[ $mode == replay ]]; then
    shopt -s nullglob
    inputs=("$seeds"/*)
    [[ -d $repo/fuzz/crashes/$target ]] && inputs+=("$repo/fuzz/crashes/$target"/*)
    set +e
    "$bin" "${args[@]}" "${inputs[@]}" </dev/null >"$log" 2>&1
    rc=$?
    set -e
    [[ $rc == 0 ]] && printf '%-40s ok, %d inputs\n' "$target" "${#inputs[@]}" && exit 0
  else
    set +e
    "$bin" "${args[@]}" -max_total_time="$seconds" "$build/corpus/$target" "$seeds" </dev/null >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [[ $rc == 0 ]]; then
      printf '%-40s ok, %s execs in %s s, %s exec/s\n' "$target" "${execs:-?}" "$seconds" "${rate:-?}"
      exit 0
    fi
  fi
  printf '%-40s FAILED (exit %d), log %s\n' "$target" "$rc" "$log"
  grep -E -m1 -A12 '^==[0-9]+==ERROR|^fuzz: property|runtime error|ERROR: libFuzzer' "$log" | sed 's/^/    /' || tail -20 "$log"
  grep -E '^artifact_prefix|Test unit written to' "$log" | sed 's/^/    /' || true
  exit 1
fi

mode=fuzz seconds=20
if [[ ${1:-} == --replay ]]; then
  mode=replay
  shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi

echo "[fuzz] configure and build $build (clang, libFuzzer, ASan+UBSan)" >&2
CC=${CC:-clang} cmake -S "$repo" -B "$build" -G Ninja -DCUBIT_FUZZ=ON -DCUBIT_E2E=OFF >/dev/null
ninja -C "$build" fuzz >/dev/null

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets <"$build/fuzz/targets.txt"
fi
jobs=${FUZZ_JOBS:-$(nproc)}
if [[ $mode == fuzz ]]; then what="fuzzing ${seconds} s each"; else what="replaying seeds and recorded crashes"; fi
echo "[fuzz] ${#targets[@]} targets, $what, $jobs at once" >&2
if printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} "${BASH_SOURCE[0]}" --one "$mode" {} "$seconds"; then
  echo "[fuzz] every target passed" >&2
else
  echo "[fuzz] FAILED: see the targets above" >&2
  exit 1
fi
