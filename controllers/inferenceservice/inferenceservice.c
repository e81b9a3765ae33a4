/* The InferenceService reconciler: gather what isvc_plan needs from the
 * cache (never from the API server), plan, and let the runtime's executor
 * act (pkg/runtime/plan.h). The decisions are all in plan.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/project/project.h"
#include "controllers/inferenceservice/inferenceservice.h"
#include "runtime/controller.h"
#include "runtime/member_events.h"
#include "runtime/members.h"
#include "runtime/plan.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

typedef struct inference_ctl {
  inference_config config;
  inference_settings cfg; /* points into config */
} inference_ctl;

/* What one reconcile read; isvc_observed borrows from it. */
typedef struct gathered {
  inference_spec spec;
  int spec_ok;
  char spec_error[512];
  json_t *deployments, *services, *pods, *hpa, *vs, *dr;
  json_t *ns;                       /* its Namespace (the project's name points into it) */
  cache_list member_events;         /* placed on a member: the Warnings there about its children */
  placement_candidates clusters;
  isvc_observed in;
} gathered;

/* The objects of l named 'name' or 'name-*': every name a child of the
 * InferenceService may have, whoever controls it. New array; l is freed. */
static json_t *keep_namesakes(cache_list *l, const char *name) {
  json_t *out = json_array();
  size_t n = strlen(name);
  for (size_t i = 0; i < l->len; i++) {
    const char *o = js_name(l->items[i]);
    if (o && strncmp(o, name, n) == 0 && (o[n] == '\0' || o[n] == '-')) json_array_append(out, l->items[i]);
  }
  cache_list_free(l);
  return out;
}

static json_t *namesakes(cache_store *store, const char *ns, const char *name) {
  cache_list l = {0};
  cache_store_list(store, ns, &l);
  return keep_namesakes(&l, name);
}

/* The same in a member's cache (nothing while it is not connected). */
static json_t *member_namesakes(const rt_ctx *ctx, const char *member, const kube_resource *r, const char *ns,
                                const char *name) {
  cache_list l = {0};
  if (rt_member_list(ctx, member, r, ns, &l)) memset(&l, 0, sizeof(l));
  return keep_namesakes(&l, name);
}

static json_t *pods_of(cache_store *store, const char *ns, const char *name) {
  json_t *out = json_array();
  char selector[300];
  snprintf(selector, sizeof(selector), "%s=%s", INFERENCE_LABEL, name);
  cache_list l = {0};
  if (cache_store_select(store, ns, selector, &l) == 0)
    for (size_t i = 0; i < l.len; i++) json_array_append(out, l.items[i]);
  cache_list_free(&l);
  return out;
}

/* The member's pods labelled with the service's name. */
static json_t *member_pods_of(const rt_ctx *ctx, const char *member, const char *ns, const char *name) {
  json_t *out = json_array();
  cache_list l = {0};
  if (rt_member_list(ctx, member, &kube_pods, ns, &l)) memset(&l, 0, sizeof(l));
  for (size_t i = 0; i < l.len; i++) {
    const char *owner = json_string_value(json_object_get(js_get(l.items[i], "metadata.labels"), INFERENCE_LABEL));
    if (owner && strcmp(owner, name) == 0) json_array_append(out, l.items[i]);
  }
  cache_list_free(&l);
  return out;
}

static void gathered_free(gathered *g) {
  placement_candidates_free(&g->clusters);
  cache_list_free(&g->member_events);
  json_decref(g->ns);
  if (g->spec_ok) inference_spec_free(&g->spec);
  json_decref(g->deployments);
  json_decref(g->services);
  json_decref(g->pods);
  json_decref(g->hpa);
  json_decref(g->vs);
  json_decref(g->dr);
}

/* Does a member serve what the service needs, as its Cluster's status.apis
 * says? Istio only when the service splits, mirrors or routes by host. */
