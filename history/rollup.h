/* Daily usage roll-ups (docs/history.md, "Roll-ups"): what one run adds to
 * the per-day cells the usage query sums instead of reading every run. Pure.
 *
 * A run's contribution is a function of its closed pod intervals alone:
 * each interval is split at UTC midnight and summed per (day, GPU model).
 * The store keeps the cells equal to the sum of the contributions of the
 * runs it holds (plus those retention pruned): every write that may change
 * a run's contribution subtracts the old one and adds the new one in the
 * same transaction, so replays (same rows, same contribution) change
 * nothing. A run with a pod still running contributes nothing; the query
 * reads such runs raw (their time grows with 'now').
 *
 * Runs are counted distinctly across days and models without reading the
 * runs: each (day, model) cell of a run carries the previous day the run
 * was active with that model (prev_model) and, in the cell of the run's
 * first model of the day only, the previous day it was active at all
 * (prev_any). Over whole days [A, B) a run is counted once, in the cell of
 * its first active day in the range: the one whose prev is before A. */
#ifndef CUBIT_HISTORY_ROLLUP_H
#define CUBIT_HISTORY_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#define HIST_DAY 86400
#define HIST_MODEL_LEN 72 /* gpu_model is VARCHAR(64) */

/* A closed pod interval of a run. */
typedef struct {
  int64_t start, end; /* end <= start (clock skew) counts nothing */
  int64_t gpu_milli, cpu_milli;
  char model[HIST_MODEL_LEN];
} hist_span;

/* One (day, model) cell of a run's contribution. */
typedef struct {
  int64_t day; /* the UTC midnight, epoch seconds */
  char model[HIST_MODEL_LEN];
  int64_t gpu_milli_seconds, cpu_milli_seconds;
  int64_t runs_model, prev_model; /* 1; the previous day active with this model, 0 = none */
  int64_t runs_any, prev_any;     /* 1 in the day's first model's cell, else 0; the previous active day, 0 = none */
} hist_cell;

/* The UTC midnight at or before t. */
int64_t hist_day_of(int64_t t);

/* The cells of a run whose closed intervals are spans[0..n), sorted by
 * (day, model), into *cells (the caller's, free; NULL when none). Only
 * (day, model) pairs with a positive clipped time appear: a run counts
 * where the raw query would count it. */
void hist_rollup_cells(const hist_span *spans, size_t n, hist_cell **cells, size_t *ncells);

#endif
