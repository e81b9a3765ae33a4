/* Bayesian optimisation with a Gaussian process and expected improvement.
 *
 * The model: every parameter on the unit interval (a log scale in its
 * logarithm, an ordinal at its bin's centre), categories compared by
 * equality (distance 1 when they differ); a Matérn-5/2 (or RBF) kernel with
 * one lengthscale per parameter; losses standardised. The hyperparameters
 * maximise the marginal likelihood over a small grid: a shared lengthscale
 * and a noise level first, then each parameter's lengthscale scaled up and
 * down in turn; the signal variance is profiled out. The model is fitted on
 * at most maxPoints trials (the best half and the most recent), its
 * hyperparameters on at most 64 of those (chosen alike), which keeps a
 * suggestion's cost bounded however long the Experiment runs.
 *
 * The suggestion maximises expected improvement over nCandidates random
 * assignments and perturbations of the best trials, then a coordinate
 * search from the three best. Busy assignments (running, pending, and this
 * call's earlier suggestions) enter the model with the worst loss seen (the
 * constant liar) after the hyperparameters are fitted, which lowers the
 * expected improvement around them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

#define GP_FIT_ROWS 64

typedef struct gp_model {
  size_t n, d;
  double *u;      /* n x d: unit coordinates (categories: the index) */
  double *y;      /* n: standardised losses, liars included */
  double *ell;    /* d: lengthscales */
  double noise;   /* noise variance relative to the signal's */
  double *l;      /* n x n: Cholesky factor of the correlation matrix + noise */
  double *alpha;  /* n: (R + noise I)^-1 y */
  double best;    /* the lowest standardised loss observed */
} gp_model;

typedef struct gp {
  const hpo__ctx *c;
  int cat[64];    /* HPO_MAX_PARAMS: which parameters are categorical */
  gp_model m;
} gp;

static double kernel_of(const hpo__ctx *c, double r2) {
  if (c->alg->bayesian.kernel == HPO_KERNEL_RBF) return exp(-0.5 * r2);
  double r = sqrt(5.0 * r2);
  return (1.0 + r + r * r / 3.0) * exp(-r);
}

static double corr(const gp *g, const double *a, const double *b, const double *ell) {
  double r2 = 0;
  for (size_t k = 0; k < g->m.d; k++) {
    double delta = g->cat[k] ? (a[k] != b[k]) : a[k] - b[k];
    r2 += delta * delta / (ell[k] * ell[k]);
  }
  return kernel_of(g->c, r2);
}

static void to_unit_row(const hpo__ctx *c, const double *x, double *u) {
  for (size_t k = 0; k < c->d; k++) u[k] = hpo__to_unit(&c->space->params[k], &c->dims[k], x[k]);
}

/* Factorises R + noise I of the first n rows into l; returns the log
 * marginal likelihood with the signal variance profiled out, or -inf. */
static double factorise(const gp *g, size_t n, const double *ell, double noise, double *l, double *alpha) {
  const double *u = g->m.u;
  size_t d = g->m.d;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++) l[i * n + j] = corr(g, u + i * d, u + j * d, ell);
    l[i * n + i] = 1.0 + noise + 1e-9;
  }
  if (hpo__cholesky(l, n) != 0) return -INFINITY;
  memcpy(alpha, g->m.y, n * sizeof(double));
  hpo__solve_lower(l, n, alpha);
  double quad = 0, logdet = 0;
  for (size_t i = 0; i < n; i++) {
    quad += alpha[i] * alpha[i];
    logdet += log(l[i * n + i]);
  }
  hpo__solve_upper(l, n, alpha);
  double s2 = quad / (double)n;
  if (!(s2 > 0)) s2 = 1e-12;
  return -0.5 * (double)n * log(s2) - logdet;
}

