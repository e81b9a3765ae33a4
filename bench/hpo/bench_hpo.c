/* The Experiment's search algorithms on test functions: the best value
 * found after 25, 50 and 100 trials (median and quartiles over seeds), and
 * the time of one suggestion after 100 and 1,000 finished trials.
 *
 *   bench_hpo [--seeds N] [--trials N] [--only ALGORITHM] [--function NAME]
 *             [--tsv FILE] [--settings JSON] [--no-timing] [--no-search]
 *
 * The functions (bench/hpo/functions.py has the same ones for Optuna):
 *   branin     2 doubles, x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887
 *   hartmann6  6 doubles in [0, 1]; minimum -3.32237
 *   mixed      int a in [-10, 10], int b in [1, 1000] (log), categorical c
 *              (red, green, blue, black), categorical d (x, y, z), double e
 *              in [0, 1]: (a-3)^2/25 + (log10 b - 2)^2 + cost(c) +
 *              (d = y ? 4 (e-0.7)^2 : 0.5 + 4 (e-0.2)^2), cost = 0.8, 0,
 *              0.4, 1.2; minimum 0 (a=3, b=100, green, y, e=0.7)
 *   noisy      Hartmann-3 (3 doubles in [0, 1], minimum -3.86278) observed
 *              with Gaussian noise of sd 0.2; the best value reported is
 *              the true value of the trial that looked best
 * Trials run one after the other (one suggestion per call, every trial
 * finished before the next is asked for). Hyperband gets one more
 * parameter, epochs in [1, 27] (eta 3): a trial at e epochs observes the
 * value plus Gaussian noise of sd 0.3 (27/e - 1)/26 times the function's
 * spread, and the best reported is again the true value of the trial that
 * looked best among those run at 27 epochs (or any, before the first).
 * Grid search's doubles get gridPoints so that its grid has about 100
 * points where it can. Figures are printed, never judged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/experiment/experiment.h"
#include "controllers/experiment/suggest/suggest.h"
#include "util/alloc.h"

#define MAX_TRIALS 1000

typedef struct function {
  const char *name;
  const char *space;  /* spec.parameters */
  double minimum;
  double spread;      /* the size of typical differences, for Hyperband's fidelity noise */
  double noise;       /* sd of the observation noise */
  int grid_points;
  double (*f)(const double *x);
} function;

static double branin(const double *x) {
  double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10, t = 1 / (8 * M_PI);
  double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
  return a * u * u + s * (1 - t) * cos(x[0]) + s;
}

static double hartmann6(const double *x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; i++) {
    double e = 0;
    for (int j = 0; j < 6; j++) e += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * exp(-e);
  }
  return -sum;
}

static double hartmann3(const double *x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][3] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
  static const double P[4][3] = {{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547},
                                 {0.0381, 0.5743, 0.8828}};
  double sum = 0;
  for (int i = 0; i < 4; i++) {
    double e = 0;
    for (int j = 0; j < 3; j++) e += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * exp(-e);
  }
  return -sum;
}

static double mixed(const double *x) {
  static const double cost[4] = {0.8, 0, 0.4, 1.2};
  double a = x[0], lb = log10(x[1]), e = x[4];
  int c = (int)x[2], d = (int)x[3];
  double tail = d == 1 ? 4 * (e - 0.7) * (e - 0.7) : 0.5 + 4 * (e - 0.2) * (e - 0.2);
  return (a - 3) * (a - 3) / 25 + (lb - 2) * (lb - 2) + cost[c] + tail;
}

