/* Tests of controllers/experiment/suggest: grid covers its space exactly;
 * random respects bounds, steps and log scales; TPE, the Gaussian process
 * and CMA-ES beat random search on Branin for a fixed seed; Hyperband's
 * brackets and rungs; medianstop's decisions; determinism (the same trials
 * give the same suggestions, and suggestions made one call at a time with
 * the earlier ones pending equal those of one call); no collisions with
 * pending trials; the numerics underneath (Cholesky, Jacobi). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"
#include "controllers/experiment/suggest/suggest.h"
#include "testutil.h"
#include "util/alloc.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fixtures written with single quotes (testutil_json). */
#define J(text) testutil_json(text)

/* A space, an objective (minimise "loss") and an algorithm, parsed. */
typedef struct fixture {
  hpo_space space;
  hpo_objective obj;
  hpo_algorithm alg;
  hpo_trials trials;
} fixture;

static void fixture_make(fixture *f, const char *space, const char *algorithm) {
  memset(f, 0, sizeof(*f));
  json_t *s = J(space), *o = J("{'metric':'loss','type':'minimize'}"), *a = J(algorithm);
  char err[512] = "";
  ck_assert_msg(hpo_space_parse(s, "parameters", &f->space, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(hpo_objective_parse(o, "objective", &f->obj, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(hpo_algorithm_parse(a, &f->space, "algorithm", &f->alg, err, sizeof(err)) == 0, "%s", err);
  json_decref(s);
  json_decref(o);
  json_decref(a);
}

static void fixture_free(fixture *f) {
  hpo_trials_free(&f->trials);
  hpo_space_free(&f->space);
}

/* Appends a trial (number: after the last). */
static hpo_trial *add_trial(fixture *f, const double *x, hpo_trial_state state, int has_value, double value) {
  hpo_trials *t = &f->trials;
  t->items = xrealloc(t->items, (t->n + 1) * sizeof(hpo_trial));
  hpo_trial *r = &t->items[t->n];
  memset(r, 0, sizeof(*r));
  r->number = t->n ? t->items[t->n - 1].number + 1 : 1;
  t->n++;
  r->name = xasprintf("t-%lld", (long long)r->number);
  r->state = state;
  r->x = xcalloc(f->space.n, sizeof(double));
  memcpy(r->x, x, f->space.n * sizeof(double));
  r->has_value = has_value;
  r->value = value;
  return r;
}

/* Removes the last trial. */
static void pop_trial(fixture *f) {
  hpo_trial *r = &f->trials.items[--f->trials.n];
  free(r->name);
  free(r->x);
  free(r->obs);
}

static void suggest_ok(fixture *f, size_t count, hpo_suggestions *out) {
  char err[256] = "";
  ck_assert_msg(hpo_suggest(&f->space, &f->obj, &f->alg, &f->trials, count, out, err, sizeof(err)) == 0, "%s", err);
}

static int same_row(const double *a, const double *b, size_t d) { return memcmp(a, b, d * sizeof(double)) == 0; }

/* ---- grid --------------------------------------------------------------------------- */

START_TEST(grid_covers_exactly) {
  fixture f;
  fixture_make(&f, "[{'name':'n','type':'int','min':1,'max':3},{'name':'c','type':'categorical','list':['a','b']},"
                   "{'name':'lr','type':'double','min':0.001,'max':0.1,'scale':'log'}]",
               "{'name':'grid','settings':{'gridPoints':3}}");
  hpo_suggestions s;
  suggest_ok(&f, 100, &s);
  ck_assert_uint_eq(s.n, 18);
  ck_assert_int_eq(s.exhausted, 1);
  ck_assert_str_eq(s.reason, "the grid's 18 points have all been tried");
  /* every combination once: n in 1..3, c in {0,1}, lr in {0.001, 0.01, 0.1} */
  int hit[3][2][3] = {{{0}}};
  for (size_t i = 0; i < s.n; i++) {
    const double *x = s.x + i * 3;
    ck_assert_int_eq(s.numbers[i], (int64_t)i + 1);
    int lr = -1;
    for (int k = 0; k < 3; k++)
      if (fabs(x[2] - pow(10, k - 3)) < 1e-12) lr = k;
    ck_assert_msg(lr >= 0, "lr %g is not a grid point", x[2]);
    ck_assert(x[0] >= 1 && x[0] <= 3 && (x[1] == 0 || x[1] == 1));
    hit[(int)x[0] - 1][(int)x[1]][lr]++;
  }
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < 3; c++) ck_assert_int_eq(hit[a][b][c], 1);
  ck_assert_double_eq(s.x[2], 0.001); /* both ends exactly */
  ck_assert_double_eq(s.x[2 * 3 + 2], 0.1);
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* Trials already there (any state) are skipped; calls one at a time walk
 * the same grid as one call. */
START_TEST(grid_skips_trials) {
  fixture f;
  fixture_make(&f, "[{'name':'d','type':'double','min':0,'max':1,'step':0.25},{'name':'b','type':'discrete',"
                   "'list':[8,4]}]",
               "{'name':'grid'}");
  hpo_suggestions all;
  suggest_ok(&f, 20, &all);
  ck_assert_uint_eq(all.n, 10);
  double x[2] = {0.5, 1};
  add_trial(&f, x, HPO_TRIAL_FAILED, 0, 0);
  x[0] = 0;
  x[1] = 0;
  add_trial(&f, x, HPO_TRIAL_RUNNING, 0, 0);
  size_t got = 0;
  for (;;) {
    hpo_suggestions s;
    suggest_ok(&f, 1, &s);
    if (s.n == 0) {
      ck_assert_int_eq(s.exhausted, 1);
      hpo_suggestions_free(&s);
      break;
    }
    ck_assert(!(s.x[0] == 0.5 && s.x[1] == 1) && !(s.x[0] == 0 && s.x[1] == 0));
    add_trial(&f, s.x, HPO_TRIAL_PENDING, 0, 0);
    got++;
    hpo_suggestions_free(&s);
  }
  ck_assert_uint_eq(got, 8);
  /* the same points as the single call made, less the two trials */
  for (size_t i = 0; i < all.n; i++) {
    int found = 0;
    for (size_t k = 0; k < f.trials.n; k++) found |= same_row(all.x + i * 2, f.trials.items[k].x, 2);
    ck_assert_msg(found, "grid point %zu missing", i);
  }
  hpo_suggestions_free(&all);
  fixture_free(&f);
}
END_TEST

/* ---- random ------------------------------------------------------------------------- */

START_TEST(random_bounds_and_scales) {
  fixture f;
  fixture_make(&f, "[{'name':'lin','type':'double','min':-2,'max':3},{'name':'lg','type':'double','min':0.0001,"
                   "'max':1,'scale':'log'},{'name':'n','type':'int','min':-3,'max':5,'step':2},"
                   "{'name':'ln','type':'int','min':1,'max':10000,'scale':'log'},{'name':'c','type':'categorical',"
                   "'list':['a','b','c']},{'name':'b','type':'discrete','list':[1,10,100]}]",
               "{'name':'random','seed':11}");
  hpo_suggestions s;
  suggest_ok(&f, 1000, &s);
  ck_assert_uint_eq(s.n, 1000);
  int below_1e2 = 0, ln_below_100 = 0, cats[3] = {0}, disc[3] = {0}, steps[5] = {0};
  double lin_sum = 0;
  for (size_t i = 0; i < s.n; i++) {
    const double *x = s.x + i * 6;
    ck_assert(x[0] >= -2 && x[0] <= 3);
    ck_assert(x[1] >= 0.0001 && x[1] <= 1);
    ck_assert(x[2] >= -3 && x[2] <= 5 && fmod(x[2] + 3, 2) == 0);
    ck_assert(x[3] >= 1 && x[3] <= 10000 && floor(x[3]) == x[3]);
    lin_sum += x[0];
    below_1e2 += x[1] < 0.01;
    ln_below_100 += x[3] < 100;
    steps[(int)(x[2] + 3) / 2]++;
    cats[(int)x[4]]++;
    disc[(int)x[5]]++;
  }
  /* uniform: mean 0.5; log-uniform: half below the geometric middle (a
   * linear draw would put 1% there) */
  ck_assert_msg(fabs(lin_sum / 1000 - 0.5) < 0.15, "mean %g", lin_sum / 1000);
  ck_assert_msg(below_1e2 > 420 && below_1e2 < 580, "%d of 1000 below 1e-2", below_1e2);
  ck_assert_msg(ln_below_100 > 420 && ln_below_100 < 580, "%d of 1000 below 100", ln_below_100);
  for (int k = 0; k < 5; k++) ck_assert_msg(steps[k] > 140 && steps[k] < 260, "step %d: %d", k, steps[k]);
  for (int k = 0; k < 3; k++) ck_assert(cats[k] > 270 && disc[k] > 270);
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* A finite space: every assignment once, then exhausted. */
START_TEST(random_exhausts_finite_space) {
  fixture f;
  fixture_make(&f, "[{'name':'n','type':'int','min':0,'max':4},{'name':'c','type':'categorical','list':['a','b']}]",
               "{'name':'random','seed':3}");
  hpo_suggestions s;
  suggest_ok(&f, 11, &s);
  ck_assert_uint_eq(s.n, 10);
  ck_assert_int_eq(s.exhausted, 1);
  ck_assert_str_eq(s.reason, "every one of the 10 assignments of the space has been tried");
  for (size_t i = 0; i < s.n; i++)
    for (size_t k = 0; k < i; k++) ck_assert(!same_row(s.x + i * 2, s.x + k * 2, 2));
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* The one assignment left of 200, found when random draws keep hitting
 * the others. */
START_TEST(random_finds_the_last_assignment) {
  fixture f;
  fixture_make(&f, "[{'name':'n','type':'int','min':0,'max':199}]", "{'name':'random','seed':1}");
  for (int i = 0; i < 200; i++) {
    double x = i < 137 ? i : i + 1;
    if (x < 200) add_trial(&f, &x, HPO_TRIAL_SUCCEEDED, 1, x);
  }
  hpo_suggestions s;
  suggest_ok(&f, 2, &s);
  ck_assert_uint_eq(s.n, 1);
  ck_assert_double_eq(s.x[0], 137);
  ck_assert_int_eq(s.exhausted, 1);
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* ---- no collisions with pending trials --------------------------------------------------- */

static const char *const small_space =
    "[{'name':'n','type':'int','min':0,'max':3},{'name':'c','type':'categorical','list':['a','b','c']}]";

static const char *const collision_algorithms[] = {
    "{'name':'random','seed':5}",
    "{'name':'grid'}",
    "{'name':'tpe','seed':5,'settings':{'nStartup':3}}",
    "{'name':'bayesian','seed':5,'settings':{'nStartup':3}}",
    "{'name':'cmaes','seed':5,'settings':{'population':20}}",
};

START_TEST(no_collisions_with_pending) {
  fixture f;
  fixture_make(&f, small_space, collision_algorithms[_i]);
  /* 12 assignments: 5 finished, 3 running or pending, 4 free */
  static const double taken[8][2] = {{0, 0}, {1, 1}, {2, 2}, {3, 0}, {0, 1}, {1, 2}, {2, 0}, {3, 1}};
  for (int i = 0; i < 8; i++)
    add_trial(&f, taken[i], i < 5 ? HPO_TRIAL_SUCCEEDED : i == 5 ? HPO_TRIAL_PENDING : HPO_TRIAL_RUNNING, i < 5,
              (double)i);
  hpo_suggestions s;
  suggest_ok(&f, 6, &s);
  ck_assert_msg(s.n == 4, "%s: %zu suggestions (%s)", collision_algorithms[_i], s.n, s.reason);
  for (size_t i = 0; i < s.n; i++) {
    for (int k = 0; k < 8; k++)
      ck_assert_msg(!same_row(s.x + i * 2, taken[k], 2), "%s: suggestion %zu repeats trial %d",
                    collision_algorithms[_i], i, k + 1);
    for (size_t k = 0; k < i; k++) ck_assert(!same_row(s.x + i * 2, s.x + k * 2, 2));
  }
  ck_assert_int_eq(s.exhausted, 1);
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* ---- beating random search on Branin -------------------------------------------------- */

static double branin(const double *x) {
  double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
  double u = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return u * u + 10 * (1 - t) * cos(x[0]) + 10;
}

/* The best value after 'budget' trials run one after the other. */
static double search_branin(const char *algorithm, int budget) {
  fixture f;
  fixture_make(&f, "[{'name':'x1','type':'double','min':-5,'max':10},{'name':'x2','type':'double','min':0,"
                   "'max':15}]",
               algorithm);
  double best = INFINITY;
  for (int k = 0; k < budget; k++) {
    hpo_suggestions s;
    suggest_ok(&f, 1, &s);
    ck_assert_uint_eq(s.n, 1);
    double v = branin(s.x);
    best = fmin(best, v);
    add_trial(&f, s.x, HPO_TRIAL_SUCCEEDED, 1, v);
    hpo_suggestions_free(&s);
  }
  fixture_free(&f);
  return best;
}

static const struct {
  const char *algorithm;
  double within; /* the best after 60 trials is below this */
} model_algorithms[] = {
    {"{'name':'tpe','seed':%d}", 0.6},
    {"{'name':'bayesian','seed':%d}", 0.45},
    {"{'name':'cmaes','seed':%d}", 1.0},
};

START_TEST(models_beat_random_on_branin) {
  /* The same seed for both; the global minimum is 0.397887. */
  char alg[128], rnd[128];
  snprintf(alg, sizeof(alg), model_algorithms[_i].algorithm, 4);
  snprintf(rnd, sizeof(rnd), "{'name':'random','seed':%d}", 4);
  double model = search_branin(alg, 60), random = search_branin(rnd, 60);
  ck_assert_msg(model < random, "%s: %g, random: %g", alg, model, random);
  ck_assert_msg(model < model_algorithms[_i].within, "%s: best %g after 60 trials", alg, model);
}
END_TEST

/* ---- determinism and statelessness ------------------------------------------------------- */

static const char *const all_algorithms[] = {
    "{'name':'random','seed':9}",
    "{'name':'grid','settings':{'gridPoints':4}}",
    "{'name':'tpe','seed':9}",
    "{'name':'tpe','seed':9,'settings':{'multivariate':false}}",
    "{'name':'bayesian','seed':9}",
    "{'name':'bayesian','seed':9,'settings':{'kernel':'rbf'}}",
    "{'name':'bayesian','seed':9,'settings':{'maxPoints':10}}", /* fitted on the best 5 and the newest 5 */
    "{'name':'cmaes','seed':9,'settings':{'population':6}}",
    "{'name':'hyperband','seed':9,'settings':{'resourceName':'epochs'}}",
};

static const char *const mixed_space =
    "[{'name':'x','type':'double','min':-1,'max':2},{'name':'n','type':'int','min':1,'max':64,'scale':'log'},"
    "{'name':'c','type':'categorical','list':['a','b','c']},{'name':'epochs','type':'int','min':1,'max':9}]";

static double mixed_value(const double *x) {
  return (x[0] - 0.7) * (x[0] - 0.7) + fabs(log2(x[1]) - 3) / 4 + (x[2] == 1 ? 0 : 0.5) + 1 / x[3];
}

/* 12 finished trials from random search (rung 0 of Hyperband's first
 * bracket, a CMA-ES generation and a bit), so every model is past its
 * start-up. */
static void seed_trials(fixture *f) {
  fixture r;
  fixture_make(&r, mixed_space, "{'name':'random','seed':1}");
  hpo_suggestions s;
  suggest_ok(&r, 12, &s);
  for (size_t i = 0; i < s.n; i++) {
    const double *x = s.x + i * 4;
    add_trial(f, x, i == 3 ? HPO_TRIAL_FAILED : HPO_TRIAL_SUCCEEDED, i != 3, mixed_value(x));
  }
  hpo_suggestions_free(&s);
  fixture_free(&r);
}

START_TEST(deterministic_and_stateless) {
  fixture f;
  fixture_make(&f, mixed_space, all_algorithms[_i]);
  if (f.alg.kind != HPO_HYPERBAND && f.alg.kind != HPO_GRID) seed_trials(&f);
  hpo_suggestions one, again;
  suggest_ok(&f, 3, &one);
  suggest_ok(&f, 3, &again);
  ck_assert_uint_eq(one.n, 3);
  ck_assert_uint_eq(again.n, one.n);
  ck_assert_mem_eq(one.x, again.x, one.n * 4 * sizeof(double));
  ck_assert_mem_eq(one.numbers, again.numbers, one.n * sizeof(int64_t));
  /* A manager that created the first suggestion as a trial and restarted
   * asks again: the rest comes out the same. */
  for (size_t i = 0; i < one.n; i++) {
    hpo_suggestions step;
    suggest_ok(&f, 1, &step);
    ck_assert_uint_eq(step.n, 1);
    ck_assert_int_eq(step.numbers[0], one.numbers[i]);
    ck_assert_msg(same_row(step.x, one.x + i * 4, 4), "%s: suggestion %zu differs when made alone",
                  all_algorithms[_i], i);
    add_trial(&f, step.x, HPO_TRIAL_PENDING, 0, 0);
    hpo_suggestions_free(&step);
  }
  /* Another seed gives other suggestions (except grid, which has none). */
  if (f.alg.kind != HPO_GRID) {
    for (size_t i = 0; i < one.n; i++) pop_trial(&f);
    f.alg.seed = 10;
    hpo_suggestions other;
    suggest_ok(&f, 3, &other);
    ck_assert(!same_row(other.x, one.x, 4));
    hpo_suggestions_free(&other);
  }
  hpo_suggestions_free(&one);
  hpo_suggestions_free(&again);
  fixture_free(&f);
}
END_TEST

/* ---- CMA-ES generations ------------------------------------------------------------------ */

START_TEST(cmaes_waits_for_its_generation) {
  fixture f;
  fixture_make(&f, "[{'name':'a','type':'double','min':0,'max':1},{'name':'b','type':'double','min':0,'max':1}]",
               "{'name':'cmaes','seed':2,'settings':{'population':4}}");
  hpo_suggestions s;
  suggest_ok(&f, 10, &s);
  ck_assert_uint_eq(s.n, 4);
  ck_assert_int_eq(s.exhausted, 0);
  ck_assert_str_eq(s.reason, "waiting for generation 1 of cmaes to finish (4 of its 4 trials still running)");
  for (size_t i = 0; i < 4; i++) add_trial(&f, s.x + i * 2, HPO_TRIAL_RUNNING, 0, 0);
  hpo_suggestions_free(&s);
  for (size_t i = 0; i < 3; i++) {
    f.trials.items[i].state = HPO_TRIAL_SUCCEEDED;
    f.trials.items[i].has_value = 1;
    f.trials.items[i].value = (f.trials.items[i].x[0] - 0.2) * (f.trials.items[i].x[0] - 0.2);
  }
  suggest_ok(&f, 1, &s);
  ck_assert_uint_eq(s.n, 0);
  ck_assert_str_eq(s.reason, "waiting for generation 1 of cmaes to finish (1 of its 4 trials still running)");
  hpo_suggestions_free(&s);
  f.trials.items[3].state = HPO_TRIAL_FAILED; /* ranks last */
  suggest_ok(&f, 10, &s);
  ck_assert_uint_eq(s.n, 4);
  ck_assert_str_eq(s.reason, "waiting for generation 2 of cmaes to finish (4 of its 4 trials still running)");
  for (size_t i = 0; i < 4; i++) ck_assert(s.x[i * 2] >= 0 && s.x[i * 2] <= 1);
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* ---- Hyperband --------------------------------------------------------------------------- */

/* epochs 1..27, eta 3: the brackets' rungs as (trials, epochs). */
static const struct {
  int count;
  double epochs;
} hyperband_rungs[] = {
    {27, 1}, {9, 3}, {3, 9}, {1, 27},  /* bracket 3 */
    {12, 3}, {4, 9}, {1, 27},          /* bracket 2 */
    {6, 9},  {2, 27},                  /* bracket 1 */
    {4, 27},                           /* bracket 0 */
    {27, 1},                           /* and again */
};

static double hb_value(const double *x) { return fabs(x[0] - 0.3) + 1.0 / x[1]; }

/* Calls with a large count, finishing what each returns, until the
 * schedule above has been filled: each call stops where a promoted rung
 * must wait for the one before (a new bracket's first rung need not), the
 * slots are filled in order with their resource, and a promoted rung
 * holds the best of the rung before, best first (a failed trial never). */
START_TEST(hyperband_brackets_and_rungs) {
  fixture f;
  fixture_make(&f, "[{'name':'x','type':'double','min':0,'max':1},{'name':'epochs','type':'int','min':1,'max':27}]",
               "{'name':'hyperband','seed':3,'settings':{'resourceName':'epochs','eta':3}}");
  size_t total = 0;
  for (int r = 0; r < N(hyperband_rungs); r++) total += (size_t)hyperband_rungs[r].count;
  int calls = 0;
  while (f.trials.n < total) {
    hpo_suggestions s;
    suggest_ok(&f, 100, &s);
    ck_assert_msg(s.n > 0, "after %zu trials: %s", f.trials.n, s.reason);
    ck_assert_msg(strstr(s.reason, "waiting for rung") == s.reason, "%s", s.reason);
    for (size_t i = 0; i < s.n; i++) {
      hpo_trial *t = add_trial(&f, s.x + i * 2, HPO_TRIAL_SUCCEEDED, 1, hb_value(s.x + i * 2));
      if (t->number == 6) { /* in the first rung */
        t->state = HPO_TRIAL_FAILED;
        t->has_value = 0;
      }
    }
    hpo_suggestions_free(&s);
    calls++;
  }
  /* 27@1 | 9@3 | 3@9 | 1@27 12@3 | 4@9 | 1@27 6@9 | 2@27 4@27 27@1: a new
   * bracket starts without waiting for the last rung of the one before */
  ck_assert_int_eq(calls, 7);
  size_t start = 0, prev = 0;
  for (int r = 0; r < N(hyperband_rungs); r++) {
    size_t count = (size_t)hyperband_rungs[r].count;
    for (size_t i = start; i < start + count; i++)
      ck_assert_msg(f.trials.items[i].x[1] == hyperband_rungs[r].epochs, "rung %d, trial %zu: %g epochs", r, i + 1,
                    f.trials.items[i].x[1]);
    int promoted = r > 0 && hyperband_rungs[r].epochs > hyperband_rungs[r - 1].epochs;
    for (size_t i = 0; promoted && i < count; i++) {
      const hpo_trial *t = &f.trials.items[start + i];
      const hpo_trial *from = NULL;
      for (size_t k = prev; k < start; k++)
        if (f.trials.items[k].x[0] == t->x[0]) from = &f.trials.items[k];
      ck_assert_msg(from != NULL && from->state == HPO_TRIAL_SUCCEEDED, "rung %d: trial %zu is no promotion", r,
                    start + i + 1);
      int better = 0;
      for (size_t k = prev; k < start; k++)
        better += f.trials.items[k].state == HPO_TRIAL_SUCCEEDED && f.trials.items[k].value < from->value;
      ck_assert_msg(better == (int)i, "rung %d: promoted %zu has %d better", r, i, better);
    }
    prev = start;
    start += count;
  }
  fixture_free(&f);
}
END_TEST

START_TEST(hyperband_waits_for_running) {
  fixture f;
  fixture_make(&f, "[{'name':'x','type':'double','min':0,'max':1},{'name':'epochs','type':'int','min':1,'max':9}]",
               "{'name':'hyperband','seed':3,'settings':{'resourceName':'epochs','eta':3}}");
  hpo_suggestions s;
  suggest_ok(&f, 4, &s); /* bracket 2: 9 at 1 epoch */
  ck_assert_uint_eq(s.n, 4);
  ck_assert_str_eq(s.reason, "");
  for (size_t i = 0; i < s.n; i++) add_trial(&f, s.x + i * 2, HPO_TRIAL_RUNNING, 0, 0);
  hpo_suggestions_free(&s);
  suggest_ok(&f, 10, &s);
  ck_assert_uint_eq(s.n, 5);
  ck_assert_str_eq(s.reason, "waiting for rung 1 of hyperband's bracket 2 to finish (9 of its 9 trials still running)");
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* ---- medianstop ----------------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *type;       /* minimize | maximize */
  int min_trials;
  int64_t start_step;
  const char *trials;     /* trial records (space: one int x) */
  const char *stopped;    /* names of the trials to stop, comma-separated */
} medianstop_case;

#define DONE(n, v1, v2, v3)                                                                                           \
  "{'name':'" n "','state':'Succeeded','parameters':{'x':1},'observations':[{'step':1,'value':" #v1 "},{'step':2,"  \
  "'value':" #v2 "},{'step':3,'value':" #v3 "}]}"

static const medianstop_case medianstop_cases[] = {
    /* succeeded averages by step 2: a 0.55, b 0.5, c 0.7 -> median 0.55 */
    {"worse than the median", "minimize", 3, 2,
     "[" DONE("a", 0.6, 0.5, 0.4) "," DONE("b", 0.5, 0.5, 0.5) "," DONE("c", 0.8, 0.6, 0.3) ","
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.9},{'step':2,'value':0.7}]},"
     "{'name':'r2','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.9},{'step':2,'value':0.5}]}]",
     "r1"},
    {"equal to the median continues", "minimize", 3, 2,
     "[" DONE("a", 0.6, 0.5, 0.4) "," DONE("b", 0.5, 0.5, 0.5) "," DONE("c", 0.8, 0.6, 0.3) ","
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.55},{'step':2,'value':0.9}]}]",
     ""},
    {"before startStep", "minimize", 3, 3,
     "[" DONE("a", 0.6, 0.5, 0.4) "," DONE("b", 0.5, 0.5, 0.5) "," DONE("c", 0.8, 0.6, 0.3) ","
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.9},{'step':2,'value':0.9}]}]",
     ""},
    {"fewer than minTrials", "minimize", 4, 1,
     "[" DONE("a", 0.6, 0.5, 0.4) "," DONE("b", 0.5, 0.5, 0.5) "," DONE("c", 0.8, 0.6, 0.3) ","
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.9},{'step':2,'value':0.9}]}]",
     ""},
    {"failed and running trials are no reference", "minimize", 2, 1,
     "[" DONE("a", 0.6, 0.5, 0.4) ","
     "{'name':'f','state':'Failed','parameters':{'x':1},'observations':[{'step':1,'value':0.1}]},"
     "{'name':'r0','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.1}]},"
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.9}]}]",
     ""},
    /* by step 1 the references are a 0.6 and late 0.2 (its step-3 value
     * not yet): median 0.4 */
    {"only values up to the step count", "minimize", 2, 1,
     "[" DONE("a", 0.6, 0.5, 0.4) ","
     "{'name':'late','state':'Succeeded','parameters':{'x':1},'observations':[{'step':1,'value':0.2},{'step':3,'value':5}]},"
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.45}]},"
     "{'name':'r2','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.35}]}]",
     "r1"},
    {"maximize: lower is worse", "maximize", 3, 2,
     "[" DONE("a", 0.6, 0.5, 0.4) "," DONE("b", 0.5, 0.5, 0.5) "," DONE("c", 0.8, 0.6, 0.3) ","
     "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.3},{'step':2,'value':0.5}]},"
     "{'name':'r2','state':'Running','parameters':{'x':1},'observations':[{'step':1,'value':0.9},{'step':2,'value':0.1}]},"
     "{'name':'r3','state':'Pending','parameters':{'x':1}}]",
     "r1"},
};

