/* The Pipeline controller: gathers the pipeline, the templates its tasks
 * name and the runs it owns from the cache, asks pl_pipeline_plan
 * (pipeline_plan.c) what to do, and lets rt_execute do it.
 *
 * The informers' caches may trail the controller's own writes, so it keeps,
 * per pipeline and for a while, what its carried-out plans created, deleted
 * and recorded (pl_memo) and hands that to the next plan. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "controllers/pipeline/pipeline.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* How long an expectation is kept: far longer than any cache lag. */
#define MEMO_TTL_S 120

typedef struct memo_entry {
  char uid[64];
  pl_memo memo;
  int64_t touched;
  UT_hash_handle hh;
} memo_entry;

typedef struct sched_ctl {
  pthread_mutex_t lock;
  memo_entry *memos;
} sched_ctl;

static void sched_ctl_free(void *arg) {
  sched_ctl *c = arg;
  memo_entry *m, *tmp;
  HASH_ITER(hh, c->memos, m, tmp) {
    HASH_DEL(c->memos, m);
    free(m);
  }
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static void drop_old(pl_memo_run *list, size_t *n, int64_t now) {
  size_t k = 0;
  for (size_t i = 0; i < *n; i++)
    if (now - list[i].at < MEMO_TTL_S) list[k++] = list[i];
  *n = k;
}

/* A copy of the pipeline's memo without expired entries, or zeros. */
static void memo_get(sched_ctl *c, const char *uid, int64_t now, pl_memo *out) {
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&c->lock);
  memo_entry *m;
  HASH_FIND_STR(c->memos, uid, m);
  if (m) *out = m->memo;
  pthread_mutex_unlock(&c->lock);
  drop_old(out->created, &out->ncreated, now);
  drop_old(out->deleted, &out->ndeleted, now);
}

/* Stores the pipeline's memo; memos untouched for longer than the TTL
 * (deleted pipelines) go. */
static void memo_put(sched_ctl *c, const char *uid, const pl_memo *in, int64_t now) {
  pthread_mutex_lock(&c->lock);
  memo_entry *m, *tmp;
  HASH_ITER(hh, c->memos, m, tmp) {
    if (now - m->touched > MEMO_TTL_S && strcmp(m->uid, uid) != 0) {
      HASH_DEL(c->memos, m);
      free(m);
    }
  }
  HASH_FIND_STR(c->memos, uid, m);
  if (m == NULL) {
    m = xcalloc(1, sizeof(*m));
    snprintf(m->uid, sizeof(m->uid), "%s", uid);
    HASH_ADD_STR(c->memos, uid, m);
  }
  m->memo = *in;
  m->touched = now;
  pthread_mutex_unlock(&c->lock);
}

/* The templates the tasks name that the cache holds, keyed as
 * pl_template_key says (references held by the object). Read from the raw
 * spec: an invalid one is the plan's to report. */
json_t *pl__gather_templates(const rt_ctx *ctx, const json_t *pipeline_spec, const char *ns) {
  json_t *found = json_object();
  cache_store *ns_store = rt_store(ctx, &pl_jobtemplate_resource);
  cache_store *cl_store = rt_store(ctx, &pl_clusterjobtemplate_resource);
  size_t i;
  json_t *task;
  json_array_foreach(json_object_get(pipeline_spec, "tasks"), i, task) {
    const char *kind = js_str(task, "templateRef.kind");
    const char *name = js_str(task, "templateRef.name");
    int cluster = kind && strcmp(kind, "ClusterJobTemplate") == 0;
    if (name == NULL) continue;
    cache_store *s = cluster ? cl_store : ns_store;
    json_t *t = s ? cache_store_get(s, cluster ? NULL : ns, name) : NULL;
    if (t == NULL) continue;
    char key[320];
    pl_template_key(cluster ? PL_TEMPLATE_CLUSTER : PL_TEMPLATE_NAMESPACED, name, key, sizeof(key));
    json_object_set_new(found, key, t);
  }
  return found;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  sched_ctl *sc = ctx->arg;
  cache_store *pipelines = rt_store(ctx, &pl_pipeline_resource);
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (pipelines == NULL || runs == NULL) return rt_requeue_after(5000);
  json_t *p = cache_store_get(pipelines, req->ns, req->name);
  if (p == NULL || js_get(p, "metadata.deletionTimestamp") || js_uid(p) == NULL) {
    json_decref(p);
    return rt_ok(); /* its runs go with it (garbage collection) */
  }
  int64_t now = time_wall_s();
  cache_list owned = {0};
  cache_store_by_index(runs, CACHE_INDEX_OWNER, js_uid(p), &owned);
  json_t *templates = pl__gather_templates(ctx, json_object_get(p, "spec"), req->ns);
  pl_memo known, learned;
  memo_get(sc, js_uid(p), now, &known);

  pl_pipeline_in in = {p, templates, &owned, &known, now};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_pipeline_plan(&in, &plan, &learned);
  rt_result r = rt_execute(ctx, &pl_pipeline_resource, p, &plan);
  /* Only what was carried out is remembered. */
  if (r.kind == RT_OK || r.kind == RT_REQUEUE_AFTER) memo_put(sc, js_uid(p), &learned, now);

  rt_plan_free(&plan);
  json_decref(templates);
  cache_list_free(&owned);
  json_decref(p);
  return r;
}

/* A template maps to the pipelines of its namespace (every namespace for a
 * ClusterJobTemplate) that use it, for their state. */
static char **map_template(const rt_ctx *ctx, const json_t *t) {
  cache_store *pipelines = rt_store(ctx, &pl_pipeline_resource);
  if (pipelines == NULL) return NULL;
  const char *kind = js_str(t, "kind");
  int cluster = kind && strcmp(kind, "ClusterJobTemplate") == 0;
  cache_list l;
  cache_store_list(pipelines, cluster ? NULL : js_namespace(t), &l);
  char **keys = xcalloc(l.len + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < l.len; i++) {
    size_t k;
    json_t *task;
    json_array_foreach(js_get(l.items[i], "spec.tasks"), k, task) {
      const char *tk = js_str(task, "templateRef.kind");
      int tcluster = tk && strcmp(tk, "ClusterJobTemplate") == 0;
      const char *name = js_str(task, "templateRef.name");
      if (tcluster == cluster && name && strcmp(name, js_name(t)) == 0) {
        keys[n++] = cache_key(l.items[i]);
        break;
      }
    }
  }
  cache_list_free(&l);
  return keys;
}

int pipeline_controller_register(rt_manager *m) {
  sched_ctl *sc = xcalloc(1, sizeof(*sc));
  pthread_mutex_init(&sc->lock, NULL);
  rt_controller_def def = {0};
  def.name = "pipeline";
  def.primary = &pl_pipeline_resource;
  def.owns[0] = &pl_pipelinerun_resource;
  def.watches[0] = (rt_watch_def){&pl_jobtemplate_resource, map_template};
  def.watches[1] = (rt_watch_def){&pl_clusterjobtemplate_resource, map_template};
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = sc;
  def.free_arg = sched_ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) sched_ctl_free(sc);
  return rc;
}
