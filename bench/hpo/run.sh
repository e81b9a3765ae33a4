#!/usr/bin/env bash
# The search benchmark: Cubit's algorithms on Branin, Hartmann-6, a mixed
# int/categorical space and a noisy function (bench_hpo.c), then, when
# Python can install Optuna from PyPI into a venv in the build tree,
# Optuna's TPE and random samplers on the same functions and the ratios.
# Not run by CI; prints figures, asserts nothing.
#
#   bench/hpo/run.sh [--seeds N]        (default 30)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${CUBIT_BUILD_DIR:-$repo/build}
seeds=30
[[ ${1:-} == --seeds ]] && seeds=$2

# Optuna first, so a missing one is said before the long run.
venv=$build/bench-hpo-venv
optuna=1
if ! command -v python3 >/dev/null; then
  echo "no python3: Optuna's comparison skipped" >&2
  optuna=0
elif [[ ! -x $venv/bin/python ]] && ! python3 -m venv "$venv"; then
  echo "python3 cannot make a venv: Optuna's comparison skipped" >&2
  optuna=0
elif ! "$venv/bin/python" -c 'import optuna' 2>/dev/null && ! "$venv/bin/pip" install -q optuna; then
  echo "Optuna could not be installed from PyPI: its comparison skipped" >&2
  optuna=0
fi

cmake -S "$repo" -B "$build" -G Ninja >/dev/null
ninja -C "$build" bench_hpo >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/hpo/bench_hpo" --seeds "$seeds" --tsv "$work/cubit.tsv"
if [[ $optuna == 1 ]]; then
  echo
  cd "$repo/bench/hpo"
  "$venv/bin/python" optuna_bench.py --seeds "$seeds" --cubit "$work/cubit.tsv"
fi
