/* Tree-structured Parzen estimators (Bergstra et al. 2011): the finished
 * trials are split into the good fraction gamma (at most 25 trials) and
 * the rest; each group becomes a density l(x), g(x) (a mixture with one
 * kernel per trial and a wide prior kernel); candidates are drawn from l
 * and the one with the highest l(x)/g(x) (expected improvement under the
 * model) is suggested. Running and pending trials, and each suggestion of
 * the call as it is made, join the bad group (the constant liar), so
 * parallel suggestions spread out.
 *
 * Kernels: a truncated Gaussian on a continuous coordinate; on an ordinal
 * one (integers, steps, discrete lists) the Gaussian's mass over the
 * value's bin; a categorical kernel that puts most of its mass on its
 * trial's category and priorWeight / K on every category. Multivariate
 * (the default) scores whole assignments with one kernel per trial across
 * all parameters, so dependent parameters are learnt together; otherwise
 * every parameter is drawn and scored on its own. A kernel's bandwidth is
 * the larger distance to its neighbours in the group (the range's ends do
 * not count), at least range / min(100, n + 1) and at most the range.
 * Older trials weigh less once there are more than 25 in a group (from
 * 1/n, rising linearly); in the good group, better trials weigh more (the
 * best twice the last), which the benchmark (bench/hpo) found to pay on
 * every function there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

#define TPE_MAX_GOOD 25
#define TPE_RAMP_AFTER 25

typedef struct parzen {
  size_t m, d;   /* components (the last is the prior), parameters */
  double *logw;  /* m */
  double *mu;    /* m x d: the internal coordinate, or the category (-1: the prior) */
  double *sigma; /* m x d (numeric) */
  double *logz;  /* m x d: log of the kernel's mass inside the range (numeric) */
  double *cst;   /* m x d: continuous: -log(sigma sqrt(2 pi)) - logz, the density's constant */
  double *hit, *miss; /* d: categorical: log probability of a kernel's own category, of another */
} parzen;

/* log(Phi(b) - Phi(a)) for a < b, accurate in both tails. */
static double log_mass(double a, double b) {
  double m;
  if (a > 0)
    m = 0.5 * (erfc(a / M_SQRT2) - erfc(b / M_SQRT2));
  else
    m = 0.5 * (erfc(-b / M_SQRT2) - erfc(-a / M_SQRT2));
  return log(m > 1e-300 ? m : 1e-300);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Builds the density of 'rows' (n assignments of c->d values, weights w). */
static void parzen_build(const hpo__ctx *c, const double *const *rows, const double *w, size_t n, parzen *pz) {
  size_t d = c->d, m = n + 1;
  const hpo_algorithm *a = c->alg;
  pz->m = m;
  pz->d = d;
  pz->logw = xcalloc(m, sizeof(double));
  pz->mu = xcalloc(m * d, sizeof(double));
  pz->sigma = xcalloc(m * d, sizeof(double));
  pz->logz = xcalloc(m * d, sizeof(double));
  pz->cst = xcalloc(m * d, sizeof(double));
  pz->hit = xcalloc(d, sizeof(double));
  pz->miss = xcalloc(d, sizeof(double));
  double total = a->tpe.prior_weight;
  for (size_t i = 0; i < n; i++) total += w[i];
  for (size_t i = 0; i < n; i++) pz->logw[i] = log(w[i] / total);
  pz->logw[n] = log(a->tpe.prior_weight / total);
  double *sorted = xcalloc(m, sizeof(double));
  for (size_t k = 0; k < d; k++) {
    const hpo_param *p = &c->space->params[k];
    const hpo__dim *dim = &c->dims[k];
    for (size_t i = 0; i < n; i++)
      pz->mu[i * d + k] = dim->kind == HPO__CAT ? rows[i][k] : hpo__to_internal(p, rows[i][k]);
    if (dim->kind == HPO__CAT) {
      /* K categories: (1 + eps) / (1 + K eps) on the trial's own, eps /
       * (1 + K eps) on each other, eps = priorWeight / K. */
      double K = (double)dim->ncat, eps = a->tpe.prior_weight / K;
      pz->hit[k] = log((1.0 + eps) / (1.0 + K * eps));
      pz->miss[k] = log(eps / (1.0 + K * eps));
      pz->mu[n * d + k] = -1; /* the prior: uniform */
      continue;
    }
    double range = dim->hi - dim->lo;
    pz->mu[n * d + k] = 0.5 * (dim->lo + dim->hi);
    double min_sigma = range / fmin(100.0, (double)m);
    for (size_t i = 0; i < m; i++) sorted[i] = pz->mu[i * d + k];
    qsort(sorted, m, sizeof(double), cmp_double);
    for (size_t i = 0; i < n; i++) {
      /* The larger distance to a neighbour, the prior's centre included;
       * the range's ends are no neighbours. */
      double mu = pz->mu[i * d + k];
      size_t lo = 0, hi = m; /* the first index with sorted[] >= mu */
      while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sorted[mid] < mu)
          lo = mid + 1;
        else
          hi = mid;
      }
      size_t after = lo + 1;
      while (after < m && sorted[after] == mu) after++;
      double s = range;
      if (lo > 0 && after < m)
        s = fmax(mu - sorted[lo - 1], sorted[after] - mu);
      else if (lo > 0)
        s = mu - sorted[lo - 1];
      else if (after < m)
        s = sorted[after] - mu;
      pz->sigma[i * d + k] = fmin(fmax(s, min_sigma), range);
    }
    pz->sigma[n * d + k] = range;
    for (size_t i = 0; i < m; i++) {
      double mu = pz->mu[i * d + k], s = pz->sigma[i * d + k];
      pz->logz[i * d + k] = log_mass((dim->lo - mu) / s, (dim->hi - mu) / s);
      pz->cst[i * d + k] = -log(s) - 0.5 * log(2 * M_PI) - pz->logz[i * d + k];
    }
  }
  free(sorted);
}

