"""Optuna's TPE and random samplers on bench_hpo's functions, the same
table, and the ratios of Cubit's median regret (best - minimum) to Optuna
TPE's: below 1, Cubit found better values.

    python optuna_bench.py --seeds 30 --cubit cubit.tsv
"""
import argparse
import csv
import random
import statistics
import sys
import time
import warnings

import optuna

from functions import FUNCTIONS

CHECKPOINTS = (25, 50, 100)


def quartiles(values):
    v = sorted(values)
    def q(p):
        pos = p * (len(v) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (pos - lo) * (v[hi] - v[lo])
    return q(0.25), q(0.5), q(0.75)


def search(name, sampler, seed, budget):
    space, f, _, noise = FUNCTIONS[name]
    rng = random.Random(seed)
    best_seen, true_best, out = float("inf"), float("nan"), []

    def objective(trial):
        nonlocal best_seen, true_best
        p = space(trial)
        value = f(p)
        observed = value + (noise * rng.gauss(0.0, 1.0) if noise else 0.0)
        if observed < best_seen:
            best_seen, true_best = observed, value
        out.append(true_best)
        return observed

    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=budget)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--cubit", help="bench_hpo --tsv output, for the ratios")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    samplers = {"optuna-tpe": lambda s: optuna.samplers.TPESampler(seed=s),
                "optuna-random": lambda s: optuna.samplers.RandomSampler(seed=s)}
    print("Optuna %s: best value after N trials: median [q1, q3] over %d seeds" % (optuna.__version__, args.seeds))
    print("%-10s %-14s %-28s %-28s %-28s %s" % ("function", "sampler", "25", "50", "100", "s/search"))
    medians = {}
    for name in FUNCTIONS:
        for label, make in samplers.items():
            runs, t0 = [], time.time()
            for seed in range(1, args.seeds + 1):
                runs.append(search(name, make(seed), seed, args.trials))
            cells = []
            for c in CHECKPOINTS:
                if c > args.trials:
                    continue
                q1, med, q3 = quartiles([r[c - 1] for r in runs])
                medians[(name, label, c)] = med
                cells.append("%.4f [%.4f, %.4f]" % (med, q1, q3))
            print("%-10s %-14s %s %.2f" % (name, label, " ".join("%-28s" % c for c in cells),
                                           (time.time() - t0) / args.seeds))
            sys.stdout.flush()
    if not args.cubit:
        return
    cubit = {}
    with open(args.cubit) as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["trials"].isdigit():
                cubit[(row["function"], row["algorithm"], int(row["trials"]))] = float(row["median"])
    print("\nmedian regret (best - minimum) relative to Optuna's TPE: < 1 is better than Optuna's TPE")
    algos = sorted({a for (_, a, _) in cubit}, key=lambda a: ["random", "grid", "tpe", "bayesian", "cmaes",
                                                             "hyperband"].index(a))
    head = ["cubit-" + a for a in algos] + ["optuna-random"]
    print("%-10s %-7s %s" % ("function", "trials", " ".join("%16s" % h for h in head)))
    for name, (_, _, minimum, _) in FUNCTIONS.items():
        for c in (50, 100):
            ref = medians.get((name, "optuna-tpe", c))
            if ref is None:
                continue
            base = max(ref - minimum, 1e-12)
            cells = []
            for a in algos:
                v = cubit.get((name, a, c))
                cells.append("%16s" % ("-" if v is None else "%.3f" % ((v - minimum) / base)))
            cells.append("%16.3f" % ((medians[(name, "optuna-random", c)] - minimum) / base))
            print("%-10s %-7d %s" % (name, c, " ".join(cells)))


if __name__ == "__main__":
    main()
