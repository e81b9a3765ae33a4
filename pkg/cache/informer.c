#include "cache/informer.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

#define MAX_HANDLERS 16
#define BACKOFF_MIN_MS 800
#define BACKOFF_MAX_MS 30000

enum retry_what { RETRY_WATCH, RETRY_LIST };

struct cache_informer {
  uv_loop_t *loop;
  kube_client *client;
  kube_watcher *wr;
  kube_resource res; /* strings borrowed from the caller's static definition */
  char *ns, *label_selector, *field_selector;
  long page_size, min_timeout_s;
  cache_store *store;
  cache_fields *fields; /* what the store keeps; read by the list thread too */
  cache_handlers handlers[MAX_HANDLERS];
  int nhandlers;
  char *last_rv;
  atomic_int synced;
  kube_watch *watch;
  uv_timer_t retry_timer;
  enum retry_what retry;
  int64_t backoff_ms;
  /* the list in flight on the thread pool */
  uv_work_t list_req;
  int listing;
  json_t *list_items; /* key → the item cut down, as compact JSON text */
  char *list_rv;
  int list_rc;
  kube_status list_st;
  int paused;
  /* stopping */
  int stopping, timer_closed;
  void (*stop_done)(void *arg);
  void *stop_arg;
  unsigned int seed;
  cache_informer_stats stats;
};

static void begin_list(cache_informer *inf);
static void start_watch(cache_informer *inf);
static void on_retry(uv_timer_t *t);

cache_informer *cache_informer_new(uv_loop_t *loop, kube_client *c, kube_watcher *wr,
                                   const cache_informer_options *o) {
  cache_informer *inf = xcalloc(1, sizeof(*inf));
  inf->loop = loop;
  inf->client = c;
  inf->wr = wr;
  inf->res = *o->resource;
  inf->ns = o->namespace ? xstrdup(o->namespace) : NULL;
  inf->label_selector = o->label_selector ? xstrdup(o->label_selector) : NULL;
  inf->field_selector = o->field_selector ? xstrdup(o->field_selector) : NULL;
  inf->page_size = o->page_size > 0 ? o->page_size : 500;
  inf->min_timeout_s = o->min_watch_timeout_s > 0 ? o->min_watch_timeout_s : 300;
  inf->store = cache_store_new();
  /* The manager's field sets are static and valid; a bad one is a bug. */
  if (cache_fields_new(o->fields, &inf->fields) != 0) abort();
  if (o->applied_by) cache_fields_keep_applied(inf->fields, o->applied_by);
  inf->backoff_ms = BACKOFF_MIN_MS;
  inf->seed = (unsigned int)time_mono_ms() ^ (unsigned int)(uintptr_t)inf;
  uv_timer_init(loop, &inf->retry_timer);
  inf->retry_timer.data = inf;
  return inf;
}

void cache_informer_add_handlers(cache_informer *inf, const cache_handlers *h) {
  if (inf->nhandlers == MAX_HANDLERS) abort();
  inf->handlers[inf->nhandlers++] = *h;
}

cache_store *cache_informer_store(cache_informer *inf) {
  return inf->store;
}

const kube_resource *cache_informer_resource(cache_informer *inf) {
  return &inf->res;
}

int cache_informer_has_synced(cache_informer *inf) {
  return atomic_load(&inf->synced);
}

const char *cache_informer_last_rv(cache_informer *inf) {
  return inf->last_rv;
}

void cache_informer_get_stats(cache_informer *inf, cache_informer_stats *out) {
  *out = inf->stats;
}

static void set_rv(cache_informer *inf, const char *rv) {
  if (rv == NULL || *rv == '\0') return;
  free(inf->last_rv);
  inf->last_rv = xstrdup(rv);
}

static void deliver_add(cache_informer *inf, json_t *obj) {
  for (int i = 0; i < inf->nhandlers; i++)
    if (inf->handlers[i].on_add) inf->handlers[i].on_add(obj, inf->handlers[i].arg);
}

static void deliver_update(cache_informer *inf, json_t *old_obj, json_t *new_obj) {
  for (int i = 0; i < inf->nhandlers; i++)
    if (inf->handlers[i].on_update) inf->handlers[i].on_update(old_obj, new_obj, inf->handlers[i].arg);
}

static void deliver_delete(cache_informer *inf, json_t *obj) {
  for (int i = 0; i < inf->nhandlers; i++)
    if (inf->handlers[i].on_delete) inf->handlers[i].on_delete(obj, inf->handlers[i].arg);
}