static void fit_hyperparameters(gp *g, size_t n) {
  size_t d = g->m.d;
  static const double shared[] = {0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 2.0};
  static const double noises[] = {1e-6, 1e-3, 1e-2, 1e-1};
  static const double scales[] = {0.25, 0.5, 2.0, 4.0};
  double *l = xcalloc(n * n, sizeof(double)), *alpha = xcalloc(n, sizeof(double));
  double *ell = xcalloc(d, sizeof(double));
  double best = -INFINITY;
  for (size_t a = 0; a < sizeof(shared) / sizeof(shared[0]); a++)
    for (size_t b = 0; b < sizeof(noises) / sizeof(noises[0]); b++) {
      for (size_t k = 0; k < d; k++) ell[k] = shared[a];
      double ml = factorise(g, n, ell, noises[b], l, alpha);
      if (ml > best) {
        best = ml;
        memcpy(g->m.ell, ell, d * sizeof(double));
        g->m.noise = noises[b];
      }
    }
  if (d > 1) {
    for (size_t k = 0; k < d; k++) {
      memcpy(ell, g->m.ell, d * sizeof(double));
      double base = ell[k];
      for (size_t s = 0; s < sizeof(scales) / sizeof(scales[0]); s++) {
        ell[k] = fmin(fmax(base * scales[s], 0.01), 20.0);
        double ml = factorise(g, n, ell, g->m.noise, l, alpha);
        if (ml > best) {
          best = ml;
          g->m.ell[k] = ell[k];
        }
      }
    }
  }
  free(l);
  free(alpha);
  free(ell);
}

/* Posterior mean and standard deviation (standardised units) at unit row u. */
static void predict(const gp *g, const double *u, double *r, double *mean, double *sd) {
  size_t n = g->m.n, d = g->m.d;
  double mu = 0;
  for (size_t i = 0; i < n; i++) {
    r[i] = corr(g, u, g->m.u + i * d, g->m.ell);
    mu += r[i] * g->m.alpha[i];
  }
  hpo__solve_lower(g->m.l, n, r);
  double q = 0;
  for (size_t i = 0; i < n; i++) q += r[i] * r[i];
  *mean = mu;
  double v = 1.0 - q;
  *sd = v > 1e-12 ? sqrt(v) : 1e-6;
}

/* Expected improvement of assignment x (in the model's scale; the signal
 * variance is a common factor and does not change the ranking). */
static double expected_improvement(const gp *g, const double *x, double *urow, double *r) {
  to_unit_row(g->c, x, urow);
  double mean, sd;
  predict(g, urow, r, &mean, &sd);
  double imp = g->m.best - mean - g->c->alg->bayesian.xi;
  double z = imp / sd;
  return imp * hpo__Phi(z) + sd * hpo__phi(z);
}

typedef struct ranked {
  double loss;
  int64_t number;
  size_t index;
} ranked;

static int by_loss(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
  return (x->number > y->number) - (x->number < y->number);
}

static int by_number_desc(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  return (x->number < y->number) - (x->number > y->number);
}

/* The model of the scored trials: which ones, standardised, fitted. The
 * busy rows are added by add_liars. */
static void build_model(gp *g) {
  const hpo__ctx *c = g->c;
  size_t d = c->d, n = c->ndone, cap = (size_t)c->alg->bayesian.max_points;
  ranked *rk = xcalloc(n, sizeof(ranked));
  for (size_t i = 0; i < n; i++) rk[i] = (ranked){c->loss[i], c->done[i]->number, i};
  size_t nfit = n;
  if (n > cap) {
    /* The best half of the cap by loss, then the most recent of the rest. */
    qsort(rk, n, sizeof(ranked), by_loss);
    qsort(rk + cap / 2, n - cap / 2, sizeof(ranked), by_number_desc);
    nfit = cap;
  }
  /* The hyperparameters are fitted on a prefix of the rows, chosen alike
   * (the best half and the most recent): a factorisation per grid point
   * costs n^3 / 6, and the likelihood's optimum moves little beyond. */
  size_t nhyp = nfit < GP_FIT_ROWS ? nfit : GP_FIT_ROWS;
  if (nfit > GP_FIT_ROWS) {
    qsort(rk, nfit, sizeof(ranked), by_loss);
    qsort(rk + GP_FIT_ROWS / 2, nfit - GP_FIT_ROWS / 2, sizeof(ranked), by_number_desc);
  }
  size_t rows = nfit + c->nbusy + c->want;
  g->m.d = d;
  g->m.u = xcalloc(rows * d, sizeof(double));
  g->m.y = xcalloc(rows, sizeof(double));
  g->m.ell = xcalloc(d, sizeof(double));
  g->m.l = xcalloc(rows * rows, sizeof(double));
  g->m.alpha = xcalloc(rows, sizeof(double));
  double mean = 0, var = 0;
  for (size_t i = 0; i < nfit; i++) mean += c->loss[rk[i].index];
  mean /= (double)nfit;
  for (size_t i = 0; i < nfit; i++) var += (c->loss[rk[i].index] - mean) * (c->loss[rk[i].index] - mean);
  double sd = nfit > 1 ? sqrt(var / (double)(nfit - 1)) : 0;
  if (!(sd > 1e-12)) sd = 1;
  g->m.best = INFINITY;
  for (size_t i = 0; i < nfit; i++) {
    to_unit_row(c, c->done[rk[i].index]->x, g->m.u + i * d);
    g->m.y[i] = (c->loss[rk[i].index] - mean) / sd;
    if (g->m.y[i] < g->m.best) g->m.best = g->m.y[i];
  }
  g->m.n = nfit;
  free(rk);
  fit_hyperparameters(g, nhyp);
}