static const function functions[] = {
    {"branin", "[{'name':'x1','type':'double','min':-5,'max':10},{'name':'x2','type':'double','min':0,'max':15}]",
     0.397887, 10, 0, 10, branin},
    {"hartmann6",
     "[{'name':'x1','type':'double','min':0,'max':1},{'name':'x2','type':'double','min':0,'max':1},"
     "{'name':'x3','type':'double','min':0,'max':1},{'name':'x4','type':'double','min':0,'max':1},"
     "{'name':'x5','type':'double','min':0,'max':1},{'name':'x6','type':'double','min':0,'max':1}]",
     -3.32237, 1, 0, 3, hartmann6},
    {"mixed",
     "[{'name':'a','type':'int','min':-10,'max':10},{'name':'b','type':'int','min':1,'max':1000,'scale':'log'},"
     "{'name':'c','type':'categorical','list':['red','green','blue','black']},"
     "{'name':'d','type':'categorical','list':['x','y','z']},{'name':'e','type':'double','min':0,'max':1}]",
     0, 1, 0, 5, mixed},
    {"noisy",
     "[{'name':'x1','type':'double','min':0,'max':1},{'name':'x2','type':'double','min':0,'max':1},"
     "{'name':'x3','type':'double','min':0,'max':1}]",
     -3.86278, 1, 0.2, 5, hartmann3},
};
#define NFUNCTIONS (sizeof(functions) / sizeof(functions[0]))

static const char *const algorithms[] = {"random", "grid", "tpe", "bayesian", "cmaes", "hyperband"};
#define NALGORITHMS (sizeof(algorithms) / sizeof(algorithms[0]))

static json_t *J(const char *text) {
  char *copy = xstrdup(text);
  for (char *p = copy; *p; p++)
    if (*p == '\'') *p = '"';
  json_error_t err;
  json_t *v = json_loads(copy, 0, &err);
  if (v == NULL) {
    fprintf(stderr, "bench_hpo: %s: %s\n", copy, err.text);
    exit(1);
  }
  free(copy);
  return v;
}

/* A deterministic standard normal for observation noise. */
static double noise_normal(uint64_t seed, uint64_t n) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + n * 0xbf58476d1ce4e5b9ULL + 1;
  double u[2];
  for (int i = 0; i < 2; i++) {
    z += 0x9e3779b97f4a7c15ULL;
    uint64_t v = z;
    v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
    v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
    v ^= v >> 31;
    u[i] = ((double)(v >> 11) + 0.5) * 0x1.0p-53;
  }
  return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

typedef struct setup {
  hpo_space space;
  hpo_objective obj;
  hpo_algorithm alg;
  int resource; /* hyperband's epochs parameter, or -1 */
} setup;

/* --settings: merged into the algorithm's settings, to try values out. */
static json_t *extra_settings;

static void setup_make(setup *s, const function *fn, const char *algorithm, uint64_t seed) {
  char err[512];
  json_t *space = J(fn->space);
  if (strcmp(algorithm, "hyperband") == 0)
    json_array_append_new(space, J("{'name':'epochs','type':'int','min':1,'max':27}"));
  json_t *obj = J("{'metric':'value','type':'minimize'}");
  json_t *alg = json_pack("{s:s, s:I}", "name", algorithm, "seed", (json_int_t)seed);
  if (strcmp(algorithm, "grid") == 0) json_object_set_new(alg, "settings", json_pack("{s:i}", "gridPoints", fn->grid_points));
  if (strcmp(algorithm, "hyperband") == 0)
    json_object_set_new(alg, "settings", json_pack("{s:s, s:i}", "resourceName", "epochs", "eta", 3));
  if (extra_settings) {
    if (json_object_get(alg, "settings") == NULL) json_object_set_new(alg, "settings", json_object());
    json_object_update(json_object_get(alg, "settings"), extra_settings);
  }
  if (hpo_space_parse(space, "parameters", &s->space, err, sizeof(err)) ||
      hpo_objective_parse(obj, "objective", &s->obj, err, sizeof(err)) ||
      hpo_algorithm_parse(alg, &s->space, "algorithm", &s->alg, err, sizeof(err))) {
    fprintf(stderr, "bench_hpo: %s/%s: %s\n", fn->name, algorithm, err);
    exit(1);
  }
  s->resource = hpo_space_find(&s->space, "epochs");
  json_decref(space);
  json_decref(obj);
  json_decref(alg);
}

/* Appends a finished trial. */
static void add_trial(hpo_trials *t, const hpo_space *space, const double *x, double value, int64_t number) {
  t->items = xrealloc(t->items, (t->n + 1) * sizeof(hpo_trial));
  hpo_trial *r = &t->items[t->n++];
  memset(r, 0, sizeof(*r));
  r->name = xstrdup("");
  r->number = number;
  r->state = HPO_TRIAL_SUCCEEDED;
  r->x = xcalloc(space->n, sizeof(double));
  memcpy(r->x, x, space->n * sizeof(double));
  r->has_value = 1;
  r->value = value;
}