static void parzen_free(parzen *pz) {
  free(pz->logw);
  free(pz->mu);
  free(pz->sigma);
  free(pz->logz);
  free(pz->cst);
  free(pz->hit);
  free(pz->miss);
}

/* A candidate's value of one parameter, with what every kernel needs of
 * it computed once. */
typedef struct coord {
  double x;         /* the value */
  double t;         /* its internal coordinate */
  double a, b;      /* ordinal: its bin, within the range */
  double log_width; /* ordinal: log(b - a) */
} coord;

static void coord_of(const hpo__ctx *c, size_t k, double x, coord *p) {
  const hpo__dim *dim = &c->dims[k];
  p->x = x;
  p->t = hpo__to_internal(&c->space->params[k], x);
  if (dim->kind == HPO__ORD) {
    hpo__bin(&c->space->params[k], x, &p->a, &p->b);
    p->a = fmax(p->a, dim->lo);
    p->b = fmin(p->b, dim->hi);
    p->log_width = log(p->b - p->a);
  }
}

/* log of component i's kernel at parameter k's value p. */
static double log_kernel(const hpo__ctx *c, const parzen *pz, size_t i, size_t k, const coord *p) {
  const hpo__dim *dim = &c->dims[k];
  size_t at = i * pz->d + k;
  double mu = pz->mu[at];
  if (dim->kind == HPO__CAT) return mu < 0 ? -log((double)dim->ncat) : p->x == mu ? pz->hit[k] : pz->miss[k];
  double s = pz->sigma[at];
  if (dim->kind == HPO__ORD) {
    /* A bin much narrower than the kernel: its density times its width
     * (relative error below (b-a)^2 / (24 s^2), under 1%); a bin far in
     * the kernel's tail: the same, which only understates a mass that is
     * negligible anyway. */
    double z = (0.5 * (p->a + p->b) - mu) / s;
    if (p->b - p->a < 0.5 * s || fabs(z) > 6) return -0.5 * z * z + pz->cst[at] + p->log_width;
    return log_mass((p->a - mu) / s, (p->b - mu) / s) - pz->logz[at];
  }
  double z = (p->t - mu) / s;
  return -0.5 * z * z + pz->cst[at];
}

static double logsumexp(const double *v, size_t n) {
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) top = fmax(top, v[i]);
  if (!isfinite(top)) return top;
  double s = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] > top - 40) s += exp(v[i] - top); /* e^-40 is below a double's precision of the sum */
  return top + log(s);
}

/* log density of the whole assignment p (multivariate), or of parameter k
 * alone (k < d: univariate). 'scratch' has room for m doubles. */
