/* CMA-ES (Hansen's tutorial, "The CMA Evolution Strategy", 2016) on the
 * int, double and discrete parameters, each on the unit interval (a log
 * scale in its logarithm, an ordinal at its bin's centre). Categorical
 * parameters are drawn uniformly for each candidate.
 *
 * No state is kept: the trials, in number order, are cut into generations
 * of lambda; the mean, step size, paths and covariance are replayed from
 * the start, one update per complete generation, from the assignments
 * the trials really ran (so a trial made by hand, or rounded to an
 * integer, teaches what it tried). A failed trial ranks last. The next
 * generation is sampled only once the one before it has finished: until
 * then hpo_suggest says it waits. When the step size collapses (every
 * candidate the same point), the search restarts from a new mean. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

typedef struct cma {
  size_t n;         /* numeric dimensions */
  size_t *axis;     /* n: their parameter indices */
  size_t lambda, mu;
  double *w;        /* mu recombination weights */
  double mueff, cs, ds, cc, c1, cmu, chin;
  /* state */
  double *m, sigma, *pc, *ps, *C, *B, *D; /* B: eigenvectors in columns; D: sqrt of eigenvalues */
  int64_t updates;  /* generations since the last (re)start */
} cma;

static void cma_reset(cma *s, const hpo__ctx *c, uint64_t restart) {
  size_t n = s->n;
  if (restart == 0) {
    for (size_t i = 0; i < n; i++) s->m[i] = 0.5;
  } else {
    hpo__rng r;
    hpo__rng_init(&r, c->alg->seed, restart, HPO__USE_CMAES_START);
    for (size_t i = 0; i < n; i++) s->m[i] = 0.1 + 0.8 * hpo__rng_uniform(&r);
  }
  s->sigma = c->alg->cmaes.sigma;
  memset(s->pc, 0, n * sizeof(double));
  memset(s->ps, 0, n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      s->C[i * n + j] = i == j;
      s->B[i * n + j] = i == j;
    }
  for (size_t i = 0; i < n; i++) s->D[i] = 1;
  s->updates = 0;
}

static void cma_init(cma *s, const hpo__ctx *c) {
  size_t n = 0;
  s->axis = xcalloc(c->d, sizeof(size_t));
  for (size_t k = 0; k < c->d; k++)
    if (c->dims[k].kind != HPO__CAT) s->axis[n++] = k;
  s->n = n;
  s->lambda = c->alg->cmaes.population > 0 ? (size_t)c->alg->cmaes.population
                                           : 4 + (size_t)floor(3 * log((double)n));
  s->mu = s->lambda / 2;
  if (s->mu < 1) s->mu = 1;
  s->w = xcalloc(s->mu, sizeof(double));
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < s->mu; i++) {
    s->w[i] = log((double)s->lambda / 2.0 + 0.5) - log((double)i + 1);
    if (s->w[i] <= 0) s->w[i] = 1e-3; /* a population of 2 or 3 */
    sum += s->w[i];
  }
  for (size_t i = 0; i < s->mu; i++) {
    s->w[i] /= sum;
    sum2 += s->w[i] * s->w[i];
  }
  double N = (double)n;
  s->mueff = 1.0 / sum2;
  s->cs = (s->mueff + 2) / (N + s->mueff + 5);
  s->ds = 1 + 2 * fmax(0, sqrt((s->mueff - 1) / (N + 1)) - 1) + s->cs;
  s->cc = (4 + s->mueff / N) / (N + 4 + 2 * s->mueff / N);
  s->c1 = 2 / ((N + 1.3) * (N + 1.3) + s->mueff);
  s->cmu = fmin(1 - s->c1, 2 * (s->mueff - 2 + 1 / s->mueff) / ((N + 2) * (N + 2) + s->mueff));
  s->chin = sqrt(N) * (1 - 1 / (4 * N) + 1 / (21 * N * N));
  s->m = xcalloc(n, sizeof(double));
  s->pc = xcalloc(n, sizeof(double));
  s->ps = xcalloc(n, sizeof(double));
  s->C = xcalloc(n * n, sizeof(double));
  s->B = xcalloc(n * n, sizeof(double));
  s->D = xcalloc(n, sizeof(double));
  cma_reset(s, c, 0);
}

