/* An informer: a reflector that keeps a store in step with the API server,
 * and the handlers told about every change.
 *
 * The reflector lists (paginated, on libuv's thread pool so the loop never
 * blocks; each item is cut down to the declared fields as it is decoded, so
 * a cold start never holds a whole list of whole objects), then watches from the list's resourceVersion with bookmarks and a
 * jittered timeout. When a watch ends it resumes from the last
 * resourceVersion seen, after a backoff of 800 ms doubling to 30 s when it
 * failed. On 410 Gone it lists again and replaces the store, delivering an
 * update for every object that changed and a delete for every object that
 * vanished while it was away.
 *
 * Everything except cache_informer_store/has_synced runs on the loop
 * thread, and so do the handlers. */
#ifndef CUBIT_CACHE_INFORMER_H
#define CUBIT_CACHE_INFORMER_H

#include <jansson.h>
#include <uv.h>

#include "cache/store.h"
#include "cache/transform.h"
#include "kube/client.h"
#include "kube/watch.h"

typedef struct cache_handlers {
  /* Objects are borrowed for the duration of the call. */
  void (*on_add)(json_t *obj, void *arg);
  void (*on_update)(json_t *old_obj, json_t *new_obj, void *arg);
  void (*on_delete)(json_t *obj, void *arg);
  void *arg;
} cache_handlers;

typedef struct cache_informer_options {
  const kube_resource *resource;
  const char *namespace;      /* NULL = all namespaces */
  const char *label_selector; /* NULL = everything */
  const char *field_selector;
  long page_size;             /* default 500 */
  /* What the store keeps of each object (cache/transform.h), NULL-terminated
   * paths; NULL keeps whole objects. Copied. */
  const char *const *fields;
  /* With fields: the field manager whose server-side applied fields are
   * kept too (cache_fields_keep_applied), or NULL. */
  const char *applied_by;
  long min_watch_timeout_s;   /* watches last [min, 2*min), default 300 */
} cache_informer_options;

typedef struct cache_informer cache_informer;

/* The informer keeps pointers to loop, client and watcher, which must
 * outlive it; options are copied. */
cache_informer *cache_informer_new(uv_loop_t *loop, kube_client *c, kube_watcher *wr,
                                   const cache_informer_options *o);
/* Adds handlers before start. Up to 16 handler sets. */
void cache_informer_add_handlers(cache_informer *inf, const cache_handlers *h);
cache_store *cache_informer_store(cache_informer *inf);
const kube_resource *cache_informer_resource(cache_informer *inf);
int cache_informer_start(cache_informer *inf) CUBIT_WUR;
/* 1 once the first list has been stored and delivered. Any thread. */
int cache_informer_has_synced(cache_informer *inf);
/* The resourceVersion the reflector last saw. Loop thread. */
const char *cache_informer_last_rv(cache_informer *inf);
/* Stops the reflector; 'done' runs when the informer has been freed (after
 * an in-flight list finishes). */
void cache_informer_stop(cache_informer *inf, void (*done)(void *arg), void *arg);

/* Test hook: a paused informer stops its watch and does not resume it until
 * unpaused, when it watches again from the last resourceVersion it saw, as
 * after a network partition. Loop thread. */
void cache_informer_set_paused(cache_informer *inf, int paused);

/* Counters for tests and benchmarks (loop thread). */
typedef struct cache_informer_stats {
  unsigned long lists, watches, relists_on_gone, events, watch_errors;
} cache_informer_stats;
void cache_informer_get_stats(cache_informer *inf, cache_informer_stats *out);

#endif
