/* Events: every state change a user cares about shows in `kubectl describe`.
 *
 * Repeated events (same object, type, reason and message) are aggregated as
 * client-go does: the first creates a core/v1 Event, later ones raise its
 * count and lastTimestamp instead of creating new objects. Recording never
 * fails a reconcile; a failed write is logged. Thread-safe. */
#ifndef CUBIT_RUNTIME_EVENTS_H
#define CUBIT_RUNTIME_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "kube/client.h"

typedef struct rt_recorder rt_recorder;

/* component is the Event's source.component ("cubit-manager"). */
rt_recorder *rt_recorder_new(kube_client *c, const char *component);
void rt_recorder_free(rt_recorder *r);
/* Records an event about obj (borrowed). type is "Normal" or "Warning". */
void rt_event(rt_recorder *r, const json_t *obj, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The aggregation decision, exposed for tests: looks up (or adds) the series
 * for 'key' seen at 'now'. Returns its count after this occurrence (1 = new
 * series: create an Event named *name_out) and the Event's name (a string
 * owned by the recorder, valid until the next call). */
unsigned rt__event_observe(rt_recorder *r, const char *key, const char *obj_name, int64_t now_ns,
                           const char **name_out);
/* Forgets a series whose Event vanished (expired by the server's TTL). */
void rt__event_forget(rt_recorder *r, const char *key);

#endif
