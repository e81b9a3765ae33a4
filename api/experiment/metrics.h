/* A trial's metrics read off its output (docs/experiment.md, "Metrics"):
 *
 *   text   name=value tokens anywhere on a line, Katib's default format:
 *            epoch 3 loss=0.21 accuracy=0.9
 *          a step= or epoch= token (or the word step or epoch and a
 *          number) gives the line's step
 *   json   one object per line: {"step": 3, "loss": 0.21, "accuracy": 0.9}
 *          ("step" or "epoch" gives the step)
 *
 * Without a step, an observation's step is its position in its metric's
 * series (1, 2, ...). Only the metrics asked for are kept. NaN, infinities,
 * values that are not numbers and lines that are not the format are
 * skipped; an unfinished last line is skipped unless the output is
 * complete. Output beyond HPO_METRICS_MAX_BYTES is not read, and a series
 * keeps its last HPO_MAX_OBSERVATIONS values. */
#ifndef CUBIT_API_EXPERIMENT_METRICS_H
#define CUBIT_API_EXPERIMENT_METRICS_H

#include <stddef.h>

#include "api/experiment/experiment.h"

#define HPO_METRICS_MAX_BYTES (1024 * 1024)
#define HPO_METRICS_MAX_SERIES (HPO_MAX_METRICS + 1)

typedef enum { HPO_METRICS_TEXT, HPO_METRICS_JSON } hpo_metrics_format;

typedef struct hpo_series {
  char name[HPO_NAME_LEN];
  hpo_observation *obs; /* owned, in the order reported */
  size_t n, cap;
} hpo_series;

typedef struct hpo_metrics {
  hpo_series series[HPO_METRICS_MAX_SERIES]; /* one per name asked for, in that order */
  size_t n;
} hpo_metrics;

/* Parses len bytes of output for the metrics names[0..nnames) (at most
 * HPO_METRICS_MAX_SERIES; the rest are ignored). 'complete': the output
 * is all there will be (a last line without a newline counts). Never
 * fails: what cannot be read is skipped. Free with hpo_metrics_free. */
void hpo_metrics_parse(const char *buf, size_t len, hpo_metrics_format fmt, int complete, const char *const *names,
                       size_t nnames, hpo_metrics *out);
void hpo_metrics_free(hpo_metrics *m);
/* The series of 'name', or NULL when it has no observation. */
const hpo_series *hpo_metrics_get(const hpo_metrics *m, const char *name);
const char *hpo_metrics_format_name(hpo_metrics_format f);

#endif
