/* The coordinates the models work in. A log scale is searched in its
 * logarithm; integers, steps and discrete lists are continuous
 * coordinates that round to bins, so a model's density or kernel sees
 * their order; categories stay indices. */
#include <math.h>

#include "controllers/experiment/suggest/internal.h"

/* Integers on a log scale keep their own values (every integer, no step). */
static int int_log(const hpo_param *p) { return p->type == HPO_INT && p->scale == HPO_LOG; }

void hpo__dim_of(const hpo_param *p, hpo__dim *d) {
  d->ncat = 0;
  if (p->type == HPO_CATEGORICAL) {
    d->kind = HPO__CAT;
    d->ncat = p->nlist;
    d->lo = 0;
    d->hi = (double)p->nlist - 1;
  } else if (p->type == HPO_DISCRETE) {
    d->kind = HPO__ORD;
    d->lo = -0.5;
    d->hi = (double)p->nlist - 0.5;
  } else if (int_log(p)) {
    d->kind = HPO__ORD;
    d->lo = log(p->min - 0.5);
    d->hi = log(p->max + 0.5);
  } else if (p->nsteps > 0) {
    d->kind = HPO__ORD;
    d->lo = -0.5;
    d->hi = (double)p->nsteps - 0.5;
  } else {
    d->kind = HPO__CONT;
    d->lo = p->scale == HPO_LOG ? log(p->min) : p->min;
    d->hi = p->scale == HPO_LOG ? log(p->max) : p->max;
  }
}

double hpo__to_internal(const hpo_param *p, double x) {
  if (p->type == HPO_CATEGORICAL || p->type == HPO_DISCRETE) return x;
  if (p->scale == HPO_LOG) return log(x);
  if (p->nsteps > 0) return round((x - p->min) / p->step);
  return x;
}

double hpo__from_internal(const hpo_param *p, double t) {
  if (p->type == HPO_CATEGORICAL || p->type == HPO_DISCRETE) return hpo_param_snap(p, t);
  if (p->scale == HPO_LOG) return hpo_param_snap(p, exp(t));
  if (p->nsteps > 0) return hpo_param_snap(p, p->min + round(t) * p->step);
  return hpo_param_snap(p, t);
}

void hpo__bin(const hpo_param *p, double x, double *a, double *b) {
  if (int_log(p)) {
    *a = log(x - 0.5);
    *b = log(x + 0.5);
    return;
  }
  double t = hpo__to_internal(p, x);
  *a = t - 0.5;
  *b = t + 0.5;
}

double hpo__to_unit(const hpo_param *p, const hpo__dim *d, double x) {
  if (d->kind == HPO__CAT) return x;
  double t = hpo__to_internal(p, x);
  return (t - d->lo) / (d->hi - d->lo);
}

double hpo__from_unit(const hpo_param *p, const hpo__dim *d, double u) {
  if (d->kind == HPO__CAT) return hpo_param_snap(p, u);
  if (u < 0) u = 0;
  if (u > 1) u = 1;
  return hpo__from_internal(p, d->lo + u * (d->hi - d->lo));
}

double hpo__sample(const hpo_param *p, hpo__rng *r) {
  if (p->type == HPO_CATEGORICAL || p->type == HPO_DISCRETE) return (double)hpo__rng_below(r, p->nlist);
  if (p->nsteps > 0 && !int_log(p)) return p->min + (double)hpo__rng_below(r, p->nsteps) * p->step;
  hpo__dim d;
  hpo__dim_of(p, &d);
  return hpo__from_internal(p, d.lo + hpo__rng_uniform(r) * (d.hi - d.lo));
}
