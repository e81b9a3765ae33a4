/* The recorder: one controller per run kind (hist_kinds) that writes what
 * hist_observe_run decides into the history store and keeps the
 * cubit.dev/history finalizer (docs/history.md). Level-triggered: every
 * existing object is reconciled at start (the informers' first list), and
 * the runs the store still thinks alive are looked up once the cache has
 * synced, so what vanished while the recorder was away is marked deleted. */
#ifndef CUBIT_HISTORY_RECORDER_H
#define CUBIT_HISTORY_RECORDER_H

#include <jansson.h>
#include <stdint.h>

#include "api/gpu/gpu.h"
#include "history/store.h"
#include "runtime/manager.h"

typedef struct {
  int64_t finalizer_timeout_s; /* history.finalizerTimeoutSeconds, default 300 */
  int64_t retention_days;      /* history.retentionDays: runs that ended longer ago go; 0 = kept for ever */
  int64_t max_runs;            /* history.maxRuns: the oldest ended runs over this count go; 0 = no cap */
} hist_settings;

/* Parses the manager configuration's "history" section (may be NULL):
 * {"finalizerTimeoutSeconds": 1..604800, "retentionDays": 0..36500,
 * "maxRuns": 0..10^9}. Unknown fields are errors. */
int hist_settings_parse(const json_t *section, hist_settings *out, char *err, size_t errlen) CUBIT_WUR;

/* Registers the recorder's controllers. 'store' and 'gpu' (may be NULL) are
 * borrowed and must outlive the manager. */
int hist_recorder_register(rt_manager *m, hist_store *store, const gpu_profile *gpu, const hist_settings *settings) CUBIT_WUR;

/* Registers, for a manager with history off (no --history-db and no
 * "history" section in --config: no recorder anywhere), one controller per
 * run kind that removes the cubit.dev/history finalizer a recorder left, so
 * turning history off leaves nothing stuck. A manager whose --config has a
 * "history" section but no --history-db (the chart's controllers, with the
 * recorder in its own Deployment) must not: the finalizer is the recorder's. */
int hist_cleanup_register(rt_manager *m) CUBIT_WUR;

/* Rows deleted per retention transaction: the recorder's writes wait for
 * one batch at most (a few milliseconds). */
#define HIST_PRUNE_BATCH 500

/* One retention pass at 'now': batches until nothing is left to prune;
 * *deleted (may be NULL) counts the runs that went. */
int hist_prune(hist_store *store, const hist_settings *settings, int64_t now, int64_t *deleted, char *err,
               size_t errlen) CUBIT_WUR;

/* A thread applying retention every interval_s seconds (and once at
 * start) while settings ask for any; NULL when they do not. 'store' must
 * outlive it; hist_pruner_stop ends and joins it. */
typedef struct hist_pruner hist_pruner;
hist_pruner *hist_pruner_start(hist_store *store, const hist_settings *settings, int interval_s);
void hist_pruner_stop(hist_pruner *p);

#endif
