#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/apply.h"
#include "runtime/thread.h"
#include "runtime/internal.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

rt_result rt_result_for_error(int code, const kube_status *st) {
  if (code == CUBIT_ETOOMANYREQUESTS && st && st->retry_after_s > 0)
    return (rt_result){RT_RETRY, (int64_t)st->retry_after_s * 1000, NULL};
  return rt_retry();
}

cache_store *rt_store(const rt_ctx *ctx, const kube_resource *r) {
  if (!kube_discovery_has_resource(ctx->discovery, r)) return NULL;
  cache_informer *inf = rt__manager_informer_find(ctx->mgr, r);
  if (inf == NULL) {
    log_error(ctx->controller, "read of an undeclared resource; declare it in the controller's reads",
              "resource=%s.%s", r->resource, r->group);
    return NULL;
  }
  return cache_informer_store(inf);
}

int rt_api_available(const rt_ctx *ctx, const kube_resource *r) {
  return kube_discovery_has_resource(ctx->discovery, r);
}

void rt_enqueue(rt_manager *m, const char *controller, const char *key, int64_t after_ms) {
  rt_controller *c = rt__manager_find_controller(m, controller);
  if (c == NULL) return;
  if (after_ms > 0) wq_add_after(c->queue, key, after_ms);
  else wq_add(c->queue, key);
}

/* --- event handlers: changes become keys on the queue --- */

int rt_primary_change_urgent(const json_t *old_obj, const json_t *new_obj) {
  static const char *const fields[] = {"metadata.generation", "metadata.deletionTimestamp", "metadata.labels",
                                       "metadata.annotations", "metadata.finalizers"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    const json_t *a = js_get(old_obj, fields[i]), *b = js_get(new_obj, fields[i]);
    if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b))) return 1;
  }
  return 0;
}

/* A primary's own change goes ahead of the echoes of status writes and of
 * children's changes, so under load a new Notebook gets its children before
 * a thousand others get their status refreshed (and those refreshes
 * coalesce meanwhile). A restart's first list is ordinary work. */
static void enqueue_primary(rt_controller *c, const json_t *obj, int urgent) {
  char *key = cache_key(obj);
  if (urgent) wq_add_urgent(c->queue, key);
  else wq_add(c->queue, key);
  free(key);
}

static void enqueue_added(json_t *obj, void *arg) {
  rt_controller *c = arg;
  enqueue_primary(c, obj, cache_informer_has_synced(c->primary));
}

static void enqueue_update(json_t *old_obj, json_t *new_obj, void *arg) {
  enqueue_primary(arg, new_obj, rt_primary_change_urgent(old_obj, new_obj));
}

static void enqueue_deleted(json_t *obj, void *arg) {
  enqueue_primary(arg, obj, 1);
}

/* A child's change enqueues its controller owner when the owner is of our
 * primary kind. Children live in the owner's namespace (cluster-scoped
 * owners have no namespace in the key). */