/* The model over the scored rows plus every busy row at the worst loss.
 * Returns 0 when no factorisation succeeds (then the caller draws at
 * random rather than trust a broken model). */
static int refactorise_with_liars(gp *g, size_t nfit) {
  const hpo__ctx *c = g->c;
  size_t d = c->d;
  double worst = -INFINITY;
  for (size_t i = 0; i < nfit; i++) worst = fmax(worst, g->m.y[i]);
  for (size_t i = 0; i < c->nbusy; i++) {
    to_unit_row(c, c->busy + i * d, g->m.u + (nfit + i) * d);
    g->m.y[nfit + i] = worst;
  }
  size_t n = nfit + c->nbusy;
  g->m.n = n;
  /* Identical rows (a busy assignment that is also scored) keep the factor
   * positive definite through the noise term; raise it if need be. */
  for (double noise = g->m.noise; noise <= 1; noise *= 10)
    if (factorise(g, n, g->m.ell, noise, g->m.l, g->m.alpha) != -INFINITY) return 1;
  return 0;
}

static void gp_free(gp *g) {
  free(g->m.u);
  free(g->m.y);
  free(g->m.ell);
  free(g->m.l);
  free(g->m.alpha);
}

/* One candidate considered: keeps the best unseen. */
typedef struct search {
  gp *g;
  double *urow, *r;
  double best_ei;
  double *best;
  int found;
} search;

static double consider(search *s, const double *x) {
  if (hpo__seen(s->g->c, x)) return -INFINITY;
  double ei = expected_improvement(s->g, x, s->urow, s->r);
  if (!s->found || ei > s->best_ei) {
    s->best_ei = ei;
    memcpy(s->best, x, s->g->c->d * sizeof(double));
    s->found = 1;
  }
  return ei;
}

/* Coordinate search from x: each parameter moved up and down (categories:
 * every other category), steps halving, while expected improvement grows. */
static void local_search(search *s, double *x, double ei) {
  const hpo__ctx *c = s->g->c;
  double *y = xcalloc(c->d, sizeof(double));
  for (double step = 0.1; step >= 0.005; step /= 2) {
    int improved = 1;
    for (int rounds = 0; improved && rounds < 4; rounds++) {
      improved = 0;
      for (size_t k = 0; k < c->d; k++) {
        const hpo_param *p = &c->space->params[k];
        const hpo__dim *dim = &c->dims[k];
        size_t tries = dim->kind == HPO__CAT ? (dim->ncat <= 16 ? dim->ncat : 0) : 2;
        if (dim->kind == HPO__CAT && step < 0.1) tries = 0; /* categories once, at the first step */
        for (size_t t = 0; t < tries; t++) {
          memcpy(y, x, c->d * sizeof(double));
          if (dim->kind == HPO__CAT) {
            if ((double)t == x[k]) continue;
            y[k] = (double)t;
          } else {
            double u = hpo__to_unit(p, dim, x[k]);
            double delta = step;
            /* An ordinal moves at least one bin. */
            if (dim->kind == HPO__ORD) delta = fmax(step, 1.0 / (dim->hi - dim->lo));
            y[k] = hpo__from_unit(p, dim, u + (t ? delta : -delta));
            if (y[k] == x[k]) continue;
          }
          double e = consider(s, y);
          if (e > ei) {
            ei = e;
            memcpy(x, y, c->d * sizeof(double));
            improved = 1;
          }
        }
      }
    }
  }
  free(y);
}

typedef struct scored {
  double ei;
  size_t index;
} scored;

static int by_ei_desc(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->ei != y->ei) return x->ei > y->ei ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

