/* The median stopping rule (Golovin et al., "Google Vizier", 2017): a
 * running trial is stopped when its best value so far is worse than the
 * median of what the succeeded trials had reached, on average, by the same
 * step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/suggest/suggest.h"
#include "util/alloc.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The mean of t's values reported at steps <= step; 0 when it has none. */
static int running_average(const hpo_trial *t, int64_t step, double *avg) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < t->nobs; i++)
    if (t->obs[i].step <= step) {
      sum += t->obs[i].value;
      n++;
    }
  if (n == 0) return 0;
  *avg = sum / (double)n;
  return 1;
}

void hpo_early_stop(const hpo_objective *obj, const hpo_early_stopping *es, const hpo_trials *trials,
                    hpo_stops *out) {
  memset(out, 0, sizeof(*out));
  if (es->kind != HPO_ES_MEDIANSTOP || trials->n == 0) return;
  double *avgs = xcalloc(trials->n, sizeof(double));
  for (size_t i = 0; i < trials->n; i++) {
    const hpo_trial *t = &trials->items[i];
    if (t->state != HPO_TRIAL_RUNNING || t->nobs == 0) continue;
    int64_t step = t->obs[0].step;
    double best = t->obs[0].value;
    for (size_t k = 1; k < t->nobs; k++) {
      if (t->obs[k].step > step) step = t->obs[k].step;
      if (hpo_better(obj, t->obs[k].value, best)) best = t->obs[k].value;
    }
    if (step < es->start_step) continue;
    size_t n = 0;
    for (size_t j = 0; j < trials->n; j++)
      if (trials->items[j].state == HPO_TRIAL_SUCCEEDED && running_average(&trials->items[j], step, &avgs[n])) n++;
    if (n < (size_t)es->min_trials) continue;
    qsort(avgs, n, sizeof(double), cmp_double);
    double median = n % 2 ? avgs[n / 2] : 0.5 * (avgs[n / 2 - 1] + avgs[n / 2]);
    if (!hpo_better(obj, median, best)) continue;
    out->items = xrealloc(out->items, (out->n + 1) * sizeof(hpo_stop));
    hpo_stop *s = &out->items[out->n++];
    s->trial = i;
    snprintf(s->reason, sizeof(s->reason), "medianstop: best %s %g by step %lld is worse than the median %g of %zu "
             "succeeded trials' running averages", obj->metric, best, (long long)step, median, n);
  }
  free(avgs);
}

void hpo_stops_free(hpo_stops *s) {
  free(s->items);
  memset(s, 0, sizeof(*s));
}
