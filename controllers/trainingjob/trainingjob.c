/* The TrainingJob controller: gather from the cache, plan (plan.c), and let
 * the runtime execute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/labels.h"
#include "api/project/project.h"
#include "controllers/cluster/cluster.h"
#include "controllers/cluster/placement.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "runtime/member_events.h"
#include "runtime/members.h"
#include "runtime/status.h"
#include "util/quantity.h"
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
  cache_list pods, events, member_events;
  placement_candidates clusters;
  const char *abandoned[PROJECT_MAX_CLUSTERS];
  json_t *abandoned_child[PROJECT_MAX_CLUSTERS];
} tj_gathered;

static json_t *cached(const rt_ctx *ctx, const kube_resource *r, const char *ns, const char *name) {
  cache_store *store = rt_store(ctx, r);
  return store ? cache_store_get(store, ns, name) : NULL;
}

/* Keeps the pods of all labelled with the job's name. */
static void keep_job_pods(const json_t *tj, cache_list *all, cache_list *out) {
  memset(out, 0, sizeof(*out));
  out->items = xcalloc(all->len + 1, sizeof(json_t *));
  for (size_t i = 0; i < all->len; i++) {
    const char *owner = json_string_value(json_object_get(js_get(all->items[i], "metadata.labels"), TJ_LABEL));
    if (owner && strcmp(owner, js_name(tj)) == 0) out->items[out->len++] = json_incref(all->items[i]);
  }
  cache_list_free(all);
}

/* The pods labelled with the job's name (the engine's and the debug pod),
 * from the shared pod cache. */
static void job_pods(const rt_ctx *ctx, const json_t *tj, cache_list *out) {
  cache_store *pods = rt_store(ctx, &kube_pods);
  cache_list all = {0};
  if (pods) cache_store_by_namespaced_label(pods, TJ_LABEL, js_namespace(tj), js_name(tj), &all);
  keep_job_pods(tj, &all, out);
}

/* Is the engine served by a member, as its Cluster's status.apis says? */
static int member_serves(const json_t *st, const void *arg) {
  tj_framework f = *(const tj_framework *)arg;
  const json_t *apis = json_object_get(st, "apis");
  switch (f) {
    case TJ_BATCH: return 1;
    case TJ_VOLCANO: return json_is_true(json_object_get(apis, "volcano"));
    case TJ_RAY: return json_is_true(json_object_get(apis, "kubeRay"));
    case TJ_SPARK: return json_is_true(json_object_get(apis, "sparkOperator"));
    default: break;
  }
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(apis, "trainingOperator"), i, k) {
    if (json_is_string(k) && strcmp(json_string_value(k), tj_engine(f)->kind) == 0) return 1;
  }
  return 0;
}

/* The namespace's Project and its clusters, in its order. */
static void gather_clusters(const rt_ctx *ctx, const tj_ctl *tc, const json_t *tj, tj_gathered *g) {
  if (g->in.env.project == NULL || g->in.spec == NULL) return;
  placement_needs needs = {.api = tj_engine(g->spec.framework), .member_serves = member_serves,
                           .arg = &g->spec.framework,
                           .local_serves = rt_api_available(ctx, tj_engine(g->spec.framework)),
                           .replaceable = g->spec.place.reschedule_on_loss && g->spec.place.cluster == NULL};
  tj_demand_of(g->in.spec, &needs.demand);
  placement_candidates_gather(ctx, g->in.env.project, js_str(tj, "status.cluster"), &needs, tc->gpu, &g->clusters);
  g->in.project_name = g->clusters.project_name;
  g->in.clusters = g->clusters.views;
  g->in.nclusters = g->clusters.n;
}

/* The gang scheduler a member runs: its Cluster's spec.gangScheduler
 * (none when the Cluster is gone or its spec unreadable: the Cluster's
 * status says why). */
