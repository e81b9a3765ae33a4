/* Member clusters' clients and informers (runtime/members.h).
 *
 * Workers decide (ensure, remove) under the lock; the loop thread acts: it
 * makes the watcher and informers of new members and stops retired ones. A
 * reader finds a member under the same lock, so a retired member's stores
 * are only freed after no reader can reach them. */
#include "runtime/members.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cache/informer.h"
#include "kube/watch.h"
#include "runtime/fields.h"
#include "runtime/internal.h"
#include "runtime/member_events.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

typedef struct rt_member rt_member;

/* What one member informer's handlers need: whose it is and what it caches. */
typedef struct member_informer_arg {
  rt_member *mb;
  const kube_resource *resource;
  int connector; /* one of the connecting controller's own resources */
} member_informer_arg;

/* Kinds cached in one member: every controller's member_watches together
 * (each controller may declare up to RT_MAX_WATCHES; a kind several declare
 * is cached once). */
#define MEMBER_MAX_RESOURCES (4 * RT_MAX_WATCHES)

struct rt_member {
  char *name, *fingerprint, *controller;
  kube_config cfg;     /* owned; the client points into it */
  kube_client *client; /* owned */
  kube_watcher *watcher;
  const kube_resource *resources[MEMBER_MAX_RESOURCES];
  cache_informer *informers[MEMBER_MAX_RESOURCES];
  member_informer_arg args[MEMBER_MAX_RESOURCES];
  size_t n;
  size_t nconnector;   /* resources[0..nconnector) are the connecting controller's */
  int started;  /* informers made and started (loop thread, under the lock) */
  atomic_int refs; /* 1 while listed or stopping, +1 per writer holding its client */
  int pending;  /* close callbacks still to come (loop thread) */
  rt_manager *mgr;
  struct rt_member *next;
};

struct rt_members {
  rt_manager *mgr;
  uv_async_t async;
  pthread_mutex_t mu;
  rt_member *live;    /* connected or about to be */
  rt_member *retired; /* to stop on the loop thread */
  int closed;
};

static void member_free(rt_member *mb) {
  kube_client_free(mb->client);
  kube_config_free(&mb->cfg);
  free(mb->name);
  free(mb->fingerprint);
  free(mb->controller);
  free(mb);
}

void rt_member_put(rt_member *mb) {
  if (mb && atomic_fetch_sub(&mb->refs, 1) == 1) member_free(mb);
}

static void member_closed(void *arg) {
  rt_member *mb = arg;
  if (--mb->pending == 0) rt_member_put(mb); /* a writer may still hold its client */
}

/* Loop thread. Informers first: they use the watcher. */
static void member_stop(rt_member *mb) {
  if (!mb->started) {
    rt_member_put(mb);
    return;
  }
  log_info("members", "member cluster disconnected", "cluster=%s", mb->name);
  mb->pending = 1; /* held until every close below has been asked for */
  for (size_t i = 0; i < mb->n; i++) {
    mb->pending++;
    cache_informer_stop(mb->informers[i], member_closed, mb);
  }
  mb->pending++;
  kube_watcher_close(mb->watcher, member_closed, mb);
  member_closed(mb);
}

static int same_resource(const kube_resource *a, const kube_resource *b) {
  return strcmp(a->group, b->group) == 0 && strcmp(a->version, b->version) == 0 &&
         strcmp(a->resource, b->resource) == 0;
}

/* The cached child a member's Event is about (a new reference), from the
 * member's store of its kind, or NULL. Loop thread. */
static json_t *involved_object(const rt_member *mb, const json_t *event) {
  const char *kind = js_str(event, "involvedObject.kind"), *name = js_str(event, "involvedObject.name");
  const char *api_version = js_str(event, "involvedObject.apiVersion");
  if (kind == NULL || name == NULL || api_version == NULL) return NULL;
  const char *slash = strchr(api_version, '/');
  size_t glen = slash ? (size_t)(slash - api_version) : 0;
  for (size_t i = 0; i < mb->n; i++) {
    const kube_resource *r = mb->resources[i];
    if (strcmp(r->kind, kind) != 0 || strlen(r->group) != glen || strncmp(r->group, api_version, glen) != 0) continue;
    return cache_store_get(cache_informer_store(mb->informers[i]), js_str(event, "involvedObject.namespace"), name);
  }
  return NULL;
}

