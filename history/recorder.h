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
} hist_settings;

/* Parses the manager configuration's "history" section (may be NULL):
 * {"finalizerTimeoutSeconds": int > 0}. Unknown fields are errors. */
int hist_settings_parse(const json_t *section, hist_settings *out, char *err, size_t errlen) CUBIT_WUR;

/* Registers the recorder's controllers. 'store' and 'gpu' (may be NULL) are
 * borrowed and must outlive the manager. */
int hist_recorder_register(rt_manager *m, hist_store *store, const gpu_profile *gpu, const hist_settings *settings) CUBIT_WUR;

#endif