/* Stores obj and tells the handlers whether it is new or changed. */
static void store_and_deliver(cache_informer *inf, json_t *obj) {
  json_t *old = cache_store_upsert(inf->store, obj);
  if (old == NULL) {
    deliver_add(inf, obj);
  } else {
    const char *a = js_resource_version(old), *b = js_resource_version(obj);
    if (a == NULL || b == NULL || strcmp(a, b) != 0) deliver_update(inf, old, obj);
    json_decref(old);
  }
}

/* Exponential backoff with jitter (client-go: 800 ms, factor 2, jitter 1.0,
 * cap 30 s). */
static void schedule_retry(cache_informer *inf, enum retry_what what) {
  int64_t delay = inf->backoff_ms + (int64_t)(rand_r(&inf->seed) % (unsigned int)inf->backoff_ms);
  if (delay > BACKOFF_MAX_MS) delay = BACKOFF_MAX_MS;
  inf->backoff_ms = inf->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : inf->backoff_ms * 2;
  inf->retry = what;
  uv_timer_start(&inf->retry_timer, on_retry, (uint64_t)delay, 0);
  log_v(2, "reflector", "retrying", "resource=%s what=%s delay_ms=%lld", inf->res.resource,
        what == RETRY_LIST ? "list" : "watch", (long long)delay);
}

static void on_retry(uv_timer_t *t) {
  cache_informer *inf = t->data;
  if (inf->stopping || inf->paused) return;
  if (inf->retry == RETRY_LIST || inf->last_rv == NULL) begin_list(inf);
  else start_watch(inf);
}

static void on_event(kube_watch *w, const char *type, json_t *obj, void *arg) {
  cache_informer *inf = arg;
  inf->stats.events++;
  inf->backoff_ms = BACKOFF_MIN_MS; /* the server answers: forget earlier failures */
  set_rv(inf, js_resource_version(obj));
  if (strcmp(type, "BOOKMARK") == 0) return;
  cache_transform(inf->fields, obj);
  if (strcmp(type, "DELETED") == 0) {
    char *key = cache_key(obj);
    json_t *old = cache_store_remove(inf->store, key);
    free(key);
    deliver_delete(inf, obj);
    json_decref(old);
    return;
  }
  store_and_deliver(inf, obj); /* ADDED or MODIFIED */
}

static void on_watch_end(kube_watch *w, int code, const kube_status *st, void *arg) {
  cache_informer *inf = arg;
  inf->watch = NULL;
  if (inf->stopping || inf->paused) return;
  if (code == 0) {
    start_watch(inf); /* the server's timeout: resume at once */
  } else if (code == CUBIT_EGONE) {
    inf->stats.relists_on_gone++;
    log_info("reflector", "resourceVersion too old, relisting", "resource=%s resourceVersion=%s",
             inf->res.resource, inf->last_rv ? inf->last_rv : "");
    begin_list(inf);
  } else {
    inf->stats.watch_errors++;
    log_warn("reflector", "watch failed", "resource=%s error=%s http=%ld message=\"%s\"", inf->res.resource,
             cubit_strerror(code), st ? st->http_status : 0L, st ? st->message : "");
    schedule_retry(inf, RETRY_WATCH);
  }
}

static void start_watch(cache_informer *inf) {
  kube_list_options o = {0};
  o.label_selector = inf->label_selector;
  o.field_selector = inf->field_selector;
  o.resource_version = inf->last_rv;
  o.allow_bookmarks = 1;
  /* Jittered so that watches of many informers do not all end together. */
  o.timeout_seconds = inf->min_timeout_s + (long)(rand_r(&inf->seed) % (unsigned int)inf->min_timeout_s);
  inf->stats.watches++;
  int rc = kube_watch_start(inf->wr, &inf->res, inf->ns, &o, on_event, on_watch_end, inf, &inf->watch);
  if (rc) {
    inf->watch = NULL;
    log_warn("reflector", "cannot start watch", "resource=%s error=%s", inf->res.resource, cubit_strerror(rc));
    schedule_retry(inf, RETRY_WATCH);
  }
}

/* On the list thread: each item is cut down as soon as it is decoded and
 * kept as text until the list is complete (the store keeps text too: a
 * cold start must not hold every listed object as a jansson tree, about
 * eight times its text, next to the store it is filling). */
static int keep_item(json_t *item, void *arg) {
  cache_informer *inf = arg;
  cache_transform(inf->fields, item);
  char *key = cache_key(item);
  size_t len;
  char *text = js_pack(item, &len);
  json_decref(item);
  json_object_set_new_nocheck(inf->list_items, key, json_stringn_nocheck(text, len));
  free(text);
  free(key);
  return 0;
}

static void forget_items(void *arg) {
  cache_informer *inf = arg;
  json_object_clear(inf->list_items);
}

