"""The test functions of bench_hpo.c, for Optuna: the same definitions,
spaces and noise model (see bench_hpo.c's header)."""
import math

def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10

_H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
_H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
_H6_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
         [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]

def hartmann6(p):
    x = [p["x%d" % (i + 1)] for i in range(6)]
    return -sum(a * math.exp(-sum(A[j] * (x[j] - P[j]) ** 2 for j in range(6)))
                for a, A, P in zip(_H6_ALPHA, _H6_A, _H6_P))

_H3_A = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]]
_H3_P = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]

def hartmann3(p):
    x = [p["x%d" % (i + 1)] for i in range(3)]
    return -sum(a * math.exp(-sum(A[j] * (x[j] - P[j]) ** 2 for j in range(3)))
                for a, A, P in zip(_H6_ALPHA, _H3_A, _H3_P))

_COST = {"red": 0.8, "green": 0.0, "blue": 0.4, "black": 1.2}

def mixed(p):
    e = p["e"]
    tail = 4 * (e - 0.7) ** 2 if p["d"] == "y" else 0.5 + 4 * (e - 0.2) ** 2
    return (p["a"] - 3) ** 2 / 25 + (math.log10(p["b"]) - 2) ** 2 + _COST[p["c"]] + tail

def _unit(trial, names):
    return {n: trial.suggest_float(n, 0.0, 1.0) for n in names}

def _mixed_space(trial):
    return {"a": trial.suggest_int("a", -10, 10), "b": trial.suggest_int("b", 1, 1000, log=True),
            "c": trial.suggest_categorical("c", ["red", "green", "blue", "black"]),
            "d": trial.suggest_categorical("d", ["x", "y", "z"]), "e": trial.suggest_float("e", 0.0, 1.0)}

# name: (space, function, minimum, noise sd)
FUNCTIONS = {
    "branin": (lambda t: {"x1": t.suggest_float("x1", -5.0, 10.0), "x2": t.suggest_float("x2", 0.0, 15.0)},
               branin, 0.397887, 0.0),
    "hartmann6": (lambda t: _unit(t, ["x%d" % (i + 1) for i in range(6)]), hartmann6, -3.32237, 0.0),
    "mixed": (_mixed_space, mixed, 0.0, 0.0),
    "noisy": (lambda t: _unit(t, ["x1", "x2", "x3"]), hartmann3, -3.86278, 0.2),
}
