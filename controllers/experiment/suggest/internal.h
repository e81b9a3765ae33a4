/* What the algorithms of suggest/ share; nothing outside suggest/ includes
 * this. */
#ifndef CUBIT_CONTROLLERS_EXPERIMENT_SUGGEST_INTERNAL_H
#define CUBIT_CONTROLLERS_EXPERIMENT_SUGGEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "controllers/experiment/suggest/suggest.h"

/* ------------------------------------------------------------- rng.c */

/* xoshiro256** seeded through splitmix64 from (seed, stream, purpose): one
 * independent stream per trial number and use, so a suggestion never
 * depends on how many calls came before it. */
typedef struct hpo__rng {
  uint64_t s[4];
} hpo__rng;

void hpo__rng_init(hpo__rng *r, uint64_t seed, uint64_t stream, uint64_t purpose);
uint64_t hpo__rng_u64(hpo__rng *r);
/* Uniform in [0, 1). */
double hpo__rng_uniform(hpo__rng *r);
/* Uniform in [0, n), n > 0. */
size_t hpo__rng_below(hpo__rng *r, size_t n);
/* Standard normal (Box-Muller, one value per call). */
double hpo__rng_normal(hpo__rng *r);

/* What a stream is used for, so two uses of one trial number differ. */
enum {
  HPO__USE_RANDOM = 1, /* uniform sampling (random search, start-up trials, Hyperband's configurations) */
  HPO__USE_TPE,
  HPO__USE_GP,
  HPO__USE_CMAES,
  HPO__USE_CMAES_START,
  HPO__USE_FALLBACK /* a finite space's unseen point after random draws kept colliding */
};

/* ---------------------------------------------------------- encode.c */

/* How the models see a parameter: continuous (a double without a step),
 * ordinal (integers, steps, discrete lists: a continuous coordinate that
 * rounds to bins) or categorical. */
typedef enum { HPO__CONT, HPO__ORD, HPO__CAT } hpo__dim_kind;

typedef struct hpo__dim {
  hpo__dim_kind kind;
  double lo, hi; /* CONT, ORD: the internal coordinate's range (log applied; ORD includes half bins) */
  size_t ncat;   /* CAT */
} hpo__dim;

void hpo__dim_of(const hpo_param *p, hpo__dim *d);
/* The internal coordinate of a value (CAT: the index). */
double hpo__to_internal(const hpo_param *p, double x);
/* The value at an internal coordinate, snapped into the space. */
double hpo__from_internal(const hpo_param *p, double t);
/* ORD: the internal interval [*a, *b] whose coordinates snap to value x. */
void hpo__bin(const hpo_param *p, double x, double *a, double *b);
/* The coordinate in [0, 1] (CAT: the index). */
double hpo__to_unit(const hpo_param *p, const hpo__dim *d, double x);
double hpo__from_unit(const hpo_param *p, const hpo__dim *d, double u);
/* A uniform value of p (log scales uniform in the logarithm). */
double hpo__sample(const hpo_param *p, hpo__rng *r);

/* ---------------------------------------------------------- linalg.c */

/* In place, the lower triangle of the n x n row-major A becomes L with
 * A = L L^T. Returns 0, or -1 when A is not positive definite. */
int hpo__cholesky(double *a, size_t n);
/* Solves L y = b (forward) or L^T y = b (backward) in place. */
void hpo__solve_lower(const double *l, size_t n, double *b);
void hpo__solve_upper(const double *l, size_t n, double *b);
/* Eigen-decomposition of the symmetric n x n A (destroyed) by cyclic
 * Jacobi rotations: eigenvalues into w, eigenvectors into the columns of v. */
void hpo__eigen_sym(double *a, size_t n, double *w, double *v);
/* The standard normal's density and cumulative distribution. */
double hpo__phi(double z);
double hpo__Phi(double z);

/* --------------------------------------------------------- suggest.c */

/* One call of hpo_suggest, handed to the algorithm. The algorithm calls
 * hpo__emit for each assignment it makes (at most c->want), or sets
 * c->reason (and c->out->exhausted) when it stops short. */
typedef struct hpo__ctx {
  const hpo_space *space;
  const hpo_objective *obj;
  const hpo_algorithm *alg;
  const hpo_trials *trials;
  size_t d;                 /* parameters */
  hpo__dim *dims;           /* one per parameter */
  /* Scored trials (finished with a value), in number order: */
  const hpo_trial **done;
  double *loss;             /* minimised: the value, negated for maximize */
  size_t ndone;
  /* Assignments tried or being tried, with no value yet: running and
   * pending trials, then this call's suggestions as they are emitted. */
  double *busy;             /* nbusy rows of d (room for every trial and suggestion) */
  size_t nbusy;
  size_t want;              /* suggestions asked for */
  hpo_suggestions *out;
  /* Every assignment seen (the trials' and this call's), for duplicates. */
  uint64_t *seen_hash;
  size_t *seen_row;         /* 1 + index into seen_rows */
  size_t seen_cap;
  const double **seen_rows;
  size_t nseen;
} hpo__ctx;

/* The number the next emitted suggestion will get. */
int64_t hpo__next_number(const hpo__ctx *c);
/* Adds x to the suggestions (copied). */
void hpo__emit(hpo__ctx *c, const double *x);
/* 1 when assignment x equals a trial's or an earlier suggestion's. */
int hpo__seen(const hpo__ctx *c, const double *x);
/* A uniform assignment not seen before, drawn from stream 'number';
 * returns 0 (and leaves x unspecified) when a finite space has no unseen
 * assignment left. */
int hpo__random_unseen(const hpo__ctx *c, uint64_t number, double *x);
void hpo__stop(hpo__ctx *c, int exhausted, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The algorithms: each emits up to c->want suggestions. */
void hpo__random(hpo__ctx *c);
void hpo__grid(hpo__ctx *c);
void hpo__tpe(hpo__ctx *c);
void hpo__gp(hpo__ctx *c);
void hpo__cmaes(hpo__ctx *c);
void hpo__hyperband(hpo__ctx *c);

#endif
