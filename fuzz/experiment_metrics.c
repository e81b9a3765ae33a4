/* api/experiment/metrics.c: a trial's output read for its metrics. Input:
 * the output (a container's log or termination message); both formats.
 *
 * Properties:
 *   - parsing never fails; every value kept is finite and every series
 *     holds at most HPO_MAX_OBSERVATIONS;
 *   - an output still being written (complete = 0) reads as its part up to
 *     the last newline read as a complete output: an unfinished line is
 *     never half-read;
 *   - a complete output's observations begin with those of the unfinished
 *     reading (lines are read in order, one at a time). */
#include <math.h>

#include "api/experiment/metrics.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

static const char *const names[] = {"loss", "accuracy", "step", "val/top-1.acc", "x"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void check_series(const hpo_metrics *m) {
  for (size_t i = 0; i < m->n; i++) {
    FUZZ_ASSERT(m->series[i].n <= HPO_MAX_OBSERVATIONS, "series %s holds %zu", m->series[i].name, m->series[i].n);
    for (size_t k = 0; k < m->series[i].n; k++)
      FUZZ_ASSERT(isfinite(m->series[i].obs[k].value), "series %s: a value that is not finite", m->series[i].name);
  }
}

/* a's observations are b's, or (prefix) the first ones of b's. */
static void same(const hpo_metrics *a, const hpo_metrics *b, int prefix, const char *what) {
  FUZZ_ASSERT(a->n == b->n, "%s: %zu series and %zu", what, a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    const hpo_series *x = &a->series[i], *y = &b->series[i];
    FUZZ_ASSERT(prefix ? x->n <= y->n : x->n == y->n, "%s: series %s has %zu observations and %zu", what, x->name,
                x->n, y->n);
    for (size_t k = 0; k < x->n && k < y->n; k++)
      FUZZ_ASSERT(x->obs[k].step == y->obs[k].step && x->obs[k].value == y->obs[k].value,
                  "%s: series %s differs at %zu", what, x->name, k);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  size_t last = size;
  while (last > 0 && buf[last - 1] != '\n') last--;
  for (int f = 0; f < 2; f++) {
    hpo_metrics_format fmt = f ? HPO_METRICS_JSON : HPO_METRICS_TEXT;
    hpo_metrics partial, head, whole;
    hpo_metrics_parse(buf, size, fmt, 0, names, NNAMES, &partial);
    hpo_metrics_parse(buf, last, fmt, 1, names, NNAMES, &head);
    hpo_metrics_parse(buf, size, fmt, 1, names, NNAMES, &whole);
    check_series(&partial);
    check_series(&whole);
    same(&partial, &head, 0, "unfinished output vs its finished lines");
    int capped = 0;
    for (size_t i = 0; i < whole.n; i++) capped |= whole.series[i].n == HPO_MAX_OBSERVATIONS;
    if (!capped && size <= HPO_METRICS_MAX_BYTES) same(&partial, &whole, 1, "unfinished vs complete output");
    hpo_metrics_free(&partial);
    hpo_metrics_free(&head);
    hpo_metrics_free(&whole);
  }
  return 0;
}
