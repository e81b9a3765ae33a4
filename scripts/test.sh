#!/usr/bin/env bash
# Runs every test: unit suites (plain, under valgrind, under ASan+UBSan) and the
# end-to-end tests against the local control plane, with the manager built
# with ASan+UBSan so a leak or an overflow in a real run fails too.
#
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    extra arguments go to both ctest runs
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
jobs=$(nproc)

"$repo/scripts/deps.sh"

echo "[test] configure and build (plain + valgrind registrations)" >&2
cmake -S . -B build -G Ninja -DCUBIT_VALGRIND=ON >/dev/null
ninja -C build
echo "[test] configure and build (AddressSanitizer + UndefinedBehaviorSanitizer)" >&2
cmake -S . -B build-asan -G Ninja -DCUBIT_SANITIZE=ON >/dev/null
ninja -C build-asan

# The build matrix: every configuration a developer may use compiles with
# -Werror (Debug's -O0 and clang warn about things the default build does
# not); coverage runs the unit suites and prints line coverage.
echo "[test] build matrix: Debug, clang, coverage" >&2
cmake -S . -B build-debug -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCUBIT_E2E=OFF >/dev/null
ninja -C build-debug
cmake -S . -B build-clang -G Ninja -DCMAKE_C_COMPILER=clang -DCUBIT_E2E=OFF >/dev/null
ninja -C build-clang
cmake -S . -B build-cov -G Ninja -DCUBIT_COVERAGE=ON -DCUBIT_E2E=OFF >/dev/null
ninja -C build-cov coverage

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
echo "[test] unit suites, plain and under valgrind" >&2
ctest --test-dir build -LE e2e -j "$jobs" --output-on-failure "$@" || status=1
echo "[test] unit and end-to-end suites under ASan+UBSan" >&2
CUBIT_BUILD_DIR=$repo/build-asan ctest --test-dir build-asan -j "$jobs" --output-on-failure "$@" || status=1
echo "[test] fuzz targets, 10 s each (docs/fuzzing.md)" >&2
"$repo/fuzz/run.sh" 10 || status=1
exit $status