static int member_serves(const json_t *st, const void *arg) {
  const inference_spec *s = arg;
  return !isvc_wants_istio(s) || json_is_true(js_get(st, "apis.istio"));
}

/* The namespace's Project and its clusters, in its order. */
static void gather_clusters(const rt_ctx *ctx, const inference_ctl *ic, const json_t *isvc, const char *project,
                            gathered *g) {
  if (project == NULL) return;
  /* An invalid spec asks for nothing, but a placed service still needs its
   * member's view (a deletion cleans up there). */
  placement_needs needs = {.api = &kube_deployments, .local_serves = 1};
  if (g->spec_ok) {
    needs.member_serves = member_serves;
    needs.arg = &g->spec;
    needs.local_serves = !isvc_wants_istio(&g->spec) || g->in.istio;
    isvc_demand_of(&g->spec, g->in.floor, &needs.demand);
  }
  placement_candidates_gather(ctx, project, js_str(isvc, "status.cluster"), &needs, ic->cfg.gpu, &g->clusters);
  /* Ready also means every cache the plan reads there has listed: a
   * child not yet listed would read as missing and be made again. */
  static const kube_resource *const read_there[] = {&kube_services, &kube_hpas};
  for (size_t i = 0; i < g->clusters.n; i++) {
    placement_view *v = &g->clusters.views[i];
    if (strcmp(v->name, CLUSTER_LOCAL) == 0 || !v->ready) continue;
    for (size_t k = 0; k < sizeof(read_there) / sizeof(read_there[0]); k++)
      if (!rt_member_resource_synced(ctx, v->name, read_there[k])) v->ready = 0;
    if (!v->ready) v->message = "connecting: the member's caches are listing";
  }
  g->in.project_name = g->clusters.project_name;
  g->in.clusters = g->clusters.views;
  g->in.nclusters = g->clusters.n;
}

/* The member's Warnings about the service's Deployments there (its own,
 * by the owner-uid label) and their pods, relayed onto it by the plan. */
static void gather_member_events(const rt_ctx *ctx, const json_t *isvc, const char *member, gathered *g) {
  size_t nd = json_array_size(g->deployments), np = json_array_size(g->pods), n = 0, i;
  const json_t **children = xcalloc(nd + np + 1, sizeof(*children));
  json_t *o;
  json_array_foreach(g->deployments, i, o) {
    if (placement_labelled_for(isvc, o)) children[n++] = o;
  }
  json_array_foreach(g->pods, i, o) children[n++] = o;
  rt_member_child_events(ctx, member, js_namespace(isvc), children, n, &g->member_events);
  free(children);
  g->in.member_events = g->member_events.items;
  g->in.nmember_events = g->member_events.len;
}

/* A service placed on a member: its children and pods are the member's,
 * and Istio is the member's (its Cluster's status.apis.istio). No pod
 * webhook of Cubit runs there: the pod template translates GPUs itself. */
static void gather_in_member(const rt_ctx *ctx, const json_t *isvc, const char *member, gathered *g) {
  const char *ns = js_namespace(isvc), *name = js_name(isvc);
  isvc_observed *in = &g->in;
  in->in_project = 0;
  json_t *cluster = NULL;
  cache_store *clusters = rt_store(ctx, &cluster_resource);
  if (clusters) cluster = cache_store_get(clusters, NULL, member);
  in->istio = json_is_true(js_get(cluster, "status.apis.istio")) &&
              rt_member_resource_synced(ctx, member, &inference_virtualservices) &&
              rt_member_resource_synced(ctx, member, &inference_destinationrules);
  json_decref(cluster);
  g->deployments = member_namesakes(ctx, member, &kube_deployments, ns, name);
  g->services = member_namesakes(ctx, member, &kube_services, ns, name);
  g->pods = member_pods_of(ctx, member, ns, name);
  g->hpa = rt_member_get(ctx, member, &kube_hpas, ns, name);
  if (in->istio) {
    g->vs = rt_member_get(ctx, member, &inference_virtualservices, ns, name);
    g->dr = rt_member_get(ctx, member, &inference_destinationrules, ns, name);
  }
  gather_member_events(ctx, isvc, member, g);
}

