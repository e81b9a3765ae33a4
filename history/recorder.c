/* The recorder's controllers (recorder.h): gather from the cache, decide
 * with record.h, write the records, then execute the finalizer plan. */
#include "history/recorder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "history/record.h"
#include "runtime/plan.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

int hist_settings_parse(const json_t *section, hist_settings *out, char *err, size_t errlen) {
  out->finalizer_timeout_s = HIST_DEFAULT_FINALIZER_TIMEOUT_S;
  out->retention_days = 0;
  out->max_runs = 0;
  if (section == NULL || json_is_null(section)) return 0;
  if (!json_is_object(section)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: want an object");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)section, key, v) {
    if (strcmp(key, "finalizerTimeoutSeconds") == 0) {
      if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 7 * 86400)
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                            "history.finalizerTimeoutSeconds: want an integer from 1 to 604800");
      out->finalizer_timeout_s = json_integer_value(v);
    } else if (strcmp(key, "retentionDays") == 0) {
      if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 36500)
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                            "history.retentionDays: want an integer from 0 (keep for ever) to 36500");
      out->retention_days = json_integer_value(v);
    } else if (strcmp(key, "maxRuns") == 0) {
      if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "history.maxRuns: want an integer from 0 (no cap) to 1000000000");
      out->max_runs = json_integer_value(v);
    } else {
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "history.%s: unknown field", key);
    }
  }
  return 0;
}

int hist_prune(hist_store *store, const hist_settings *settings, int64_t now, int64_t *deleted, char *err,
               size_t errlen) {
  if (deleted) *deleted = 0;
  int64_t before = settings->retention_days > 0 ? now - settings->retention_days * 86400 : 0;
  if (before <= 0 && settings->max_runs <= 0) return 0;
  for (;;) {
    int n = 0;
    int rc = hist_store_prune(store, before, settings->max_runs, HIST_PRUNE_BATCH, &n, err, errlen);
    if (rc) return rc;
    if (deleted) *deleted += n;
    if (n < HIST_PRUNE_BATCH) return 0;
  }
}

struct hist_pruner {
  hist_store *store;
  hist_settings settings;
  int interval_s;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* signalled by stop */
  int stopping;
};