static void cma_free(cma *s) {
  free(s->axis);
  free(s->w);
  free(s->m);
  free(s->pc);
  free(s->ps);
  free(s->C);
  free(s->B);
  free(s->D);
}

typedef struct member {
  double loss;  /* +inf: failed */
  int64_t number;
  const double *x;
} member;

static int by_loss(const void *a, const void *b) {
  const member *x = a, *y = b;
  if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
  return (x->number > y->number) - (x->number < y->number);
}

static void decompose(cma *s) {
  size_t n = s->n;
  double *a = xcalloc(n * n, sizeof(double));
  memcpy(a, s->C, n * n * sizeof(double));
  hpo__eigen_sym(a, n, s->D, s->B);
  for (size_t i = 0; i < n; i++) s->D[i] = sqrt(fmax(s->D[i], 1e-20));
  free(a);
}

/* One generation's update from its members sorted by loss. */
static void cma_update(cma *s, const hpo__ctx *c, member *gen, size_t count) {
  size_t n = s->n;
  qsort(gen, count, sizeof(member), by_loss);
  /* Failed members sort last and never pull the mean. */
  size_t mu = 0;
  while (mu < s->mu && mu < count && isfinite(gen[mu].loss)) mu++;
  double *y = xcalloc(mu * n, sizeof(double)), *yw = xcalloc(n, sizeof(double)), *t = xcalloc(n, sizeof(double));
  double wsum = 0;
  for (size_t i = 0; i < mu; i++) wsum += s->w[i];
  for (size_t i = 0; i < mu; i++)
    for (size_t j = 0; j < n; j++) {
      size_t k = s->axis[j];
      y[i * n + j] = (hpo__to_unit(&c->space->params[k], &c->dims[k], gen[i].x[k]) - s->m[j]) / s->sigma;
      yw[j] += s->w[i] / wsum * y[i * n + j];
    }
  for (size_t j = 0; j < n; j++) s->m[j] = fmin(fmax(s->m[j] + s->sigma * yw[j], 0), 1);
  /* C^-1/2 yw = B D^-1 B^T yw */
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++) v += s->B[j * n + i] * yw[j];
    t[i] = v / s->D[i];
  }
  double psn = 0;
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++) v += s->B[i * n + j] * t[j];
    s->ps[i] = (1 - s->cs) * s->ps[i] + sqrt(s->cs * (2 - s->cs) * s->mueff) * v;
    psn += s->ps[i] * s->ps[i];
  }
  psn = sqrt(psn);
  s->updates++;
  double hs_lhs = psn / sqrt(1 - pow(1 - s->cs, 2.0 * (double)s->updates));
  int hs = hs_lhs < (1.4 + 2 / ((double)n + 1)) * s->chin;
  for (size_t i = 0; i < n; i++)
    s->pc[i] = (1 - s->cc) * s->pc[i] + (hs ? sqrt(s->cc * (2 - s->cc) * s->mueff) * yw[i] : 0);
  double keep = 1 - s->c1 - s->cmu + (hs ? 0 : s->c1 * s->cc * (2 - s->cc));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j <= i; j++) {
      double rank_mu = 0;
      for (size_t q = 0; q < mu; q++) rank_mu += s->w[q] / wsum * y[q * n + i] * y[q * n + j];
      double v = keep * s->C[i * n + j] + s->c1 * s->pc[i] * s->pc[j] + s->cmu * rank_mu;
      s->C[i * n + j] = s->C[j * n + i] = v;
    }
  s->sigma *= exp((s->cs / s->ds) * (psn / s->chin - 1));
  if (s->sigma > 1) s->sigma = 1;
  decompose(s);
  free(y);
  free(yw);
  free(t);
}