START_TEST(medianstop_decisions) {
  const medianstop_case *c = &medianstop_cases[_i];
  json_t *sj = J("[{'name':'x','type':'int','min':0,'max':3}]"), *tj = J(c->trials);
  char objective[128];
  snprintf(objective, sizeof(objective), "{'metric':'loss','type':'%s'}", c->type);
  json_t *oj = J(objective);
  hpo_space s;
  hpo_objective o;
  hpo_trials t;
  char err[256] = "";
  ck_assert_int_eq(hpo_space_parse(sj, "parameters", &s, err, sizeof(err)), 0);
  ck_assert_int_eq(hpo_objective_parse(oj, "objective", &o, err, sizeof(err)), 0);
  ck_assert_msg(hpo_trials_parse(tj, &s, &o, "trials", &t, err, sizeof(err)) == 0, "%s: %s", c->name, err);
  hpo_early_stopping es = {HPO_ES_MEDIANSTOP, c->min_trials, c->start_step};
  hpo_stops stops;
  hpo_early_stop(&o, &es, &t, &stops);
  char names[256] = "";
  for (size_t i = 0; i < stops.n; i++) {
    size_t len = strlen(names);
    snprintf(names + len, sizeof(names) - len, "%s%s", len ? "," : "", t.items[stops.items[i].trial].name);
    ck_assert(strstr(stops.items[i].reason, "medianstop: best loss") == stops.items[i].reason);
  }
  ck_assert_msg(strcmp(names, c->stopped) == 0, "%s: stopped \"%s\", want \"%s\"", c->name, names, c->stopped);
  hpo_stops_free(&stops);
  es.kind = HPO_ES_NONE;
  hpo_early_stop(&o, &es, &t, &stops);
  ck_assert_uint_eq(stops.n, 0);
  hpo_trials_free(&t);
  hpo_space_free(&s);
  json_decref(sj);
  json_decref(tj);
  json_decref(oj);
}
END_TEST