static void list_work(uv_work_t *req) {
  cache_informer *inf = req->data;
  kube_list_options o = {0};
  o.label_selector = inf->label_selector;
  o.field_selector = inf->field_selector;
  o.limit = inf->page_size;
  memset(&inf->list_st, 0, sizeof(inf->list_st));
  inf->list_items = json_object();
  inf->list_rv = NULL;
  inf->list_rc = kube_list_each(inf->client, &inf->res, inf->ns, &o, keep_item, forget_items, inf, &inf->list_rv,
                                &inf->list_st);
}

static void finish_stop(cache_informer *inf);

/* Replaces the store with a fresh list (key → text, from keep_item): new
 * and changed objects are delivered as adds and updates, objects that
 * vanished as deletes. Each item's text is dropped once it is stored. */
static void replace_store(cache_informer *inf, json_t *items) {
  size_t nold;
  char **old_keys = cache_store_keys(inf->store, &nold);
  for (size_t i = 0; i < nold; i++) {
    if (json_object_get(items, old_keys[i]) == NULL) {
      json_t *gone = cache_store_remove(inf->store, old_keys[i]);
      if (gone) deliver_delete(inf, gone);
      json_decref(gone);
    }
    free(old_keys[i]);
  }
  free(old_keys);
  const char *key;
  json_t *text;
  json_object_foreach(items, key, text) {
    json_t *obj = js_unpack(json_string_value(text), json_string_length(text));
    json_string_setn_nocheck(text, "", 0);
    store_and_deliver(inf, obj);
    json_decref(obj);
  }
}

static void list_done(uv_work_t *req, int status) {
  cache_informer *inf = req->data;
  inf->listing = 0;
  json_t *items = inf->list_items;
  char *rv = inf->list_rv;
  inf->list_items = NULL;
  inf->list_rv = NULL;
  if (inf->stopping) {
    json_decref(items);
    free(rv);
    finish_stop(inf);
    return;
  }
  if (inf->list_rc) {
    json_decref(items);
    free(rv);
    log_warn("reflector", "list failed", "resource=%s error=%s http=%ld message=\"%s\"", inf->res.resource,
             cubit_strerror(inf->list_rc), inf->list_st.http_status, inf->list_st.message);
    schedule_retry(inf, RETRY_LIST);
    return;
  }
  replace_store(inf, items);
  set_rv(inf, rv);
  json_decref(items);
  free(rv);
#ifdef __GLIBC__
  /* A list decodes whole objects before cutting them down: hand the pages
   * that freed back to the system so a cold start's peak does not stay. */
  malloc_trim(0);
#endif
  if (!atomic_load(&inf->synced)) {
    atomic_store(&inf->synced, 1);
    log_info("reflector", "synced", "resource=%s objects=%zu resourceVersion=%s", inf->res.resource,
             cache_store_len(inf->store), inf->last_rv ? inf->last_rv : "");
  }
  inf->backoff_ms = BACKOFF_MIN_MS;
  if (!inf->paused) start_watch(inf);
}

static void begin_list(cache_informer *inf) {
  inf->stats.lists++;
  inf->listing = 1;
  inf->list_req.data = inf;
  if (uv_queue_work(inf->loop, &inf->list_req, list_work, list_done) != 0) abort();
}

int cache_informer_start(cache_informer *inf) {
  begin_list(inf);
  return 0;
}

static void free_informer(cache_informer *inf) {
  void (*done)(void *) = inf->stop_done;
  void *arg = inf->stop_arg;
  cache_store_free(inf->store);
  cache_fields_free(inf->fields);
  free(inf->ns);
  free(inf->label_selector);
  free(inf->field_selector);
  free(inf->last_rv);
  free(inf);
  if (done) done(arg);
}

static void finish_stop(cache_informer *inf) {
  if (inf->listing || !inf->timer_closed) return;
  free_informer(inf);
}

static void timer_closed(uv_handle_t *h) {
  cache_informer *inf = h->data;
  inf->timer_closed = 1;
  finish_stop(inf);
}

void cache_informer_set_paused(cache_informer *inf, int paused) {
  if (inf->stopping || inf->paused == paused) return;
  inf->paused = paused;
  if (paused) {
    uv_timer_stop(&inf->retry_timer);
    if (inf->watch) kube_watch_stop(inf->watch);
    inf->watch = NULL;
  } else if (!inf->listing) {
    if (inf->last_rv) start_watch(inf);
    else begin_list(inf);
  }
}

void cache_informer_stop(cache_informer *inf, void (*done)(void *arg), void *arg) {
  inf->stopping = 1;
  inf->stop_done = done;
  inf->stop_arg = arg;
  if (inf->watch) {
    kube_watch_stop(inf->watch);
    inf->watch = NULL;
  }
  uv_timer_stop(&inf->retry_timer);
  uv_close((uv_handle_t *)&inf->retry_timer, timer_closed);
}
