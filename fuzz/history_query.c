/* libFuzzer target of the history API's query parsers (history/query.h):
 * every input is handed, NUL-terminated, to each parser; a parser must
 * answer 0 or CUBIT_EINVAL with a message, never crash or overrun; the
 * label selectors it accepts are well formed; the CSV choice
 * (hist_api_wants_csv) takes any query and Accept header.
 * Built as fuzz_history_query with the other targets (docs/fuzzing.md). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history/api.h"
#include "history/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *q = malloc(size + 1);
  if (q == NULL) return 0;
  memcpy(q, data, size);
  q[size] = '\0';
  char err[256];
  hist_runs_query r;
  hist_run_query one;
  hist_usage_query u;
  int rc = hist_parse_runs_query(q, &r, err, sizeof err);
  if (rc != 0 && (rc != CUBIT_EINVAL || err[0] == '\0')) abort();
  if (rc == 0 && (r.limit < 1 || r.limit > 1000 || (r.from && r.to && r.to <= r.from))) abort();
  /* label selectors: at most HIST_MAX_LABEL_SELS, each a non-empty name
   * (no '=' or '!' in it), a value only with = and != */
  if (rc == 0 && r.nlabels > HIST_MAX_LABEL_SELS) abort();
  for (size_t i = 0; rc == 0 && i < r.nlabels; i++) {
    const hist_label_sel *l = &r.labels[i];
    if (l->name[0] == '\0' || strpbrk(l->name, "=!") || strpbrk(l->value, "=!/")) abort();
    if ((l->op == HIST_LABEL_EXISTS || l->op == HIST_LABEL_NOT_EXISTS) && l->value[0]) abort();
  }
  /* the CSV choice never fails, whatever the query and Accept */
  (void)hist_api_wants_csv("/api/v1/runs", q, q);
  if (rc == 0 && strcmp(r.format, "csv") == 0 && !hist_api_wants_csv("/api/v1/runs", q, NULL)) abort();
  rc = hist_parse_run_query(q, &one, err, sizeof err);
  if (rc != 0 && (rc != CUBIT_EINVAL || err[0] == '\0')) abort();
  rc = hist_parse_usage_query(q, 1796083200, &u, err, sizeof err);
  if (rc != 0 && (rc != CUBIT_EINVAL || err[0] == '\0')) abort();
  if (rc == 0 && (u.to <= u.from || u.to - u.from > 400 * 86400)) abort();
  /* the input as the trials endpoint's path (up to a '?') and query */
  hist_trials_query t;
  char *mark = strchr(q, '?');
  if (mark) *mark = '\0';
  rc = hist_parse_trials_query(q, mark ? mark + 1 : "", &t, err, sizeof err);
  if (rc != 0 && (rc != CUBIT_EINVAL || err[0] == '\0')) abort();
  if (rc == 0 && (t.ns[0] == '\0' || t.name[0] == '\0')) abort();
  free(q);
  return 0;
}
