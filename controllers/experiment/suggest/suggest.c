/* hpo_suggest: what every algorithm needs prepared from the trials (the
 * scored ones with their losses, the busy ones, a set of every assignment
 * seen), the dispatch, and the numbering of what they suggest. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

/* FNV-1a over the assignment's bits; -0.0 and 0.0 are one value. */
static uint64_t hash_row(const double *x, size_t d) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < d; i++) {
    double v = x[i] == 0 ? 0 : x[i];
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    for (int b = 0; b < 8; b++) {
      h ^= (bits >> (8 * b)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

static int same_row(const double *a, const double *b, size_t d) {
  for (size_t i = 0; i < d; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

int hpo__seen(const hpo__ctx *c, const double *x) {
  uint64_t h = hash_row(x, c->d);
  for (size_t i = h & (c->seen_cap - 1);; i = (i + 1) & (c->seen_cap - 1)) {
    if (c->seen_row[i] == 0) return 0;
    if (c->seen_hash[i] == h && same_row(c->seen_rows[c->seen_row[i] - 1], x, c->d)) return 1;
  }
}

/* Remembers row (which must stay where it is until the call ends). */
static void seen_add(hpo__ctx *c, const double *row) {
  if (hpo__seen(c, row)) return;
  uint64_t h = hash_row(row, c->d);
  size_t i = h & (c->seen_cap - 1);
  while (c->seen_row[i] != 0) i = (i + 1) & (c->seen_cap - 1);
  c->seen_rows[c->nseen++] = row;
  c->seen_hash[i] = h;
  c->seen_row[i] = c->nseen;
}

int64_t hpo__next_number(const hpo__ctx *c) {
  int64_t last = c->trials->n ? c->trials->items[c->trials->n - 1].number : 0;
  return last + 1 + (int64_t)c->out->n;
}

void hpo__emit(hpo__ctx *c, const double *x) {
  hpo_suggestions *o = c->out;
  double *row = o->x + o->n * c->d;
  for (size_t i = 0; i < c->d; i++) row[i] = hpo_param_snap(&c->space->params[i], x[i]);
  o->numbers[o->n] = hpo__next_number(c);
  o->n++;
  memcpy(c->busy + c->nbusy * c->d, row, c->d * sizeof(double));
  c->nbusy++;
  seen_add(c, row);
}

void hpo__stop(hpo__ctx *c, int exhausted, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->out->reason, sizeof(c->out->reason), fmt, ap);
  va_end(ap);
  c->out->exhausted = exhausted;
}

/* The index-th assignment of a finite space in mixed radix, the last
 * parameter varying fastest. */
static void nth_assignment(const hpo_space *s, uint64_t index, double *x) {
  for (size_t i = s->n; i-- > 0;) {
    const hpo_param *p = &s->params[i];
    uint64_t k = hpo_param_size(p);
    uint64_t digit = index % k;
    index /= k;
    x[i] = p->type == HPO_CATEGORICAL || p->type == HPO_DISCRETE ? (double)digit
                                                                  : hpo_param_snap(p, p->min + (double)digit * p->step);
  }
}

int hpo__random_unseen(const hpo__ctx *c, uint64_t number, double *x) {
  hpo__rng r;
  hpo__rng_init(&r, c->alg->seed, number, HPO__USE_RANDOM);
  for (int attempt = 0; attempt < 64; attempt++) {
    for (size_t i = 0; i < c->d; i++) x[i] = hpo__sample(&c->space->params[i], &r);
    if (!hpo__seen(c, x)) return 1;
  }
  /* Mostly covered: only a finite space gets here (a continuous
   * coordinate does not repeat). Walk the points from a random start. */
  uint64_t size = hpo_space_size(c->space);
  if (size == 0 || size <= c->nseen) return 0;
  hpo__rng_init(&r, c->alg->seed, number, HPO__USE_FALLBACK);
  uint64_t start = hpo__rng_u64(&r) % size;
  for (uint64_t k = 0; k < size; k++) {
    nth_assignment(c->space, (start + k) % size, x);
    if (!hpo__seen(c, x)) return 1;
  }
  return 0;
}

int hpo_suggest(const hpo_space *space, const hpo_objective *obj, const hpo_algorithm *alg,
                const hpo_trials *trials, size_t count, hpo_suggestions *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (space->n == 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "the search space is empty");
  if (alg->kind == HPO_HYPERBAND &&
      (alg->hyperband.resource_index < 0 || (size_t)alg->hyperband.resource_index >= space->n))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "hyperband's resource is not a parameter of this space");
  for (size_t i = 1; i < trials->n; i++)
    if (trials->items[i].number <= trials->items[i - 1].number)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "trials are not sorted by number");
  size_t d = space->n;
  out->x = xcalloc(count * d + 1, sizeof(double));
  out->numbers = xcalloc(count + 1, sizeof(int64_t));
  if (count == 0) return 0;

  hpo__ctx c = {.space = space, .obj = obj, .alg = alg, .trials = trials, .d = d, .want = count, .out = out};
  c.dims = xcalloc(d, sizeof(hpo__dim));
  for (size_t i = 0; i < d; i++) hpo__dim_of(&space->params[i], &c.dims[i]);
  c.done = xcalloc(trials->n + 1, sizeof(*c.done));
  c.loss = xcalloc(trials->n + 1, sizeof(double));
  c.busy = xcalloc((trials->n + count) * d + 1, sizeof(double));
  c.seen_cap = 16;
  while (c.seen_cap < 2 * (trials->n + count)) c.seen_cap *= 2;
  c.seen_hash = xcalloc(c.seen_cap, sizeof(uint64_t));
  c.seen_row = xcalloc(c.seen_cap, sizeof(size_t));
  c.seen_rows = xcalloc(trials->n + count, sizeof(double *));
  for (size_t i = 0; i < trials->n; i++) {
    const hpo_trial *t = &trials->items[i];
    seen_add(&c, t->x);
    if (hpo_trial_scored(t)) {
      c.done[c.ndone] = t;
      c.loss[c.ndone++] = hpo_loss(obj, t->value);
    } else if (!hpo_trial_finished(t)) {
      memcpy(c.busy + c.nbusy * d, t->x, d * sizeof(double));
      c.nbusy++;
    }
  }

  switch (alg->kind) {
  case HPO_RANDOM:
    hpo__random(&c);
    break;
  case HPO_GRID:
    hpo__grid(&c);
    break;
  case HPO_TPE:
    hpo__tpe(&c);
    break;
  case HPO_BAYESIAN:
    hpo__gp(&c);
    break;
  case HPO_CMAES:
    hpo__cmaes(&c);
    break;
  case HPO_HYPERBAND:
    hpo__hyperband(&c);
    break;
  }

  free(c.dims);
  free(c.done);
  free(c.loss);
  free(c.busy);
  free(c.seen_hash);
  free(c.seen_row);
  free(c.seen_rows);
  return 0;
}

void hpo_suggestions_free(hpo_suggestions *s) {
  free(s->x);
  free(s->numbers);
  memset(s, 0, sizeof(*s));
}