static void *pruner_main(void *arg) {
  hist_pruner *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->stopping) {
    pthread_mutex_unlock(&p->mu);
    char err[256] = "";
    int64_t n = 0;
    if (hist_prune(p->store, &p->settings, time_wall_s(), &n, err, sizeof err))
      log_error("history", "retention failed", "error=\"%s\"", err);
    else if (n > 0)
      log_info("history", "retention pruned runs", "runs=%lld retentionDays=%lld maxRuns=%lld", (long long)n,
               (long long)p->settings.retention_days, (long long)p->settings.max_runs);
    pthread_mutex_lock(&p->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += p->interval_s;
    while (!p->stopping && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0) {
    }
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

hist_pruner *hist_pruner_start(hist_store *store, const hist_settings *settings, int interval_s) {
  if (settings->retention_days <= 0 && settings->max_runs <= 0) return NULL;
  hist_pruner *p = xcalloc(1, sizeof *p);
  p->store = store;
  p->settings = *settings;
  p->interval_s = interval_s > 0 ? interval_s : 60;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  if (pthread_create(&p->thread, NULL, pruner_main, p) != 0) {
    log_error("history", "cannot start the retention thread", "%s", "");
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return NULL;
  }
  return p;
}

void hist_pruner_stop(hist_pruner *p) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  p->stopping = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* One controller's state: its kind and the shared store. */
typedef struct {
  const hist_kind *kind;
  hist_store *store;
  const gpu_profile *gpu;
  hist_settings settings;
  rt_manager *mgr;
  char name[64];
  atomic_int swept; /* the start-up look-up of the store's live runs is done */
} hist_ctl;

/* A pod belongs to the run its kind's label names, in its namespace. */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
  const hist_ctl *c = ctx->arg;
  const char *run = json_string_value(json_object_get(js_get(pod, "metadata.labels"), c->kind->pod_label));
  if (run == NULL || js_namespace(pod) == NULL) return NULL;
  char **keys = xcalloc(2, sizeof *keys);
  keys[0] = xasprintf("%s/%s", js_namespace(pod), run);
  return keys;
}

/* Once the cache has synced: every run the store holds as alive gets a
 * look, so those deleted while the recorder was away are marked so. */
static void sweep_once(const rt_ctx *ctx, hist_ctl *c) {
  if (atomic_load(&c->swept)) return;
  if (!cache_informer_has_synced(rt_manager_informer(c->mgr, c->kind->resource))) return;
  if (atomic_exchange(&c->swept, 1)) return;
  char err[256] = "";
  char **keys = NULL;
  size_t n = 0;
  if (hist_store_live_keys(c->store, c->kind->resource->kind, &keys, &n, err, sizeof err)) {
    log_error(c->name, "cannot list the recorded runs", "error=\"%s\"", err);
    atomic_store(&c->swept, 0);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    rt_enqueue(c->mgr, c->name, keys[i], 0);
    free(keys[i]);
  }
  free(keys);
}

/* The usage counters of /metrics follow the database's totals (a few
 * small rows read after each write). */
static void sync_metrics(hist_ctl *c) {
  char err[256] = "";
  if (hist_store_sync_metrics(c->store, rt_manager_metrics(c->mgr), err, sizeof err))
    log_error(c->name, "cannot update the usage counters", "error=\"%s\"", err);
}

/* Writes the records in one transaction; 0 when all were written. */
static int write_records(hist_ctl *c, const hist_records *r, int64_t now, char *err, size_t errlen) {
  int rc = hist_store_begin(c->store, err, errlen);
  if (rc) return rc;
  rc = hist_store_put_run(c->store, &r->run, err, errlen);
  if (rc == 0 && r->run.phase && r->run.phase[0])
    rc = hist_store_add_transition(c->store, r->run.uid, r->run.phase, r->transition_at, r->reason, r->message, NULL,
                                   err, errlen);
  for (size_t i = 0; rc == 0 && i < r->npods; i++) rc = hist_store_put_interval(c->store, &r->pods[i], err, errlen);
  /* A finished or deleted run has no running pod any more. */
  if (rc == 0 && r->run.finished_at > 0) rc = hist_store_close_intervals(c->store, r->run.uid, r->run.finished_at, err, errlen);
  if (rc == 0 && r->deleting) {
    rc = hist_store_close_intervals(c->store, r->run.uid, r->deleting_since, err, errlen);
    if (rc == 0) rc = hist_store_mark_deleted(c->store, r->run.uid, r->deleting_since, err, errlen);
  }
  int end = hist_store_end(c->store, rc == 0, err, errlen);
  if (rc == 0 && end == 0) sync_metrics(c);
  return rc ? rc : end;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  hist_ctl *c = ctx->arg;
  sweep_once(ctx, c);
  cache_store *runs = rt_store(ctx, c->kind->resource);
  cache_store *pods = rt_store(ctx, &kube_pods);
  cache_store *namespaces = rt_store(ctx, &kube_namespaces);
  if (runs == NULL || pods == NULL) return rt_ok();
  int64_t now = time_wall_s();
  char err[512] = "";
  json_t *obj = cache_store_get(runs, req->ns, req->name);
  if (obj == NULL) {
    /* Gone without our finalizer (deleted while we were away): only
     * trusted once the cache holds everything. */
    if (!cache_informer_has_synced(rt_manager_informer(c->mgr, c->kind->resource))) return rt_requeue_after(1000);
    if (hist_store_mark_gone(c->store, c->kind->resource->kind, req->ns, req->name, now, err, sizeof err)) {
      log_error(c->name, "cannot record a deletion", "key=%s error=\"%s\"", req->key, err);
      return rt_retry();
    }
    return rt_ok();
  }
  char *selector = xasprintf("%s=%s", c->kind->pod_label, req->name);
  cache_list list = {0};
  if (cache_store_select(pods, req->ns, selector, &list)) list.len = 0;
  free(selector);
  json_t *ns = namespaces ? cache_store_get(namespaces, NULL, req->ns) : NULL;
  hist_records rec;
  hist_observe_run(c->kind, obj, (const json_t *const *)list.items, list.len, ns, c->gpu, now, &rec);
  int written = write_records(c, &rec, now, err, sizeof err) == 0;
  if (!written) log_error(c->name, "cannot record a run", "key=%s error=\"%s\"", req->key, err);
  rt_plan plan;
  rt_plan_init(&plan);
  hist_plan_finalizer(obj, &rec, written, c->settings.finalizer_timeout_s, now, &plan);
  rt_result res = rt_execute(ctx, c->kind->resource, obj, &plan);
  if (!written && res.kind == RT_OK) res = rt_retry();
  rt_plan_free(&plan);
  hist_records_free(&rec);
  json_decref(ns);
  cache_list_free(&list);
  json_decref(obj);
  return res;
}

/* Registers one controller per kind, named prefix-<resource>, each with its
 * own copy of 'tmpl' (its kind set); with_pods: it watches the kind's pods
 * and reads namespaces. */
static int register_kinds(rt_manager *m, const char *prefix, const hist_ctl *tmpl, int with_pods,
                          rt_result (*fn)(const rt_ctx *, const rt_request *)) {
  for (const hist_kind *k = hist_kinds; k->resource; k++) {
    hist_ctl *c = xcalloc(1, sizeof *c);
    memcpy(c, tmpl, sizeof *c);
    c->kind = k;
    snprintf(c->name, sizeof c->name, "%s-%s", prefix, k->resource->resource);
    rt_controller_def def = {0};
    def.name = c->name;
    def.primary = k->resource;
    if (with_pods) {
      def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
      /* The namespace's project label names the run's project. */
      def.reads[0] = &kube_namespaces;
    }
    /* One worker per kind: the store has one writer at a time anyway. */
    def.workers = 1;
    def.reconcile = fn;
    def.arg = c;
    def.free_arg = free;
    int rc = rt_manager_add_controller(m, &def);
    if (rc) {
      free(c);
      return rc;
    }
  }
  return 0;
}

int hist_recorder_register(rt_manager *m, hist_store *store, const gpu_profile *gpu, const hist_settings *settings) {
  hist_ctl tmpl = {.store = store, .gpu = gpu, .settings = *settings, .mgr = m};
  /* the counters start where the database's totals are, before any write */
  char err[256] = "";
  if (hist_store_sync_metrics(store, rt_manager_metrics(m), err, sizeof err))
    log_error("history", "cannot read the usage totals", "error=\"%s\"", err);
  return register_kinds(m, "history", &tmpl, 1, reconcile);
}

static rt_result cleanup_reconcile(const rt_ctx *ctx, const rt_request *req) {
  const hist_ctl *c = ctx->arg;
  const hist_kind *k = c->kind;
  cache_store *runs = rt_store(ctx, k->resource);
  json_t *obj = runs ? cache_store_get(runs, req->ns, req->name) : NULL;
  if (obj == NULL) return rt_ok();
  rt_plan plan;
  rt_plan_init(&plan);
  hist_plan_cleanup(obj, &plan);
  rt_result res = rt_execute(ctx, k->resource, obj, &plan);
  rt_plan_free(&plan);
  json_decref(obj);
  return res;
}

int hist_cleanup_register(rt_manager *m) {
  hist_ctl tmpl = {.mgr = m};
  return register_kinds(m, "history-cleanup", &tmpl, 0, cleanup_reconcile);
}
