/* The TrainingJob controller: gather from the cache, plan (plan.c), and let
 * the runtime execute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/controller.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

typedef struct tj_ctl {
  gang_config gang;
  const gpu_profile *gpu; /* borrowed from the manager's settings */
} tj_ctl;

/* What tj_plan reads, and the references that keep it alive. */
typedef struct tj_gathered {
  tj_observed in;
  tj_spec spec;
  char spec_error[512];
  json_t *child, *debug_pod, *ns;
  cache_list pods, events;
} tj_gathered;

static json_t *cached(const rt_ctx *ctx, const kube_resource *r, const char *ns, const char *name) {
  cache_store *store = rt_store(ctx, r);
  return store ? cache_store_get(store, ns, name) : NULL;
}

/* The pods labelled with the job's name (the engine's and the debug pod),
 * from the shared pod cache. */
static void job_pods(const rt_ctx *ctx, const json_t *tj, cache_list *out) {
  memset(out, 0, sizeof(*out));
  cache_store *pods = rt_store(ctx, &kube_pods);
  if (pods == NULL) return;
  cache_list all;
  cache_store_by_index(pods, CACHE_INDEX_NAMESPACE, js_namespace(tj), &all);
  out->items = xcalloc(all.len + 1, sizeof(json_t *));
  for (size_t i = 0; i < all.len; i++) {
    const char *owner = json_string_value(json_object_get(js_get(all.items[i], "metadata.labels"), TJ_LABEL));
    if (owner && strcmp(owner, js_name(tj)) == 0) out->items[out->len++] = json_incref(all.items[i]);
  }
  cache_list_free(&all);
}

static void gather(const rt_ctx *ctx, const json_t *tj, tj_gathered *g) {
  const tj_ctl *tc = ctx->arg;
  memset(g, 0, sizeof(*g));
  const char *ns = js_namespace(tj), *name = js_name(tj);
  g->in.tj = tj;
  if (tj_spec_parse(tj, &g->spec, g->spec_error, sizeof(g->spec_error)) == 0) g->in.spec = &g->spec;
  g->in.spec_error = g->spec_error;
  if (g->in.spec) {
    const kube_resource *engine = tj_engine(g->spec.framework);
    g->in.engine_available = rt_api_available(ctx, engine);
    g->child = cached(ctx, engine, ns, name);
  }
  char debug_name[300];
  snprintf(debug_name, sizeof(debug_name), "%s-debug", name);
  g->debug_pod = cached(ctx, &kube_pods, ns, debug_name);
  g->ns = cached(ctx, &kube_namespaces, NULL, ns);
  job_pods(ctx, tj, &g->pods);
  g->in.child = g->child;
  g->in.debug_pod = g->debug_pod;
  g->in.pods = (const json_t *const *)g->pods.items;
  g->in.npods = g->pods.len;
  cache_store *events = g->child ? rt_store(ctx, &kube_events) : NULL;
  if (events) {
    /* A refusal older than the newest pod was overcome since. */
    int64_t newest = 0;
    for (size_t i = 0; i < g->pods.len; i++) {
      int64_t t = js_time(g->pods.items[i], "metadata.creationTimestamp");
      if (t > newest) newest = t;
    }
    cache_store_by_index(events, CACHE_INDEX_NAMESPACE, ns, &g->events);
    g->in.create_refused = rt_create_refusal(g->events.items, g->events.len, js_str(g->child, "metadata.uid"), newest, NULL);
  }
  g->in.env.scheduler = tc->gang.scheduler;
  g->in.env.project = json_string_value(json_object_get(js_get(g->ns, "metadata.labels"), CUBIT_LABEL_PROJECT));
  g->in.env.gpu = tc->gpu;
  g->in.now = time_wall_s();
}

static void gathered_free(tj_gathered *g) {
  json_decref(g->child);
  json_decref(g->debug_pod);
  json_decref(g->ns);
  cache_list_free(&g->pods);
  cache_list_free(&g->events);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  json_t *tj = cached(ctx, &trainingjob_resource, req->ns, req->name);
  if (tj == NULL || js_get(tj, "metadata.deletionTimestamp")) {
    json_decref(tj);
    return rt_ok(); /* garbage collection removes the children */
  }
  tj_gathered g;
  gather(ctx, tj, &g);
  rt_plan plan;
  rt_plan_init(&plan);
  tj_plan(&g.in, &plan);
  rt_result result = rt_execute(ctx, &trainingjob_resource, tj, &plan);
  rt_plan_free(&plan);
  gathered_free(&g);
  json_decref(tj);
  return result;
}

/* A pod maps to its job through Cubit's label. */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
  const char *name = json_string_value(json_object_get(js_get(pod, "metadata.labels"), TJ_LABEL));
  if (name == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(js_namespace(pod), name);
  return keys;
}

int trainingjob_controller_register(rt_manager *m, const gang_config *gang, const gpu_profile *gpu) {
  tj_ctl *tc = xcalloc(1, sizeof(*tc));
  tc->gpu = gpu;
  if (gang) tc->gang = *gang;
  rt_controller_def def = {0};
  def.name = "trainingjob";
  def.primary = &trainingjob_resource;
  for (int f = 0; f < TJ_NFRAMEWORKS; f++) def.owns[f] = tj_engine(f);
  def.owns[TJ_NFRAMEWORKS] = &tj_podgroup_resource;
  def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
  /* The engine object's refusals to create pods (it is named like the job). */
  def.watches[1] = (rt_watch_def){&kube_events, rt_map_involved_object};
  /* The namespace's project names the default scheduler queue. */
  def.reads[0] = &kube_namespaces;
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = tc;
  def.free_arg = free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(tc);
  return rc;
}