static void enqueue_owner(json_t *obj, void *arg) {
  rt_controller *c = arg;
  json_t *ref = js_controller_ref(obj);
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *api = json_string_value(json_object_get(ref, "apiVersion"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  if (kind == NULL || name == NULL || strcmp(kind, c->def.primary->kind) != 0) return;
  const char *group = c->def.primary->group;
  if (api && *group && strncmp(api, group, strlen(group)) != 0) return;
  char *key = cache_key_of(c->def.primary->namespaced ? js_namespace(obj) : NULL, name);
  wq_add(c->queue, key);
  free(key);
}

static void enqueue_owner_update(json_t *old_obj, json_t *new_obj, void *arg) {
  enqueue_owner(old_obj, arg); /* an ownerReference may have moved */
  enqueue_owner(new_obj, arg);
}

typedef struct mapped_watch {
  rt_controller *c;
  rt_map_fn map;
} mapped_watch;

static void enqueue_mapped(json_t *obj, void *arg) {
  mapped_watch *mw = arg;
  char **keys = mw->map(&mw->c->ctx, obj);
  for (size_t i = 0; keys && keys[i]; i++) {
    wq_add(mw->c->queue, keys[i]);
    free(keys[i]);
  }
  free(keys);
}

static void enqueue_mapped_update(json_t *old_obj, json_t *new_obj, void *arg) {
  enqueue_mapped(old_obj, arg);
  enqueue_mapped(new_obj, arg);
}

/* Mapped watches need a context per watch; they live as long as the
 * process's controllers and are freed with the controller. */
typedef struct mapped_list {
  mapped_watch w[RT_MAX_WATCHES];
} mapped_list;

int rt__controller_init(rt_manager *m, rt_controller *c) {
  metrics_registry *reg = rt_manager_metrics(m);
  wq_options qo = {0};
  qo.name = c->def.name;
  qo.metrics = reg;
  c->queue = wq_new(&qo);
  if (c->queue == NULL) return CUBIT_ENOMEM;
  c->reconcile_total = metrics_counter(reg, "controller_runtime_reconcile_total",
                                       "Total number of reconciliations per controller", "controller,result");
  c->reconcile_errors = metrics_counter(reg, "controller_runtime_reconcile_errors_total",
                                        "Total number of reconciliation errors per controller", "controller");
  c->reconcile_time = metrics_histogram(reg, "controller_runtime_reconcile_time_seconds",
                                        "Length of time per reconciliation per controller", "controller",
                                        metrics_reconcile_buckets, metrics_reconcile_nbuckets);
  c->active_workers = metrics_gauge(reg, "controller_runtime_active_workers",
                                    "Number of currently used workers per controller", "controller");
  metric *max_workers = metrics_gauge(reg, "controller_runtime_max_concurrent_reconciles",
                                      "Maximum number of concurrent reconciles per controller", "controller");
  metric_set(max_workers, c->def.workers, c->def.name);
  metric_set(c->active_workers, 0, c->def.name);
  metric_add(c->reconcile_total, 0, c->def.name, "success");
  metric_add(c->reconcile_errors, 0, c->def.name);

  c->primary = rt_manager_informer(m, c->def.primary);
  cache_handlers primary = {enqueue_added, enqueue_update, enqueue_deleted, c};
  cache_informer_add_handlers(c->primary, &primary);
  if (!kube_discovery_has_resource(c->ctx.discovery, c->def.primary))
    log_warn("controller", "primary resource not served; controller idle until it appears",
             "controller=%s resource=%s.%s", c->def.name, c->def.primary->resource, c->def.primary->group);
  for (int i = 0; i < RT_MAX_WATCHES && c->def.owns[i]; i++) {
    cache_informer *child = rt_manager_informer(m, c->def.owns[i]);
    cache_handlers owned = {enqueue_owner, enqueue_owner_update, enqueue_owner, c};
    cache_informer_add_handlers(child, &owned);
  }
  mapped_list *ml = xcalloc(1, sizeof(*ml));
  c->ctx.arg = c->def.arg;
  for (int i = 0; i < RT_MAX_WATCHES && c->def.watches[i].resource; i++) {
    cache_informer *w = rt_manager_informer(m, c->def.watches[i].resource);
    ml->w[i].c = c;
    ml->w[i].map = c->def.watches[i].map;
    cache_handlers mapped = {enqueue_mapped, enqueue_mapped_update, enqueue_mapped, &ml->w[i]};
    cache_informer_add_handlers(w, &mapped);
  }
  c->mapped = ml;
  for (int i = 0; i < RT_MAX_WATCHES && c->def.reads[i]; i++) (void)rt_manager_informer(m, c->def.reads[i]);
  return 0;
}

/* --- workers --- */

static void split_key(char *key, rt_request *req) {
  char *slash = strchr(key, '/');
  req->key = key;
  if (slash) {
    req->ns = xstrndup(key, (size_t)(slash - key));
    req->name = slash + 1;
  } else {
    req->ns = NULL;
    req->name = key;
  }
}

static const char *result_label(rt_result r) {
  switch (r.kind) {
    case RT_OK: return "success";
    case RT_REQUEUE_AFTER: return "requeue_after";
    case RT_RETRY: return "error";
    case RT_TERMINAL: return "error";
  }
  return "error";
}

/* 1 when every cache the controller reads (of the APIs served now) holds
 * its first list. */
static int caches_synced(rt_controller *c) {
  const kube_resource *rs[1 + 3 * RT_MAX_WATCHES];
  size_t n = 0;
  rs[n++] = c->def.primary;
  for (int i = 0; i < RT_MAX_WATCHES && c->def.owns[i]; i++) rs[n++] = c->def.owns[i];
  for (int i = 0; i < RT_MAX_WATCHES && c->def.watches[i].resource; i++) rs[n++] = c->def.watches[i].resource;
  for (int i = 0; i < RT_MAX_WATCHES && c->def.reads[i]; i++) rs[n++] = c->def.reads[i];
  for (size_t i = 0; i < n; i++) {
    if (!kube_discovery_has_resource(c->ctx.discovery, rs[i])) continue;
    cache_informer *inf = rt__manager_informer_find(c->ctx.mgr, rs[i]);
    if (inf && !cache_informer_has_synced(inf)) return 0;
  }
  return 1;
}

/* As controller-runtime's WaitForCacheSync: a reconcile decided on a
 * half-filled cache acts on objects it cannot see (a Project's finalizer
 * finding none of its namespaces, a job recreating children it has). */
static void wait_for_caches(rt_controller *c) {
  int waited = 0;
  while (!caches_synced(c) && !wq_shutting_down(c->queue)) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    waited = 1;
  }
  if (waited) log_v(1, "controller", "caches synced; reconciling", "controller=%s", c->def.name);
}

static void *worker(void *arg) {
  rt_controller *c = arg;
  char *key;
  wait_for_caches(c);
  while ((key = wq_get(c->queue)) != NULL) {
    rt_request req;
    split_key(key, &req);
    metric_add(c->active_workers, 1, c->def.name);
    double t0 = time_mono_s();
    rt_result r = c->def.reconcile(&c->ctx, &req);
    metric_observe(c->reconcile_time, time_mono_s() - t0, c->def.name);
    metric_add(c->active_workers, -1, c->def.name);
    metric_add(c->reconcile_total, 1, c->def.name, result_label(r));
    switch (r.kind) {
      case RT_OK:
        wq_forget(c->queue, key);
        break;
      case RT_REQUEUE_AFTER:
        wq_forget(c->queue, key);
        wq_add_after(c->queue, key, r.after_ms);
        break;
      case RT_RETRY:
        metric_add(c->reconcile_errors, 1, c->def.name);
        log_info("controller", "reconcile will be retried", "controller=%s key=%s attempt=%d", c->def.name, key,
              wq_num_requeues(c->queue, key) + 1);
        if (r.after_ms > 0) wq_add_after(c->queue, key, r.after_ms);
        else wq_add_rate_limited(c->queue, key);
        break;
      case RT_TERMINAL:
        metric_add(c->reconcile_errors, 1, c->def.name);
        wq_forget(c->queue, key);
        log_error("controller", "reconcile failed terminally; not retrying", "controller=%s key=%s reason=%s",
                  c->def.name, key, r.reason ? r.reason : "unspecified");
        break;
    }
    wq_done(c->queue, key);
    free((char *)req.ns);
    free(key);
  }
  return NULL;
}

void rt__controller_start(rt_controller *c) {
  if (c->threads) return;
  c->nthreads = c->def.workers > 0 ? c->def.workers : 2;
  c->threads = xcalloc((size_t)c->nthreads, sizeof(pthread_t));
  for (int i = 0; i < c->nthreads; i++)
    rt__thread_start(&c->threads[i], worker, c);
  log_info("controller", "started workers", "controller=%s workers=%d", c->def.name, c->nthreads);
}

void rt__controller_stop(rt_controller *c) {
  wq_shutdown_drain(c->queue);
  for (int i = 0; c->threads && i < c->nthreads; i++) pthread_join(c->threads[i], NULL);
  free(c->threads);
  c->threads = NULL;
}

void rt__controller_free(rt_controller *c) {
  if (c->def.free_arg) c->def.free_arg(c->def.arg);
  wq_free(c->queue);
  free(c->mapped);
  free(c);
}

void rt__controller_resync(rt_manager *m, rt_controller *c) {
  cache_informer *inf = rt_manager_informer(m, c->def.primary);
  /* Keys only: the store decodes an object on every read (cache/store.h). */
  size_t n;
  char **keys = cache_store_keys(cache_informer_store(inf), &n);
  for (size_t i = 0; i < n; i++) {
    wq_add(c->queue, keys[i]);
    free(keys[i]);
  }
  free(keys);
}

char **rt_map_involved_object(const rt_ctx *ctx, const json_t *event) {
  (void)ctx;
  const char *ns = js_str(event, "metadata.namespace"), *name = js_str(event, "involvedObject.name");
  if (ns == NULL || name == NULL || *name == '\0') return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(ns, name);
  return keys;
}
