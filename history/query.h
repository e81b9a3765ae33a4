/* The history API's query strings, parsed into small structs at the edge
 * (docs/history.md). Pure; every parser has a fuzz target (fuzz_query.c).
 *
 *   runs:  project, kind, namespace, phase, user, parent, from, to, limit, after, format,
 *          label (repeatable, all must hold: name=value, name!=value, name, !name)
 *   run:   uid
 *   usage: project, by (day | week | month | member | gpu-model | project), from, to, format
 *
 * format is json or csv ("" when not given: the Accept header decides).
 *
 * Values are percent-decoded ('+' is a space). Times are RFC 3339
 * ("2026-12-01T00:00:00Z") or epoch seconds. A parameter given twice, an
 * unknown parameter, an empty or over-long value is an error naming the
 * parameter and the reason. */
#ifndef CUBIT_HISTORY_QUERY_H
#define CUBIT_HISTORY_QUERY_H

#include <stdint.h>

#include "history/store.h"
#include "util/err.h"

#define HIST_QVAL_LEN 256

typedef struct {
  char project[HIST_QVAL_LEN], kind[HIST_QVAL_LEN], ns[HIST_QVAL_LEN], phase[HIST_QVAL_LEN], user[HIST_QVAL_LEN];
  char after[HIST_QVAL_LEN];
  char parent[HIST_QVAL_LEN]; /* a run's uid: the runs that belong to it */
  int64_t from, to; /* 0 when absent */
  int limit;        /* 1..1000, default 100 */
  char format[8];   /* "json", "csv" or "" */
  hist_label_sel labels[HIST_MAX_LABEL_SELS];
  size_t nlabels;
} hist_runs_query;

typedef struct {
  char uid[HIST_QVAL_LEN];
} hist_run_query;

typedef struct {
  char project[HIST_QVAL_LEN];
  char by[16];      /* "day" (default), "week", "month", "member", "gpu-model", "project" */
  int64_t from, to; /* required window: to > from, at most 400 days */
  char format[8];   /* "json", "csv" or "" */
} hist_usage_query;

/* An Experiment's trials: /api/v1/experiments/{namespace}/{name}/trials
 * with no query parameters. */
typedef struct {
  char ns[254], name[254];
} hist_trials_query;

#define HIST_EXPERIMENTS_PREFIX "/api/v1/experiments/"

/* The percent-decoded value of the first parameter 'name' in query into
 * out: 1, or 0 when it is absent or does not decode (out is ""). */
int hist_query_value(const char *query, const char *name, char *out, size_t outlen);

int hist_parse_trials_query(const char *path, const char *query, hist_trials_query *out, char *err,
                            size_t errlen) CUBIT_WUR;
int hist_parse_runs_query(const char *query, hist_runs_query *out, char *err, size_t errlen) CUBIT_WUR;
int hist_parse_run_query(const char *query, hist_run_query *out, char *err, size_t errlen) CUBIT_WUR;
/* 'now' is the default 'to'; 'from' defaults to 30 days before 'to'. */
int hist_parse_usage_query(const char *query, int64_t now, hist_usage_query *out, char *err, size_t errlen) CUBIT_WUR;

#endif