static void suggest_one(gp *g, double *x) {
  const hpo__ctx *c = g->c;
  size_t d = c->d, ncand = (size_t)c->alg->bayesian.n_candidates;
  hpo__rng r;
  hpo__rng_init(&r, c->alg->seed, (uint64_t)hpo__next_number(c), HPO__USE_GP);
  search s = {.g = g};
  s.urow = xcalloc(d, sizeof(double));
  s.r = xcalloc(g->m.n + 1, sizeof(double));
  s.best = xcalloc(d, sizeof(double));
  /* Random candidates, then perturbations of the five best trials. */
  size_t nperturb = c->ndone < 5 ? c->ndone : 5;
  size_t total = ncand + nperturb * 20;
  double *cands = xcalloc(total * d, sizeof(double));
  scored *sc = xcalloc(total, sizeof(scored));
  for (size_t j = 0; j < ncand; j++)
    for (size_t k = 0; k < d; k++) cands[j * d + k] = hpo__sample(&c->space->params[k], &r);
  size_t *top = xcalloc(nperturb + 1, sizeof(size_t));
  for (size_t t = 0; t < nperturb; t++) { /* the t-th best scored trial */
    size_t pick = SIZE_MAX;
    for (size_t i = 0; i < c->ndone; i++) {
      int taken = 0;
      for (size_t q = 0; q < t; q++) taken |= top[q] == i;
      if (!taken && (pick == SIZE_MAX || c->loss[i] < c->loss[pick])) pick = i;
    }
    top[t] = pick;
    for (size_t j = 0; j < 20; j++) {
      double *y = cands + (ncand + t * 20 + j) * d;
      for (size_t k = 0; k < d; k++) {
        const hpo_param *p = &c->space->params[k];
        const hpo__dim *dim = &c->dims[k];
        double v = c->done[pick]->x[k];
        if (dim->kind == HPO__CAT)
          y[k] = hpo__rng_uniform(&r) < 0.2 ? (double)hpo__rng_below(&r, dim->ncat) : v;
        else
          y[k] = hpo__from_unit(p, dim, hpo__to_unit(p, dim, v) + 0.05 * hpo__rng_normal(&r));
      }
    }
  }
  for (size_t j = 0; j < total; j++) sc[j] = (scored){consider(&s, cands + j * d), j};
  qsort(sc, total, sizeof(scored), by_ei_desc);
  double *start = xcalloc(d, sizeof(double));
  for (size_t t = 0; t < 3 && t < total && isfinite(sc[t].ei); t++) {
    memcpy(start, cands + sc[t].index * d, d * sizeof(double));
    local_search(&s, start, sc[t].ei);
  }
  if (s.found)
    memcpy(x, s.best, d * sizeof(double));
  else
    (void)hpo__random_unseen(c, (uint64_t)hpo__next_number(c), x); /* a small space, all candidates seen */
  free(start);
  free(top);
  free(cands);
  free(sc);
  free(s.urow);
  free(s.r);
  free(s.best);
}

static size_t default_startup(size_t d) {
  size_t n = 2 * d + 1;
  return n < 5 ? 5 : n > 20 ? 20 : n;
}

void hpo__gp(hpo__ctx *c) {
  size_t startup = c->alg->bayesian.n_startup > 0 ? (size_t)c->alg->bayesian.n_startup : default_startup(c->d);
  uint64_t size = hpo_space_size(c->space);
  double *x = xcalloc(c->d, sizeof(double));
  gp g = {.c = c};
  for (size_t k = 0; k < c->d; k++) g.cat[k] = c->dims[k].kind == HPO__CAT;
  size_t nfit = 0;
  int built = 0;
  while (c->out->n < c->want) {
    if (size != 0 && c->nseen >= size) {
      hpo__stop(c, 1, "every one of the %llu assignments of the space has been tried", (unsigned long long)size);
      break;
    }
    if (c->ndone < startup || c->ndone < 2) {
      if (!hpo__random_unseen(c, (uint64_t)hpo__next_number(c), x)) break;
    } else {
      if (!built) {
        build_model(&g);
        nfit = g.m.n;
        built = 1;
      }
      if (refactorise_with_liars(&g, nfit))
        suggest_one(&g, x);
      else if (!hpo__random_unseen(c, (uint64_t)hpo__next_number(c), x))
        break;
    }
    hpo__emit(c, x);
  }
  if (built) gp_free(&g);
  free(x);
}