/* Draws member j of the generation numbered g into x: numeric dimensions
 * from N(m, sigma^2 C), resampled until inside the unit cube (then
 * clipped), categories uniform; again while the assignment was seen. */
static void cma_sample(const cma *s, const hpo__ctx *c, uint64_t g, size_t j, double *x) {
  hpo__rng r;
  hpo__rng_init(&r, c->alg->seed, g * 100003u + j, HPO__USE_CMAES);
  size_t n = s->n;
  double *z = xcalloc(n, sizeof(double)), *u = xcalloc(n, sizeof(double));
  for (int attempt = 0; attempt < 32; attempt++) {
    for (int tries = 0; tries < 16; tries++) {
      for (size_t i = 0; i < n; i++) z[i] = s->D[i] * hpo__rng_normal(&r);
      int inside = 1;
      for (size_t i = 0; i < n; i++) {
        double v = 0;
        for (size_t q = 0; q < n; q++) v += s->B[i * n + q] * z[q];
        u[i] = s->m[i] + s->sigma * v;
        inside &= u[i] >= 0 && u[i] <= 1;
      }
      if (inside) break;
    }
    for (size_t k = 0; k < c->d; k++)
      if (c->dims[k].kind == HPO__CAT) x[k] = (double)hpo__rng_below(&r, c->dims[k].ncat);
    for (size_t i = 0; i < n; i++) {
      size_t k = s->axis[i];
      x[k] = hpo__from_unit(&c->space->params[k], &c->dims[k], u[i]);
    }
    if (!hpo__seen(c, x)) break;
  }
  /* A small finite space the distribution keeps missing the rest of. */
  if (hpo__seen(c, x)) (void)hpo__random_unseen(c, (uint64_t)hpo__next_number(c), x);
  free(z);
  free(u);
}

void hpo__cmaes(hpo__ctx *c) {
  cma s;
  cma_init(&s, c);
  const hpo_trials *tr = c->trials;
  member *gen = xcalloc(s.lambda, sizeof(member));
  uint64_t g = 0, restarts = 0;
  /* Replay every complete generation. */
  size_t pos = 0;
  for (; pos + s.lambda <= tr->n; pos += s.lambda, g++) {
    size_t count = 0, scored = 0;
    int complete = 1;
    for (size_t i = 0; i < s.lambda; i++) {
      const hpo_trial *t = &tr->items[pos + i];
      if (!hpo_trial_finished(t)) complete = 0;
      int ok = hpo_trial_scored(t);
      scored += ok;
      gen[count++] = (member){ok ? hpo_loss(c->obj, t->value) : INFINITY, t->number, t->x};
    }
    if (!complete) break;
    if (scored == 0) continue; /* nothing learnt */
    cma_update(&s, c, gen, count);
    double spread = s.sigma * s.D[0];
    for (size_t i = 1; i < s.n; i++) spread = fmax(spread, s.sigma * s.D[i]);
    if (spread < 1e-6 || !isfinite(spread)) cma_reset(&s, c, ++restarts);
  }
  /* pos: the first position of generation g (the one being sampled). */
  double *x = xcalloc(c->d, sizeof(double));
  uint64_t size = hpo_space_size(c->space);
  while (c->out->n < c->want) {
    if (size != 0 && c->nseen >= size) {
      hpo__stop(c, 1, "every one of the %llu assignments of the space has been tried", (unsigned long long)size);
      break;
    }
    size_t p = tr->n + c->out->n;
    if (p >= pos + s.lambda) {
      size_t running = 0; /* this call's suggestions count as running */
      for (size_t i = pos; i < pos + s.lambda; i++) running += i >= tr->n || !hpo_trial_finished(&tr->items[i]);
      hpo__stop(c, 0, "waiting for generation %llu of cmaes to finish (%zu of its %zu trials still running)",
                (unsigned long long)g + 1, running, s.lambda);
      break;
    }
    cma_sample(&s, c, g, p - pos, x);
    hpo__emit(c, x);
  }
  free(x);
  free(gen);
  cma_free(&s);
}