static double log_density(const hpo__ctx *c, const parzen *pz, const coord *p, size_t k, double *scratch) {
  for (size_t i = 0; i < pz->m; i++) {
    double s = pz->logw[i];
    if (k < pz->d)
      s += log_kernel(c, pz, i, k, &p[k]);
    else
      for (size_t j = 0; j < pz->d; j++) s += log_kernel(c, pz, i, j, &p[j]);
    scratch[i] = s;
  }
  return logsumexp(scratch, pz->m);
}

/* A value of parameter k from component i. */
static double draw(const hpo__ctx *c, const parzen *pz, size_t i, size_t k, hpo__rng *r) {
  const hpo_param *p = &c->space->params[k];
  const hpo__dim *dim = &c->dims[k];
  double mu = pz->mu[i * pz->d + k];
  if (dim->kind == HPO__CAT) {
    /* Its own category with probability 1 / (1 + K eps), else uniform:
     * the kernel of parzen_build. */
    double K = (double)dim->ncat, eps = c->alg->tpe.prior_weight / K;
    if (mu >= 0 && hpo__rng_uniform(r) < 1.0 / (1.0 + K * eps)) return mu;
    return (double)hpo__rng_below(r, dim->ncat);
  }
  double s = pz->sigma[i * pz->d + k], t = mu;
  for (int tries = 0; tries < 100; tries++) {
    t = mu + s * hpo__rng_normal(r);
    if (t >= dim->lo && t <= dim->hi) break;
  }
  if (t < dim->lo) t = dim->lo;
  if (t > dim->hi) t = dim->hi;
  return hpo__from_internal(p, t);
}