/* A member's Warning Event reaches the hub object of the child it is about
 * in each controller that declared member_events_label. */
static void event_changed(rt_member *mb, const json_t *event) {
  json_t *involved = involved_object(mb, event);
  if (involved == NULL) return; /* not a child: its own add enqueues the owner, who then reads the Event */
  for (rt_controller *c = rt__manager_controllers(mb->mgr); c; c = c->next) {
    if (c->def.member_events_label == NULL) continue;
    char *key = rt__member_event_key(event, involved, c->def.member_events_label);
    if (key) wq_add(c->queue, key);
    free(key);
  }
  json_decref(involved);
}

/* A change of a member's object: the connecting controller hears of the
 * cluster (debounced by a second: pods change often), and every controller
 * that declared the resource among its member_watches hears of the keys its
 * map gives. */
static void changed(const member_informer_arg *a, const json_t *obj) {
  rt_member *mb = a->mb;
  if (a->connector) rt_enqueue(mb->mgr, mb->controller, mb->name, 1000);
  if (same_resource(a->resource, &kube_events)) event_changed(mb, obj);
  for (rt_controller *c = rt__manager_controllers(mb->mgr); c; c = c->next) {
    for (size_t i = 0; i < RT_MAX_WATCHES && c->def.member_watches[i].resource; i++) {
      const rt_watch_def *w = &c->def.member_watches[i];
      if (!same_resource(w->resource, a->resource) || w->map == NULL) continue;
      char **keys = w->map(&c->ctx, obj);
      for (size_t k = 0; keys && keys[k]; k++) {
        wq_add(c->queue, keys[k]);
        free(keys[k]);
      }
      free(keys);
    }
  }
}
static void on_add(json_t *obj, void *arg) {
  changed(arg, obj);
}
static void on_update(json_t *old_obj, json_t *new_obj, void *arg) {
  changed(arg, old_obj);
  changed(arg, new_obj);
}

/* Loop thread, under the lock. */
static void member_start(rt_member *mb, uv_loop_t *loop) {
  if (kube_watcher_new(loop, mb->client, &mb->watcher)) {
    log_error("members", "cannot watch member cluster", "cluster=%s", mb->name);
    return; /* retried by the next ensure, which finds it not started */
  }
  for (size_t i = 0; i < mb->n; i++) {
    cache_informer_options o = {0};
    o.resource = mb->resources[i];
    /* Cut as the hub's own caches are (runtime/fields.c): the same readers
     * read them. */
    o.fields = rt_cached_fields(o.resource);
    o.applied_by = rt_cached_applier(o.resource);
    if (same_resource(o.resource, &kube_events)) o.field_selector = RT_MEMBER_EVENTS_SELECTOR; /* only the warnings */
    mb->informers[i] = cache_informer_new(loop, mb->client, mb->watcher, &o);
    cache_store *s = cache_informer_store(mb->informers[i]);
    cache_store_index_owner(s);
    cache_store_index_namespace(s);
    mb->args[i] = (member_informer_arg){mb, mb->resources[i], i < mb->nconnector};
    cache_handlers h = {on_add, on_update, on_add, &mb->args[i]};
    cache_informer_add_handlers(mb->informers[i], &h);
    if (cache_informer_start(mb->informers[i]))
      log_error("members", "informer did not start", "cluster=%s resource=%s", mb->name, mb->resources[i]->resource);
  }
  mb->started = 1;
  log_info("members", "member cluster connected", "cluster=%s server=%s resources=%zu", mb->name, mb->cfg.server,
           mb->n);
}

static void on_async(uv_async_t *a) {
  rt_members *ms = a->data;
  pthread_mutex_lock(&ms->mu);
  for (rt_member *mb = ms->live; mb; mb = mb->next)
    if (!mb->started) member_start(mb, a->loop);
  rt_member *retired = ms->retired;
  ms->retired = NULL;
  pthread_mutex_unlock(&ms->mu);
  while (retired) {
    rt_member *next = retired->next;
    member_stop(retired);
    retired = next;
  }
}