START_TEST(medianstop_reason) {
  json_t *sj = J("[{'name':'x','type':'int','min':0,'max':3}]");
  json_t *tj = J("[" DONE("a", 0.6, 0.5, 0.4) "," DONE("b", 0.5, 0.5, 0.5) "," DONE("c", 0.8, 0.6, 0.3) ","
                 "{'name':'r1','state':'Running','parameters':{'x':1},'observations':[{'step':2,'value':0.7}]}]");
  json_t *oj = J("{'metric':'loss','type':'minimize'}");
  hpo_space s;
  hpo_objective o;
  hpo_trials t;
  ck_assert_int_eq(hpo_space_parse(sj, "parameters", &s, NULL, 0), 0);
  ck_assert_int_eq(hpo_objective_parse(oj, "objective", &o, NULL, 0), 0);
  ck_assert_int_eq(hpo_trials_parse(tj, &s, &o, "trials", &t, NULL, 0), 0);
  hpo_early_stopping es = {HPO_ES_MEDIANSTOP, 3, 2};
  hpo_stops stops;
  hpo_early_stop(&o, &es, &t, &stops);
  ck_assert_uint_eq(stops.n, 1);
  ck_assert_uint_eq(stops.items[0].trial, 3);
  ck_assert_str_eq(stops.items[0].reason, "medianstop: best loss 0.7 by step 2 is worse than the median 0.55 of 3 "
                                          "succeeded trials' running averages");
  hpo_stops_free(&stops);
  hpo_trials_free(&t);
  hpo_space_free(&s);
  json_decref(sj);
  json_decref(tj);
  json_decref(oj);
}
END_TEST