static gang_config member_gang(const rt_ctx *ctx, const char *member) {
  gang_config gang = {.scheduler = GANG_NONE};
  json_t *cluster = cached(ctx, &cluster_resource, NULL, member);
  cluster_spec spec;
  if (cluster && cluster_spec_parse(cluster, &spec, NULL, 0) == 0) gang = spec.gang;
  json_decref(cluster);
  return gang;
}

/* A job placed on a member: its engine object and pods are the member's,
 * and so is its gang scheduler. */
static void gather_in_member(const rt_ctx *ctx, const json_t *tj, const char *member, tj_gathered *g) {
  const char *ns = js_namespace(tj), *name = js_name(tj);
  g->in.env.in_member = 1;
  g->in.env.gang = member_gang(ctx, member);
  const placement_view *v = placement_candidates_find(&g->clusters, member);
  g->in.engine_available = v && v->serves;
  if (g->in.spec && g->in.engine_available)
    g->child = rt_member_get(ctx, member, tj_engine(g->spec.framework), ns, name);
  char debug_name[300];
  snprintf(debug_name, sizeof(debug_name), "%s-debug", name);
  g->debug_pod = rt_member_get(ctx, member, &kube_pods, ns, debug_name);
  cache_list all = {0};
  /* Not connected: no pods (the plan does not read them: the member is not ready). */
  if (rt_member_list(ctx, member, &kube_pods, ns, &all)) memset(&all, 0, sizeof(all));
  keep_job_pods(tj, &all, &g->pods);
  /* The Warnings about the engine object and its pods there. */
  const json_t **children = xcalloc(g->pods.len + 1, sizeof(*children));
  children[0] = g->child;
  for (size_t i = 0; i < g->pods.len; i++) children[i + 1] = g->pods.items[i];
  rt_member_child_events(ctx, member, ns, children, g->pods.len + 1, &g->member_events);
  free(children);
  g->in.member_events = g->member_events.items;
  g->in.nmember_events = g->member_events.len;
}

/* The clusters the job was taken off and its engine object still there. */
static void gather_abandoned(const rt_ctx *ctx, const json_t *tj, tj_gathered *g) {
  size_t i;
  json_t *name;
  json_array_foreach(js_get(tj, "status.abandonedClusters"), i, name) {
    if (!json_is_string(name) || g->in.nabandoned == PROJECT_MAX_CLUSTERS) continue;
    size_t at = g->in.nabandoned++;
    g->abandoned[at] = json_string_value(name);
    if (g->in.spec)
      g->abandoned_child[at] =
          rt_member_get(ctx, g->abandoned[at], tj_engine(g->spec.framework), js_namespace(tj), js_name(tj));
  }
  g->in.abandoned = g->abandoned;
  g->in.abandoned_child = (const json_t *const *)g->abandoned_child;
}

/* The hub's engine object's newest refusal to create a pod; one older than
 * the newest pod was overcome since. */
static void gather_refusal(const rt_ctx *ctx, const char *ns, tj_gathered *g) {
  cache_store *events = g->child ? rt_store(ctx, &kube_events) : NULL;
  if (events == NULL) return;
  int64_t newest = 0;
  for (size_t i = 0; i < g->pods.len; i++) {
    int64_t t = js_time(g->pods.items[i], "metadata.creationTimestamp");
    if (t > newest) newest = t;
  }
  cache_store_by_index(events, CACHE_INDEX_NAMESPACE, ns, &g->events);
  g->in.create_refused = rt_create_refusal(g->events.items, g->events.len, js_str(g->child, "metadata.uid"), newest, NULL);
}

