/* Hyperband (Li et al. 2018): brackets of successive halving. Bracket s
 * (from s_max = floor(log_eta(max / min)) down to 0, then again) starts
 * n = ceil((s_max + 1) / (s + 1) * eta^s) random configurations with the
 * resource at max * eta^-s; each rung keeps the best 1/eta of the one
 * before (floor(n_i / eta), while any are left) and runs them with eta
 * times the resource. The resource is the parameter named by
 * resourceName (epochs, steps); it is min at the smallest rung.
 *
 * No state is kept: the trials, in number order, fill the schedule's slots
 * one after the other, so trial k is slot k. A rung's slots are suggested
 * only once the rung before has finished (a failed trial ranks last); until
 * then hpo_suggest says it waits. A promoted configuration is a new trial
 * with the same values and the larger resource. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

typedef struct ranked {
  double loss;
  int64_t number;
  size_t pos;
} ranked;

static int by_loss(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
  return (x->number > y->number) - (x->number < y->number);
}

/* A random configuration at resource r, not seen before when possible. */
static void fresh_config(hpo__ctx *c, size_t res, double r, double *x) {
  hpo__rng rng;
  hpo__rng_init(&rng, c->alg->seed, (uint64_t)hpo__next_number(c), HPO__USE_RANDOM);
  for (int attempt = 0; attempt < 64; attempt++) {
    for (size_t k = 0; k < c->d; k++) x[k] = hpo__sample(&c->space->params[k], &rng);
    x[res] = r;
    if (!hpo__seen(c, x)) return;
  }
}

void hpo__hyperband(hpo__ctx *c) {
  const hpo_trials *tr = c->trials;
  size_t res = (size_t)c->alg->hyperband.resource_index;
  const hpo_param *rp = &c->space->params[res];
  double eta = c->alg->hyperband.eta, rmax = rp->max;
  int smax = (int)floor(log(rp->max / rp->min) / log(eta) + 1e-9);
  double *x = xcalloc(c->d, sizeof(double));
  ranked *rk = NULL;
  size_t pos = 0; /* the first slot of the current rung */
  for (uint64_t b = 0;; b++) {
    int s = smax - (int)(b % (uint64_t)(smax + 1));
    double n = ceil((double)(smax + 1) / (s + 1) * pow(eta, s));
    size_t prev_pos = 0, prev_n = 0;
    for (int i = 0; i <= s; i++) {
      size_t ni = (size_t)floor(n * pow(eta, -i) + 1e-9);
      if (ni == 0) break;
      double r = hpo_param_snap(rp, rmax * pow(eta, i - s));
      int ranked_prev = 0;
      for (size_t j = 0; j < ni; j++) {
        size_t p = pos + j;
        if (p < tr->n + c->out->n) continue; /* a trial or an earlier suggestion holds it */
        if (i == 0) {
          fresh_config(c, res, r, x);
        } else {
          if (!ranked_prev) {
            size_t running = 0;
            for (size_t q = prev_pos; q < prev_pos + prev_n; q++)
              running += q >= tr->n || !hpo_trial_finished(&tr->items[q]);
            if (running) {
              hpo__stop(c, 0, "waiting for rung %d of hyperband's bracket %d to finish (%zu of its %zu trials "
                        "still running)", i, s, running, prev_n);
              goto out;
            }
            rk = xrealloc(rk, prev_n * sizeof(ranked));
            for (size_t q = 0; q < prev_n; q++) {
              const hpo_trial *t = &tr->items[prev_pos + q];
              rk[q] = (ranked){hpo_trial_scored(t) ? hpo_loss(c->obj, t->value) : INFINITY, t->number, prev_pos + q};
            }
            qsort(rk, prev_n, sizeof(ranked), by_loss);
            ranked_prev = 1;
          }
          memcpy(x, tr->items[rk[j].pos].x, c->d * sizeof(double));
          x[res] = r;
        }
        hpo__emit(c, x);
        if (c->out->n == c->want) goto out;
      }
      prev_pos = pos;
      prev_n = ni;
      pos += ni;
    }
  }
out:
  free(rk);
  free(x);
}