static size_t pick_component(const parzen *pz, hpo__rng *r) {
  double u = hpo__rng_uniform(r), acc = 0;
  for (size_t i = 0; i < pz->m; i++) {
    acc += exp(pz->logw[i]);
    if (u < acc) return i;
  }
  return pz->m - 1;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Weights by age: the newest TPE_RAMP_AFTER weigh 1, the older ones rise
 * linearly from 1/n to 1 with their age rank. number[] holds the trials'
 * numbers (distinct; higher is newer). */
static void age_weights(const int64_t *number, size_t n, double *w) {
  if (n <= TPE_RAMP_AFTER) {
    for (size_t i = 0; i < n; i++) w[i] = 1;
    return;
  }
  int64_t *sorted = xcalloc(n, sizeof(int64_t));
  memcpy(sorted, number, n * sizeof(int64_t));
  qsort(sorted, n, sizeof(int64_t), cmp_i64);
  size_t ramp = n - TPE_RAMP_AFTER;
  for (size_t i = 0; i < n; i++) {
    size_t rank = (size_t)((const int64_t *)bsearch(&number[i], sorted, n, sizeof(int64_t), cmp_i64) - sorted);
    w[i] = rank >= ramp ? 1.0
                        : 1.0 / (double)n + (1.0 - 1.0 / (double)n) * (double)rank / (double)(ramp > 1 ? ramp - 1 : 1);
  }
  free(sorted);
}

typedef struct ranked {
  double loss;
  int64_t number;
  size_t index;
} ranked;

static int cmp_ranked(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
  return (x->number > y->number) - (x->number < y->number);
}

/* One suggestion from the model of the scored trials and the busy ones. */
static void suggest_one(hpo__ctx *c, double *x) {
  size_t d = c->d, n = c->ndone;
  ranked *rk = xcalloc(n, sizeof(ranked));
  for (size_t i = 0; i < n; i++) rk[i] = (ranked){c->loss[i], c->done[i]->number, i};
  qsort(rk, n, sizeof(ranked), cmp_ranked);
  size_t ngood = (size_t)ceil(c->alg->tpe.gamma * (double)n);
  if (ngood > TPE_MAX_GOOD) ngood = TPE_MAX_GOOD;
  if (ngood < 1) ngood = 1;
  size_t nbad = n - ngood + c->nbusy;
  const double **good = xcalloc(ngood, sizeof(double *)), **bad = xcalloc(nbad + 1, sizeof(double *));
  int64_t *good_no = xcalloc(ngood, sizeof(int64_t)), *bad_no = xcalloc(nbad + 1, sizeof(int64_t));
  for (size_t i = 0; i < ngood; i++) {
    good[i] = c->done[rk[i].index]->x;
    good_no[i] = rk[i].number;
  }
  for (size_t i = ngood; i < n; i++) {
    bad[i - ngood] = c->done[rk[i].index]->x;
    bad_no[i - ngood] = rk[i].number;
  }
  /* Busy assignments count as the newest trials. */
  for (size_t i = 0; i < c->nbusy; i++) {
    bad[n - ngood + i] = c->busy + i * d;
    bad_no[n - ngood + i] = INT64_MAX - (int64_t)c->nbusy + (int64_t)i;
  }
  double *gw = xcalloc(ngood, sizeof(double)), *bw = xcalloc(nbad + 1, sizeof(double));
  age_weights(good_no, ngood, gw);
  for (size_t i = 0; i < ngood; i++) gw[i] *= 1.0 + (double)(ngood - 1 - i) / (double)ngood; /* by rank */
  age_weights(bad_no, nbad, bw);
  parzen l, g;
  parzen_build(c, good, gw, ngood, &l);
  parzen_build(c, bad, bw, nbad, &g);

  hpo__rng r;
  hpo__rng_init(&r, c->alg->seed, (uint64_t)hpo__next_number(c), HPO__USE_TPE);
  size_t ncand = (size_t)c->alg->tpe.n_candidates;
  double *scratch = xcalloc(l.m + g.m, sizeof(double));
  double *cand = xcalloc(d, sizeof(double)), *best = xcalloc(d, sizeof(double));
  coord *pt = xcalloc(d, sizeof(coord));
  double best_score = -INFINITY;
  int found = 0;
  if (c->alg->tpe.multivariate) {
    for (size_t j = 0; j < ncand; j++) {
      size_t comp = pick_component(&l, &r);
      for (size_t k = 0; k < d; k++) cand[k] = draw(c, &l, comp, k, &r);
      if (hpo__seen(c, cand)) continue;
      for (size_t k = 0; k < d; k++) coord_of(c, k, cand[k], &pt[k]);
      double score = log_density(c, &l, pt, d, scratch) - log_density(c, &g, pt, d, scratch);
      if (!found || score > best_score) {
        best_score = score;
        memcpy(best, cand, d * sizeof(double));
        found = 1;
      }
    }
  } else {
    for (size_t k = 0; k < d; k++) {
      double top = -INFINITY;
      for (size_t j = 0; j < ncand; j++) {
        cand[k] = draw(c, &l, pick_component(&l, &r), k, &r);
        coord_of(c, k, cand[k], &pt[k]);
        double score = log_density(c, &l, pt, k, scratch) - log_density(c, &g, pt, k, scratch);
        if (j == 0 || score > top) {
          top = score;
          best[k] = cand[k];
        }
      }
    }
    found = !hpo__seen(c, best);
  }
  /* Every candidate was tried already (a small finite space that the
   * caller saw is not covered yet): a random unseen assignment instead. */
  if (!found) (void)hpo__random_unseen(c, (uint64_t)hpo__next_number(c), best);
  memcpy(x, best, d * sizeof(double));
  free(scratch);
  free(cand);
  free(best);
  free(pt);
  parzen_free(&l);
  parzen_free(&g);
  free(gw);
  free(bw);
  free(good);
  free(bad);
  free(good_no);
  free(bad_no);
  free(rk);
}

void hpo__tpe(hpo__ctx *c) {
  size_t startup = c->alg->tpe.n_startup > 0 ? (size_t)c->alg->tpe.n_startup
                                             : (2 * c->d + 2 < 10 ? 2 * c->d + 2 : 10);
  double *x = xcalloc(c->d, sizeof(double));
  while (c->out->n < c->want) {
    if (c->ndone == 0 || c->ndone < startup) {
      if (!hpo__random_unseen(c, (uint64_t)hpo__next_number(c), x)) {
        hpo__stop(c, 1, "every one of the %llu assignments of the space has been tried",
                  (unsigned long long)hpo_space_size(c->space));
        break;
      }
    } else {
      uint64_t size = hpo_space_size(c->space);
      if (size != 0 && c->nseen >= size) {
        hpo__stop(c, 1, "every one of the %llu assignments of the space has been tried", (unsigned long long)size);
        break;
      }
      suggest_one(c, x);
    }
    hpo__emit(c, x);
  }
  free(x);
}