static void gather(const rt_ctx *ctx, const json_t *tj, tj_gathered *g) {
  const tj_ctl *tc = ctx->arg;
  memset(g, 0, sizeof(*g));
  const char *ns = js_namespace(tj), *name = js_name(tj);
  g->in.tj = tj;
  if (tj_spec_parse(tj, &g->spec, g->spec_error, sizeof(g->spec_error)) == 0) g->in.spec = &g->spec;
  g->in.spec_error = g->spec_error;
  g->ns = cached(ctx, &kube_namespaces, NULL, ns);
  g->in.env.gang = tc->gang;
  g->in.env.project = json_string_value(json_object_get(js_get(g->ns, "metadata.labels"), CUBIT_LABEL_PROJECT));
  g->in.env.gpu = tc->gpu;
  g->in.now = time_wall_s();
  gather_clusters(ctx, tc, tj, g);
  const char *cluster = tj_cluster_of(&g->in);
  if (cluster && strcmp(cluster, CLUSTER_LOCAL) != 0) {
    gather_in_member(ctx, tj, cluster, g);
  } else {
    if (g->in.spec) {
      const kube_resource *engine = tj_engine(g->spec.framework);
      g->in.engine_available = rt_api_available(ctx, engine);
      g->child = cached(ctx, engine, ns, name);
    }
    char debug_name[300];
    snprintf(debug_name, sizeof(debug_name), "%s-debug", name);
    g->debug_pod = cached(ctx, &kube_pods, ns, debug_name);
    job_pods(ctx, tj, &g->pods);
    gather_refusal(ctx, ns, g);
  }
  gather_abandoned(ctx, tj, g);
  g->in.child = g->child;
  g->in.debug_pod = g->debug_pod;
  g->in.pods = (const json_t *const *)g->pods.items;
  g->in.npods = g->pods.len;
}

static void gathered_free(tj_gathered *g) {
  placement_candidates_free(&g->clusters);
  for (size_t i = 0; i < PROJECT_MAX_CLUSTERS; i++) json_decref(g->abandoned_child[i]);
  json_decref(g->child);
  json_decref(g->debug_pod);
  json_decref(g->ns);
  cache_list_free(&g->pods);
  cache_list_free(&g->events);
  cache_list_free(&g->member_events);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  json_t *tj = cached(ctx, &trainingjob_resource, req->ns, req->name);
  /* In the hub garbage collection removes the children; in a member the
   * plan does, while the finalizer holds the job. */
  if (tj == NULL || (js_get(tj, "metadata.deletionTimestamp") && !rt_has_finalizer(tj, PLACEMENT_REMOTE_FINALIZER))) {
    json_decref(tj);
    return rt_ok();
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

/* A Cluster's change reaches the jobs placed on it and those waiting for
 * room (placement_keys_for_cluster). */
static char **map_cluster(const rt_ctx *ctx, const json_t *cluster) {
  return placement_keys_for_cluster(ctx, &trainingjob_resource, cluster);
}

/* A pod (or, in a member, an engine object) maps to its job through
 * Cubit's label. */
static char **map_labelled(const rt_ctx *ctx, const json_t *pod) {
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
  def.watches[0] = (rt_watch_def){&kube_pods, map_labelled};
  def.watches[1] = (rt_watch_def){&cluster_resource, map_cluster};
  /* The engine object's refusals to create pods (it is named like the job). */
  def.watches[2] = (rt_watch_def){&kube_events, rt_map_involved_object};
  /* The namespace's project names the default scheduler queue and the
   * clusters a job may be placed on; the hub's nodes are its capacity. */
  def.reads[0] = &kube_namespaces;
  def.reads[1] = &project_resource;
  def.reads[2] = &kube_nodes;
  /* A job placed on a member: its engine object and pods there, mapped
   * back by the cubit.dev/trainingjob label (no ownerReference crosses). */
  def.member_watches[0] = (rt_watch_def){&kube_pods, map_labelled};
  /* Their Warning Events there, relayed onto the job. */
  def.member_events_label = TJ_LABEL;
  for (int f = 0; f < TJ_NFRAMEWORKS; f++) def.member_watches[1 + f] = (rt_watch_def){tj_engine(f), map_labelled};
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = tc;
  def.free_arg = free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) {
    free(tc);
    return rc;
  }
  rt_manager_index_label(m, &kube_pods, TJ_LABEL); /* job_pods */
  return 0;
}