rt_members *rt__members_new(rt_manager *m, uv_loop_t *loop) {
  rt_members *ms = xcalloc(1, sizeof(*ms));
  ms->mgr = m;
  pthread_mutex_init(&ms->mu, NULL);
  uv_async_init(loop, &ms->async, on_async);
  ms->async.data = ms;
  return ms;
}

static void async_closed(uv_handle_t *h) {
  rt_members *ms = h->data;
  pthread_mutex_destroy(&ms->mu);
  free(ms);
}

void rt__members_close(rt_members *ms) {
  if (ms == NULL) return;
  pthread_mutex_lock(&ms->mu);
  ms->closed = 1;
  while (ms->live) {
    rt_member *mb = ms->live;
    ms->live = mb->next;
    mb->next = ms->retired;
    ms->retired = mb;
  }
  pthread_mutex_unlock(&ms->mu);
  on_async(&ms->async);
  uv_close((uv_handle_t *)&ms->async, async_closed);
}

/* Under the lock: unlinks member 'name' from live and queues it to stop. */
static int retire(rt_members *ms, const char *name) {
  for (rt_member **p = &ms->live; *p; p = &(*p)->next) {
    if (strcmp((*p)->name, name) != 0) continue;
    rt_member *mb = *p;
    *p = mb->next;
    mb->next = ms->retired;
    ms->retired = mb;
    return 1;
  }
  return 0;
}

static rt_member *find(rt_members *ms, const char *name) {
  for (rt_member *mb = ms->live; mb; mb = mb->next)
    if (strcmp(mb->name, name) == 0) return mb;
  return NULL;
}

/* Adds r to the member's resources unless it is there already; 0 when it
 * is there, -1 when the member has no room left (logged). */
static int add_resource(rt_member *mb, const kube_resource *r) {
  for (size_t j = 0; j < mb->n; j++)
    if (same_resource(mb->resources[j], r)) return 0;
  if (mb->n == MEMBER_MAX_RESOURCES) {
    log_error("members", "too many member resources", "cluster=%s resource=%s", mb->name, r->resource);
    return -1;
  }
  mb->resources[mb->n++] = r;
  return 0;
}

/* Adds every controller's member_watches not already cached (a kind
 * several controllers declare is cached once), and the Warning Events when
 * a controller relays them. */
static void add_member_watches(rt_member *mb) {
  for (rt_controller *c = rt__manager_controllers(mb->mgr); c; c = c->next) {
    for (size_t i = 0; i < RT_MAX_WATCHES && c->def.member_watches[i].resource; i++)
      if (add_resource(mb, c->def.member_watches[i].resource)) return;
    if (c->def.member_events_label && add_resource(mb, &kube_events)) return;
  }
}

int rt_member_ensure(const rt_ctx *ctx, const char *cluster, const char *fingerprint, kube_config *cfg,
                     const kube_resource *const *resources) {
  rt_members *ms = rt__manager_members(ctx->mgr);
  rt_member *mb = xcalloc(1, sizeof(*mb));
  atomic_init(&mb->refs, 1);
  mb->cfg = *cfg;
  memset(cfg, 0, sizeof(*cfg));
  if (ms == NULL) {
    member_free(mb);
    return CUBIT_ESHUTDOWN;
  }
  pthread_mutex_lock(&ms->mu);
  rt_member *old = find(ms, cluster);
  int same = old && strcmp(old->fingerprint, fingerprint) == 0, closed = ms->closed;
  pthread_mutex_unlock(&ms->mu);
  if (same || closed) {
    member_free(mb);
    return closed ? CUBIT_ESHUTDOWN : 0;
  }
  kube_client_options co = {0};
  rt__manager_client_limits(ms->mgr, &co);
  co.timeout_ms = 30000;
  int rc = kube_client_new(&mb->cfg, &co, &mb->client);
  if (rc) {
    member_free(mb);
    return rc;
  }
  mb->name = xstrdup(cluster);
  mb->fingerprint = xstrdup(fingerprint);
  mb->controller = xstrdup(ctx->controller);
  mb->mgr = ctx->mgr;
  for (; resources && resources[mb->n] && mb->n < RT_MAX_WATCHES; mb->n++) mb->resources[mb->n] = resources[mb->n];
  mb->nconnector = mb->n;
  add_member_watches(mb);
  pthread_mutex_lock(&ms->mu);
  if (ms->closed) {
    pthread_mutex_unlock(&ms->mu);
    member_free(mb);
    return CUBIT_ESHUTDOWN;
  }
  retire(ms, cluster); /* the one replaced, or one a racing worker added */
  mb->next = ms->live;
  ms->live = mb;
  pthread_mutex_unlock(&ms->mu);
  uv_async_send(&ms->async);
  return 1;
}