/* The HPA floor in force now. The schedule reads the tz database: done
 * here, so the plan stays pure. */
static void gather_floor(const json_t *isvc, gathered *g) {
  isvc_observed *in = &g->in;
  in->window = -1;
  in->next_boundary = INT64_MAX;
  if (!g->spec_ok) return;
  char why[300] = "";
  in->floor = g->spec.stable.min_replicas;
  if (inference_schedule_floor(&g->spec, in->now, &in->floor, &in->window, &in->next_boundary, why, sizeof(why))) {
    log_warn("inferenceservice", "schedule unreadable; using the base floor", "object=%s/%s error=\"%s\"",
             js_namespace(isvc), js_name(isvc), why);
    in->floor = g->spec.stable.min_replicas;
    in->window = -1;
    in->next_boundary = INT64_MAX;
  }
}

/* A service in the hub: its children and pods are the hub's. */
static void gather_in_hub(const rt_ctx *ctx, const json_t *isvc, gathered *g) {
  const char *ns = js_namespace(isvc), *name = js_name(isvc);
  g->deployments = namesakes(rt_store(ctx, &kube_deployments), ns, name);
  g->services = namesakes(rt_store(ctx, &kube_services), ns, name);
  g->pods = pods_of(rt_store(ctx, &kube_pods), ns, name);
  g->hpa = cache_store_get(rt_store(ctx, &kube_hpas), ns, name);
  if (g->in.istio) {
    cache_store *vss = rt_store(ctx, &inference_virtualservices), *drs = rt_store(ctx, &inference_destinationrules);
    g->vs = vss ? cache_store_get(vss, ns, name) : NULL;
    g->dr = drs ? cache_store_get(drs, ns, name) : NULL;
  }
}

/* Reads everything isvc_plan decides from. Returns 0, or CUBIT_ENOTSUP
 * while a store it needs is not there (its API not served yet). */
static int gather(const rt_ctx *ctx, const inference_ctl *ic, const json_t *isvc, gathered *g) {
  memset(g, 0, sizeof(*g));
  if (rt_store(ctx, &kube_deployments) == NULL || rt_store(ctx, &kube_services) == NULL ||
      rt_store(ctx, &kube_hpas) == NULL || rt_store(ctx, &kube_pods) == NULL)
    return CUBIT_ENOTSUP;
  isvc_observed *in = &g->in;
  in->isvc = isvc;
  in->cfg = &ic->cfg;
  in->now = time_wall_s();
  g->spec_ok = inference_spec_parse(isvc, &g->spec, g->spec_error, sizeof(g->spec_error)) == 0;
  in->spec = g->spec_ok ? &g->spec : NULL;
  in->spec_error = g->spec_error;
  in->istio = rt_api_available(ctx, &inference_virtualservices) && rt_api_available(ctx, &inference_destinationrules);
  gather_floor(isvc, g);
  cache_store *nss = rt_store(ctx, &kube_namespaces);
  g->ns = nss ? cache_store_get(nss, NULL, js_namespace(isvc)) : NULL;
  in->namespace_terminating = js_get(g->ns, "metadata.deletionTimestamp") != NULL;
  const char *project = json_string_value(json_object_get(js_get(g->ns, "metadata.labels"), CUBIT_LABEL_PROJECT));
  in->in_project = project != NULL;
  gather_clusters(ctx, ic, isvc, project, g);
  const char *cluster = isvc_cluster_of(in);
  if (cluster && strcmp(cluster, CLUSTER_LOCAL) != 0) gather_in_member(ctx, isvc, cluster, g);
  else gather_in_hub(ctx, isvc, g);
  in->deployments = g->deployments;
  in->services = g->services;
  in->pods = g->pods;
  in->hpa = g->hpa;
  in->virtual_service = g->vs;
  in->destination_rule = g->dr;
  return 0;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const inference_ctl *ic = ctx->arg;
  cache_store *isvcs = rt_store(ctx, &inference_resource);
  json_t *isvc = isvcs ? cache_store_get(isvcs, req->ns, req->name) : NULL;
  if (isvc == NULL) return isvcs ? rt_ok() : rt_requeue_after(5000);
  gathered g;
  rt_result result = rt_requeue_after(5000);
  if (gather(ctx, ic, isvc, &g) == 0) {
    rt_plan plan;
    rt_plan_init(&plan);
    isvc_plan(&g.in, &plan);
    result = rt_execute(ctx, &inference_resource, isvc, &plan);
    rt_plan_free(&plan);
  }
  gathered_free(&g);
  json_decref(isvc);
  return result;
}

