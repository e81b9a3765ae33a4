/* Daily usage roll-ups: a run's contribution (rollup.h). */
#include "history/rollup.h"

#include <stdlib.h>
#include <string.h>

#include "history/store.h"
#include "util/alloc.h"

int64_t hist_day_of(int64_t t) { return (t >= 0 ? t / HIST_DAY : (t - (HIST_DAY - 1)) / HIST_DAY) * HIST_DAY; }

static int cmp_cells(const void *x, const void *y) {
  const hist_cell *a = x, *b = y;
  if (a->day != b->day) return a->day < b->day ? -1 : 1;
  return strcmp(a->model, b->model);
}

void hist_rollup_cells(const hist_span *spans, size_t n, hist_cell **cells, size_t *ncells) {
  hist_cell *c = NULL;
  size_t nc = 0, cap = 0;
  for (size_t i = 0; i < n; i++) {
    const hist_span *sp = &spans[i];
    for (int64_t d = hist_day_of(sp->start); d < sp->end; d += HIST_DAY) {
      int64_t secs = hist_clip_seconds(sp->start, sp->end, d, d + HIST_DAY, 0);
      if (secs <= 0) continue;
      size_t k;
      for (k = 0; k < nc; k++)
        if (c[k].day == d && strcmp(c[k].model, sp->model) == 0) break;
      if (k == nc) {
        if (nc == cap) {
          cap = cap ? 2 * cap : 8;
          c = xrealloc(c, cap * sizeof *c);
        }
        memset(&c[k], 0, sizeof c[k]); /* whole: cells are compared with memcmp */
        c[k].day = d;
        memcpy(c[k].model, sp->model, sizeof c[k].model);
        nc++;
      }
      c[k].gpu_milli_seconds += secs * sp->gpu_milli;
      c[k].cpu_milli_seconds += secs * sp->cpu_milli;
    }
  }
  if (nc > 1) qsort(c, nc, sizeof *c, cmp_cells);
  /* The previous active day, overall and per model (a run has few models). */
  int64_t last_any = 0;
  struct {
    const char *model;
    int64_t last;
  } *seen = nc ? xcalloc(nc, sizeof *seen) : NULL;
  size_t nseen = 0;
  for (size_t k = 0; k < nc; k++) {
    c[k].runs_model = 1;
    size_t m;
    for (m = 0; m < nseen; m++)
      if (strcmp(seen[m].model, c[k].model) == 0) break;
    if (m == nseen) seen[nseen++].model = c[k].model;
    c[k].prev_model = seen[m].last;
    seen[m].last = c[k].day;
    if (k == 0 || c[k - 1].day != c[k].day) { /* the day's first model: sorted */
      c[k].runs_any = 1;
      c[k].prev_any = last_any;
      last_any = c[k].day;
    }
  }
  free(seen);
  *cells = c;
  *ncells = nc;
}