void rt_member_remove(const rt_ctx *ctx, const char *cluster) {
  rt_members *ms = rt__manager_members(ctx->mgr);
  if (ms == NULL) return;
  pthread_mutex_lock(&ms->mu);
  int found = retire(ms, cluster);
  pthread_mutex_unlock(&ms->mu);
  if (found) uv_async_send(&ms->async);
}

int rt_member_synced(const rt_ctx *ctx, const char *cluster) {
  rt_members *ms = rt__manager_members(ctx->mgr);
  if (ms == NULL) return 0;
  pthread_mutex_lock(&ms->mu);
  rt_member *mb = find(ms, cluster);
  int synced = mb && mb->started;
  /* The connecting controller's own caches: a kind another controller
   * declared may not be served by this member at all. */
  for (size_t i = 0; synced && i < mb->nconnector; i++) synced = cache_informer_has_synced(mb->informers[i]);
  pthread_mutex_unlock(&ms->mu);
  return synced;
}

/* Under the lock: the store of r in member 'cluster'. */
static int store_of(rt_members *ms, const char *cluster, const kube_resource *r, cache_store **out,
                    int *synced) {
  rt_member *mb = find(ms, cluster);
  if (mb == NULL || !mb->started) return CUBIT_ENOTFOUND;
  for (size_t i = 0; i < mb->n; i++) {
    if (!same_resource(mb->resources[i], r)) continue;
    *out = cache_informer_store(mb->informers[i]);
    if (synced) *synced = cache_informer_has_synced(mb->informers[i]);
    return 0;
  }
  return CUBIT_ENOTSUP;
}

int rt_member_resource_synced(const rt_ctx *ctx, const char *cluster, const kube_resource *r) {
  rt_members *ms = rt__manager_members(ctx->mgr);
  if (ms == NULL) return 0;
  pthread_mutex_lock(&ms->mu);
  cache_store *s = NULL;
  int synced = 0;
  if (store_of(ms, cluster, r, &s, &synced)) synced = 0;
  pthread_mutex_unlock(&ms->mu);
  return synced;
}

int rt_member_list(const rt_ctx *ctx, const char *cluster, const kube_resource *r, const char *ns,
                   cache_list *out) {
  memset(out, 0, sizeof(*out));
  rt_members *ms = rt__manager_members(ctx->mgr);
  if (ms == NULL) return CUBIT_ENOTFOUND;
  pthread_mutex_lock(&ms->mu);
  cache_store *s = NULL;
  int rc = store_of(ms, cluster, r, &s, NULL);
  if (rc == 0) cache_store_list(s, ns, out);
  pthread_mutex_unlock(&ms->mu);
  return rc;
}

json_t *rt_member_get(const rt_ctx *ctx, const char *cluster, const kube_resource *r, const char *ns,
                      const char *name) {
  rt_members *ms = rt__manager_members(ctx->mgr);
  if (ms == NULL) return NULL;
  pthread_mutex_lock(&ms->mu);
  cache_store *s = NULL;
  json_t *obj = store_of(ms, cluster, r, &s, NULL) == 0 ? cache_store_get(s, ns, name) : NULL;
  pthread_mutex_unlock(&ms->mu);
  return obj;
}

rt_member *rt_member_acquire(const rt_ctx *ctx, const char *cluster, kube_client **client) {
  *client = NULL;
  rt_members *ms = rt__manager_members(ctx->mgr);
  if (ms == NULL) return NULL;
  pthread_mutex_lock(&ms->mu);
  rt_member *mb = find(ms, cluster);
  if (mb) {
    atomic_fetch_add(&mb->refs, 1);
    *client = mb->client;
  }
  pthread_mutex_unlock(&ms->mu);
  return mb;
}