/* ---------------------------------------------------------- register */

/* A pod maps to the InferenceService named by its label: the scheduler's
 * and the kubelet's verdicts arrive on pods, not on the Deployment. In a
 * member every child maps back the same way (no ownerReference crosses
 * clusters; placement_for_member labels them). */
static char **map_labelled(const rt_ctx *ctx, const json_t *pod) {
  const char *name = json_string_value(json_object_get(js_get(pod, "metadata.labels"), INFERENCE_LABEL));
  const char *ns = js_namespace(pod);
  if (name == NULL || ns == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(ns, name);
  return keys;
}

/* A Cluster's change reaches the services placed on it and those
 * waiting for room. */
static char **map_cluster(const rt_ctx *ctx, const json_t *cluster) {
  return placement_keys_for_cluster(ctx, &inference_resource, cluster);
}

static void ctl_free(void *arg) {
  free(arg);
}

int inference_controller_register(rt_manager *m, const json_t *settings, const gpu_profile *gpu) {
  inference_ctl *ic = xcalloc(1, sizeof(*ic));
  char err[256];
  if (inference_config_parse(settings, &ic->config, err, sizeof(err))) {
    log_error("manager", "bad inference settings in --config", "error=\"%s\"", err);
    free(ic);
    return CUBIT_EINVAL;
  }
  ic->cfg.storage_initializer = ic->config.storage_initializer;
  ic->cfg.cluster_domain = ic->config.cluster_domain;
  ic->cfg.gpu = gpu;
  rt_controller_def def = {0};
  def.name = "inferenceservice";
  def.primary = &inference_resource;
  def.owns[0] = &kube_deployments;
  def.owns[1] = &kube_services;
  def.owns[2] = &kube_hpas;
  def.owns[3] = &inference_destinationrules;
  def.owns[4] = &inference_virtualservices;
  def.watches[0] = (rt_watch_def){&kube_pods, map_labelled};
  def.watches[1] = (rt_watch_def){&cluster_resource, map_cluster};
  /* Its namespace: a namespace being deleted refuses every creation; its
   * project names the clusters it may be placed on; the hub's nodes are
   * the hub's capacity. */
  def.reads[0] = &kube_namespaces;
  def.reads[1] = &project_resource;
  def.reads[2] = &kube_nodes;
  /* A service placed on a member: its children and pods there, mapped
   * back by the cubit.dev/inferenceservice label. */
  def.member_watches[0] = (rt_watch_def){&kube_pods, map_labelled};
  def.member_watches[1] = (rt_watch_def){&kube_deployments, map_labelled};
  def.member_watches[2] = (rt_watch_def){&kube_services, map_labelled};
  def.member_watches[3] = (rt_watch_def){&kube_hpas, map_labelled};
  def.member_watches[4] = (rt_watch_def){&inference_virtualservices, map_labelled};
  def.member_watches[5] = (rt_watch_def){&inference_destinationrules, map_labelled};
  /* Their Warning Events there (about the Deployments and pods), relayed
   * onto the service (runtime/member_events.h). */
  def.member_events_label = INFERENCE_LABEL;
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = ic;
  def.free_arg = ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(ic);
  return rc;
}