/* One search of 'budget' trials: best[k] = the true value of the trial
 * that looked best among the first k+1. */
static void run_search(const function *fn, const char *algorithm, uint64_t seed, int budget, double *best) {
  setup s;
  setup_make(&s, fn, algorithm, seed);
  hpo_trials trials = {0};
  double seen_best = INFINITY, true_best = NAN;
  int seen_full = 0; /* Hyperband: a trial at full resource has been seen */
  char err[512];
  for (int k = 0; k < budget; k++) {
    hpo_suggestions sg;
    if (hpo_suggest(&s.space, &s.obj, &s.alg, &trials, 1, &sg, err, sizeof(err)) != 0 || sg.n != 1) {
      /* grid exhausted, or an error: the rest of the budget finds nothing */
      if (sg.n != 1 && sg.exhausted == 0) fprintf(stderr, "bench_hpo: %s/%s: %s%s\n", fn->name, algorithm, err, sg.reason);
      hpo_suggestions_free(&sg);
      for (; k < budget; k++) best[k] = k ? best[k - 1] : NAN;
      break;
    }
    double *x = sg.x;
    double f = fn->f(x);
    double observed = f + (fn->noise > 0 ? fn->noise * noise_normal(seed, (uint64_t)k) : 0);
    int full = 1;
    if (s.resource >= 0) {
      double e = x[s.resource];
      observed += 0.3 * fn->spread * (27.0 / e - 1) / 26.0 * noise_normal(seed ^ 0x5eed, (uint64_t)k);
      full = e >= 27;
    }
    add_trial(&trials, &s.space, x, observed, sg.numbers[0]);
    hpo_suggestions_free(&sg);
    /* Only full-resource trials count once there is one. */
    if ((full && !seen_full) || ((full || !seen_full) && observed < seen_best)) {
      if (full && !seen_full) seen_full = 1;
      seen_best = observed;
      true_best = f;
    }
    best[k] = true_best;
  }
  hpo_trials_free(&trials);
  hpo_space_free(&s.space);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(double *v, int n, double q) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  double pos = q * (n - 1);
  int lo = (int)floor(pos);
  int hi = lo + 1 < n ? lo + 1 : lo;
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The median time of one suggestion after n finished trials of random
 * assignments on the function's space. */
static double time_suggestion(const function *fn, const char *algorithm, int n) {
  setup s;
  setup_make(&s, fn, algorithm, 1);
  hpo_algorithm rnd = s.alg;
  rnd.kind = HPO_RANDOM;
  hpo_trials trials = {0};
  char err[512];
  hpo_suggestions sg;
  if (hpo_suggest(&s.space, &s.obj, &rnd, &trials, (size_t)n, &sg, err, sizeof(err)) != 0) exit(1);
  for (size_t k = 0; k < sg.n; k++) {
    const double *x = sg.x + k * s.space.n;
    add_trial(&trials, &s.space, x, fn->f(x), sg.numbers[k]);
  }
  hpo_suggestions_free(&sg);
  double times[7];
  int reps = 7;
  for (int r = 0; r < reps; r++) {
    s.alg.seed = (uint64_t)r + 1;
    double t0 = now_s();
    if (hpo_suggest(&s.space, &s.obj, &s.alg, &trials, 1, &sg, err, sizeof(err)) != 0) exit(1);
    times[r] = now_s() - t0;
    hpo_suggestions_free(&sg);
  }
  hpo_trials_free(&trials);
  hpo_space_free(&s.space);
  return quantile(times, reps, 0.5);
}

int main(int argc, char **argv) {
  int seeds = 30, budget = 100, timing = 1, search = 1;
  const char *only = NULL, *only_fn = NULL, *tsv_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) seeds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) budget = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else if (strcmp(argv[i], "--function") == 0 && i + 1 < argc) only_fn = argv[++i];
    else if (strcmp(argv[i], "--tsv") == 0 && i + 1 < argc) tsv_path = argv[++i];
    else if (strcmp(argv[i], "--settings") == 0 && i + 1 < argc) extra_settings = J(argv[++i]);
    else if (strcmp(argv[i], "--no-timing") == 0) timing = 0;
    else if (strcmp(argv[i], "--no-search") == 0) search = 0;
    else {
      fprintf(stderr, "usage: bench_hpo [--seeds N] [--trials N] [--only ALGORITHM] [--function NAME] [--tsv FILE] "
                      "[--settings JSON] [--no-timing] [--no-search]\n");
      return 2;
    }
  }
  if (seeds < 1 || budget < 1 || budget > MAX_TRIALS) {
    fprintf(stderr, "bench_hpo: --seeds >= 1, --trials in [1, %d]\n", MAX_TRIALS);
    return 2;
  }
  static const int checkpoints[] = {25, 50, 100};
  FILE *tsv = tsv_path ? fopen(tsv_path, "w") : NULL;
  if (tsv) fprintf(tsv, "function\talgorithm\ttrials\tq1\tmedian\tq3\tminimum\n");
  if (search) {
    printf("best value after N trials: median [q1, q3] over %d seeds\n", seeds);
    printf("%-10s %-10s %-28s %-28s %-28s\n", "function", "algorithm", "25", "50", "100");
    double *best = xcalloc((size_t)budget, sizeof(double));
    double *at = xcalloc((size_t)seeds * 3, sizeof(double));
    for (size_t f = 0; f < NFUNCTIONS; f++) {
      if (only_fn && strcmp(only_fn, functions[f].name) != 0) continue;
      for (size_t a = 0; a < NALGORITHMS; a++) {
        if (only && strcmp(only, algorithms[a]) != 0) continue;
        for (int sd = 0; sd < seeds; sd++) {
          run_search(&functions[f], algorithms[a], (uint64_t)sd + 1, budget, best);
          for (int c = 0; c < 3; c++) at[c * seeds + sd] = checkpoints[c] <= budget ? best[checkpoints[c] - 1] : NAN;
        }
        printf("%-10s %-10s", functions[f].name, algorithms[a]);
        for (int c = 0; c < 3; c++) {
          if (checkpoints[c] > budget) continue;
          double *v = at + c * seeds;
          double q1 = quantile(v, seeds, 0.25), med = quantile(v, seeds, 0.5), q3 = quantile(v, seeds, 0.75);
          char cell[64];
          snprintf(cell, sizeof(cell), "%.4f [%.4f, %.4f]", med, q1, q3);
          printf(" %-28s", cell);
          if (tsv)
            fprintf(tsv, "%s\t%s\t%d\t%.6g\t%.6g\t%.6g\t%.6g\n", functions[f].name, algorithms[a], checkpoints[c], q1,
                    med, q3, functions[f].minimum);
        }
        printf("\n");
        fflush(stdout);
      }
    }
    free(best);
    free(at);
  }
  if (timing) {
    printf("\none suggestion after N finished trials: CPU time (median of 7), ms\n");
    printf("%-10s %-10s %10s %10s\n", "function", "algorithm", "100", "1000");
    for (size_t f = 0; f < NFUNCTIONS; f++) {
      if (only_fn && strcmp(only_fn, functions[f].name) != 0) continue;
      if (strcmp(functions[f].name, "hartmann6") != 0 && strcmp(functions[f].name, "mixed") != 0) continue;
      for (size_t a = 0; a < NALGORITHMS; a++) {
        if (only && strcmp(only, algorithms[a]) != 0) continue;
        double t100 = time_suggestion(&functions[f], algorithms[a], 100);
        double t1000 = time_suggestion(&functions[f], algorithms[a], 1000);
        printf("%-10s %-10s %10.3f %10.3f\n", functions[f].name, algorithms[a], t100 * 1e3, t1000 * 1e3);
        if (tsv) fprintf(tsv, "%s\t%s\ttime%d\t\t%.6g\t\t\n%s\t%s\ttime%d\t\t%.6g\t\t\n", functions[f].name,
                         algorithms[a], 100, t100, functions[f].name, algorithms[a], 1000, t1000);
        fflush(stdout);
      }
    }
  }
  if (tsv) fclose(tsv);
  json_decref(extra_settings);
  return 0;
}