/* ---- arguments hpo_suggest refuses -------------------------------------------------------- */

START_TEST(suggest_refuses_inconsistent) {
  fixture f;
  fixture_make(&f, small_space, "{'name':'random'}");
  double x[2] = {0, 0};
  add_trial(&f, x, HPO_TRIAL_RUNNING, 0, 0);
  x[0] = 1;
  add_trial(&f, x, HPO_TRIAL_RUNNING, 0, 0);
  f.trials.items[1].number = 1;
  hpo_suggestions s;
  char err[256];
  ck_assert_int_eq(hpo_suggest(&f.space, &f.obj, &f.alg, &f.trials, 1, &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "trials are not sorted by number");
  hpo_suggestions_free(&s);
  f.trials.items[1].number = 2;
  f.alg.kind = HPO_HYPERBAND;
  f.alg.hyperband.resource_index = 7;
  ck_assert_int_eq(hpo_suggest(&f.space, &f.obj, &f.alg, &f.trials, 1, &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "hyperband's resource is not a parameter of this space");
  hpo_suggestions_free(&s);
  f.alg.kind = HPO_RANDOM;
  suggest_ok(&f, 0, &s);
  ck_assert_uint_eq(s.n, 0);
  hpo_suggestions_free(&s);
  fixture_free(&f);
}
END_TEST

/* ---- numerics ------------------------------------------------------------------------- */

START_TEST(cholesky_and_solves) {
  /* A = L L^T with L = [[2,0,0],[1,3,0],[-1,2,1]] */
  double a[9] = {4, 2, -2, 2, 10, 5, -2, 5, 6};
  ck_assert_int_eq(hpo__cholesky(a, 3), 0);
  static const double l[9] = {2, 0, 0, 1, 3, 0, -1, 2, 1};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j <= i; j++) ck_assert_double_eq_tol(a[i * 3 + j], l[i * 3 + j], 1e-12);
  double b[3] = {2, 7, 2}; /* L y = b: y = (1, 2, -1) */
  hpo__solve_lower(a, 3, b);
  ck_assert_double_eq_tol(b[0], 1, 1e-12);
  ck_assert_double_eq_tol(b[1], 2, 1e-12);
  ck_assert_double_eq_tol(b[2], -1, 1e-12);
  double c[3] = {2, 7, 1}; /* L^T z = c: z = (-0.5, 1.666..., 1) */
  hpo__solve_upper(a, 3, c);
  ck_assert_double_eq_tol(c[2], 1, 1e-12);
  ck_assert_double_eq_tol(c[1], 5.0 / 3.0, 1e-12);
  ck_assert_double_eq_tol(c[0], (2 - 5.0 / 3.0 + 1) / 2, 1e-12);
  double bad[4] = {1, 2, 2, 1}; /* indefinite */
  ck_assert_int_eq(hpo__cholesky(bad, 2), -1);
}
END_TEST

START_TEST(jacobi_eigen) {
  double a[9] = {4, 1, 2, 1, 3, 0, 2, 0, 5}, copy[9], w[3], v[9];
  memcpy(copy, a, sizeof(a));
  hpo__eigen_sym(a, 3, w, v);
  /* A v_k = w_k v_k, and the eigenvectors are orthonormal */
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 3; i++) {
      double av = 0;
      for (int j = 0; j < 3; j++) av += copy[i * 3 + j] * v[j * 3 + k];
      ck_assert_double_eq_tol(av, w[k] * v[i * 3 + k], 1e-10);
    }
  for (int p = 0; p < 3; p++)
    for (int q = 0; q < 3; q++) {
      double dot = 0;
      for (int i = 0; i < 3; i++) dot += v[i * 3 + p] * v[i * 3 + q];
      ck_assert_double_eq_tol(dot, p == q, 1e-10);
    }
  ck_assert_double_eq_tol(w[0] + w[1] + w[2], 12, 1e-10);
}
END_TEST

