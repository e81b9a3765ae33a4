/* Grid search: every point of the grid once, in order (the last parameter
 * varying fastest), skipping points already tried or being tried. A
 * double without a step gets gridPoints values, evenly spaced (by ratio
 * on a log scale), both ends included. The seed plays no part. */
#include <math.h>

#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

static uint64_t axis_size(const hpo__ctx *c, const hpo_param *p) {
  uint64_t k = hpo_param_size(p);
  return k ? k : (uint64_t)c->alg->grid.points;
}

static double axis_value(const hpo__ctx *c, const hpo_param *p, uint64_t k) {
  if (p->type == HPO_CATEGORICAL || p->type == HPO_DISCRETE) return (double)k;
  if (hpo_param_size(p)) return hpo_param_snap(p, p->min + (double)k * p->step);
  double f = (double)k / (double)(c->alg->grid.points - 1);
  if (k == 0) return p->min; /* the ends exactly, not by rounding */
  if (k + 1 == (uint64_t)c->alg->grid.points) return p->max;
  if (p->scale == HPO_LOG) return hpo_param_snap(p, exp(log(p->min) + f * (log(p->max) - log(p->min))));
  return hpo_param_snap(p, p->min + f * (p->max - p->min));
}

void hpo__grid(hpo__ctx *c) {
  uint64_t total = 1;
  for (size_t i = 0; i < c->d; i++) {
    uint64_t k = axis_size(c, &c->space->params[i]);
    total = total > UINT64_MAX / k ? UINT64_MAX : total * k;
  }
  double *x = xcalloc(c->d, sizeof(double));
  /* Points are visited in order; the ones before the first gap are all
   * seen, so the walk is as long as the trials plus the suggestions,
   * except when trials not on the grid's order leave holes. */
  uint64_t index = 0;
  while (c->out->n < c->want) {
    for (; index < total; index++) {
      uint64_t rest = index;
      for (size_t i = c->d; i-- > 0;) {
        const hpo_param *p = &c->space->params[i];
        uint64_t k = axis_size(c, p);
        x[i] = axis_value(c, p, rest % k);
        rest /= k;
      }
      if (!hpo__seen(c, x)) break;
    }
    if (index >= total) {
      hpo__stop(c, 1, "the grid's %llu points have all been tried", (unsigned long long)total);
      break;
    }
    hpo__emit(c, x);
    index++;
  }
  free(x);
}