START_TEST(rng_streams) {
  hpo__rng a, b, c;
  hpo__rng_init(&a, 1, 7, HPO__USE_RANDOM);
  hpo__rng_init(&b, 1, 7, HPO__USE_RANDOM);
  hpo__rng_init(&c, 1, 8, HPO__USE_RANDOM);
  uint64_t x = hpo__rng_u64(&a);
  ck_assert(x == hpo__rng_u64(&b));
  ck_assert(x != hpo__rng_u64(&c));
  double sum = 0, sq = 0;
  for (int i = 0; i < 20000; i++) {
    double u = hpo__rng_uniform(&a), z = hpo__rng_normal(&b);
    ck_assert(u >= 0 && u < 1);
    sum += z;
    sq += z * z;
  }
  ck_assert_double_eq_tol(sum / 20000, 0, 0.05);
  ck_assert_double_eq_tol(sq / 20000, 1, 0.05);
  ck_assert_double_eq_tol(hpo__Phi(0), 0.5, 1e-15);
  ck_assert_double_eq_tol(hpo__Phi(1.959963985), 0.975, 1e-9);
  ck_assert_double_eq_tol(hpo__phi(0), 1 / sqrt(2 * M_PI), 1e-15);
}
END_TEST

int main(void) {
  Suite *s = suite_create("suggest");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, grid_covers_exactly);
  tcase_add_test(tc, grid_skips_trials);
  tcase_add_test(tc, random_bounds_and_scales);
  tcase_add_test(tc, random_exhausts_finite_space);
  tcase_add_test(tc, random_finds_the_last_assignment);
  tcase_add_loop_test(tc, no_collisions_with_pending, 0, N(collision_algorithms));
  tcase_add_loop_test(tc, models_beat_random_on_branin, 0, N(model_algorithms));
  tcase_add_loop_test(tc, deterministic_and_stateless, 0, N(all_algorithms));
  tcase_add_test(tc, cmaes_waits_for_its_generation);
  tcase_add_test(tc, hyperband_brackets_and_rungs);
  tcase_add_test(tc, hyperband_waits_for_running);
  tcase_add_loop_test(tc, medianstop_decisions, 0, N(medianstop_cases));
  tcase_add_test(tc, medianstop_reason);
  tcase_add_test(tc, suggest_refuses_inconsistent);
  tcase_add_test(tc, cholesky_and_solves);
  tcase_add_test(tc, jacobi_eigen);
  tcase_add_test(tc, rng_streams);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
