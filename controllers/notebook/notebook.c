/* The Notebook reconcile: read the notebook and everything it needs from
 * the cache, probe the IDE's activity when culling asks for it (the only
 * I/O before the plan), plan (plan.c), and let rt_execute act. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/labels.h"
#include "api/project/project.h"
#include "controllers/cluster/placement.h"
#include "controllers/notebook/notebook.h"
#include "http/client.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "runtime/member_events.h"
#include "runtime/members.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

const kube_resource notebook_virtualservices = {"networking.istio.io", "v1", "virtualservices", "VirtualService", 1};

typedef struct notebook_ctl {
  notebook_config cfg;
} notebook_ctl;

static void ctl_free(void *arg) {
  notebook_ctl *nc = arg;
  notebook_config_free(&nc->cfg);
  free(nc);
}

/* ------------------------------------------------------------ probing */

static void probe_activity(const notebook_ctl *nc, const json_t *nb, const notebook_spec *spec, const char *pod_ip,
                           int64_t now, notebook_probe_result *out) {
  memset(out, 0, sizeof(*out));
  out->probed = 1;
  char path[NOTEBOOK_PATH_LEN];
  notebook_probe_path(spec, js_namespace(nb), js_name(nb), path);
  char url[NOTEBOOK_PATH_LEN + 96];
  int v6 = strchr(pod_ip, ':') != NULL;
  snprintf(url, sizeof(url), "http://%s%s%s:%d%s", v6 ? "[" : "", pod_ip, v6 ? "]" : "", spec->probe_port, path);
  http_get_opts o = {.timeout_ms = 1000 * (spec->probe_timeout_s ? spec->probe_timeout_s : nc->cfg.probe_timeout_s),
                     .max_body = 64 * 1024,
                     .accept = "application/json"};
  http_get_result r;
  int rc = http_get(url, &o, &r);
  if (rc) {
    snprintf(out->message, sizeof(out->message), "GET %.250s: %.200s", url, r.error);
  } else if (r.status < 200 || r.status > 299) {
    snprintf(out->message, sizeof(out->message), "GET %.250s: HTTP %ld", url, r.status);
  } else {
    char why[256];
    if (notebook_activity_parse(spec->probe, r.body, r.body_len, now, &out->last, why, sizeof(why)))
      snprintf(out->message, sizeof(out->message), "GET %.250s: %.200s", url, why);
    else
      out->ok = 1;
  }
  /* Auto means the IDE's own format. */
  if (out->ok == 0 && rc == 0 && spec->probe == NB_PROBE_AUTO && r.status >= 200 && r.status <= 299) {
    notebook_probe_type t = spec->ide == NB_IDE_JUPYTER ? NB_PROBE_JUPYTER
                            : spec->ide == NB_IDE_VSCODE ? NB_PROBE_CODE_SERVER
                                                         : NB_PROBE_RSTUDIO;
    char why[256];
    if (notebook_activity_parse(t, r.body, r.body_len, now, &out->last, why, sizeof(why)) == 0) out->ok = 1;
  }
  http_get_result_free(&r);
  log_v(3, "notebook", "activity probed", "notebook=%s/%s url=%s ok=%d last=%lld message=\"%s\"", js_namespace(nb),
        js_name(nb), url, out->ok, (long long)out->last, out->message);
}

/* ------------------------------------------------------------ gather */

/* What nb_plan reads, and the references that keep it alive. */
typedef struct nb_gathered {
  nb_observed in;
  notebook_spec spec;
  char spec_error[512];
  json_t *ns, *sts, *pod, *vs, *ing, *svc, *pvc, *cluster;
  cache_list refusals, member_events;
  placement_candidates clusters;
} nb_gathered;

/* The object of kind r named 'name' in ns from the cache (a reference), or
 * NULL (absent, or the API not served). */
static json_t *cached(const rt_ctx *ctx, const kube_resource *r, const char *ns, const char *name) {
  cache_store *s = rt_store(ctx, r);
  return s ? cache_store_get(s, ns, name) : NULL;
}

/* The object of kind r named 'name' where the notebook's children live:
 * the hub's cache, or member's. */
static json_t *child_in(const rt_ctx *ctx, const char *member, const kube_resource *r, const char *ns,
                        const char *name) {
  return member ? rt_member_get(ctx, member, r, ns, name) : cached(ctx, r, ns, name);
}

/* The notebook's pod "<name>-0"; only one labelled for this notebook counts
 * (a leftover namesake would not). */
static json_t *notebook_pod(const rt_ctx *ctx, const char *member, const json_t *nb) {
  char *name = xasprintf("%s-0", js_name(nb));
  json_t *pod = child_in(ctx, member, &kube_pods, js_namespace(nb), name);
  free(name);
  const char *owner = json_string_value(json_object_get(js_get(pod, "metadata.labels"), NOTEBOOK_LABEL));
  if (pod && (owner == NULL || strcmp(owner, js_name(nb)) != 0)) {
    json_decref(pod);
    pod = NULL;
  }
  return pod;
}

/* The namespace's Project and its clusters, in its order. */
static void gather_clusters(const rt_ctx *ctx, const notebook_ctl *nc, nb_gathered *g) {
  const char *project = json_string_value(json_object_get(js_get(g->ns, "metadata.labels"), CUBIT_LABEL_PROJECT));
  if (project == NULL) return;
  /* A notebook is made of core kinds only: every cluster serves them. */
  placement_needs needs = {.local_serves = 1};
  if (g->in.spec) nb_demand_of(g->in.spec, &needs.demand);
  placement_candidates_gather(ctx, project, js_str(g->in.nb, "status.cluster"), &needs, nc->cfg.gpu, &g->clusters);
  g->in.project_name = g->clusters.project_name;
  g->in.clusters = g->clusters.views;
  g->in.nclusters = g->clusters.n;
}

/* The member's user-facing Gateway, when its Cluster names one
 * (spec.gateway), serves Istio (status.apis.istio) and the hub's cache of
 * its VirtualServices has listed: the notebook is routed there. */
static void gather_member_route(const rt_ctx *ctx, const char *member, nb_gathered *g) {
  g->cluster = cached(ctx, &cluster_resource, NULL, member);
  cluster_spec cs;
  if (g->cluster == NULL || cluster_spec_parse(g->cluster, &cs, NULL, 0) != 0 || cs.gateway == NULL) return;
  if (!json_is_true(js_get(g->cluster, "status.apis.istio")) ||
      !rt_member_resource_synced(ctx, member, &notebook_virtualservices))
    return;
  g->in.member_gateway = cs.gateway;
  g->in.member_url_base = cs.gateway_url_base;
}

/* The children where they live (the hub, or the member the notebook was
 * placed on; nothing while it waits to be placed), and the StatefulSet's
 * refusal to create the pod while there is none. */
static void gather_children(const rt_ctx *ctx, const char *member, nb_gathered *g) {
  const json_t *nb = g->in.nb;
  const char *ns = js_namespace(nb), *name = js_name(nb);
  g->sts = child_in(ctx, member, &kube_statefulsets, ns, name);
  g->pod = notebook_pod(ctx, member, nb);
  if (member) {
    char *claim = xasprintf("%s-workspace", name);
    g->svc = rt_member_get(ctx, member, &kube_services, ns, name);
    g->pvc = rt_member_get(ctx, member, &kube_pvcs, ns, claim);
    free(claim);
    gather_member_route(ctx, member, g);
    g->vs = rt_member_get(ctx, member, &notebook_virtualservices, ns, name);
  } else {
    g->vs = g->in.virtualservices_served ? cached(ctx, &notebook_virtualservices, ns, name) : NULL;
    g->ing = cached(ctx, &kube_ingresses, ns, name);
  }
  if (member) { /* the Warnings there about its StatefulSet and pod, relayed onto the notebook */
    const json_t *children[2] = {g->sts, g->pod};
    rt_member_child_events(ctx, member, ns, children, 2, &g->member_events);
    g->in.member_events = g->member_events.items;
    g->in.nmember_events = g->member_events.len;
  }
  if (g->pod == NULL && g->sts) {
    /* In a member the StatefulSet's FailedCreate is among those Warnings. */
    cache_store *events = member ? NULL : rt_store(ctx, &kube_events);
    if (events) cache_store_by_index(events, CACHE_INDEX_NAMESPACE, ns, &g->refusals);
    const cache_list *seen = member ? &g->member_events : &g->refusals;
    g->in.create_refused = rt_create_refusal(seen->items, seen->len, js_str(g->sts, "metadata.uid"), 0, NULL);
  }
  g->in.statefulset = g->sts, g->in.pod = g->pod, g->in.virtualservice = g->vs, g->in.ingress = g->ing;
  g->in.service = g->svc, g->in.pvc = g->pvc;
}

static void gather(const rt_ctx *ctx, const json_t *nb, nb_gathered *g) {
  const notebook_ctl *nc = ctx->arg;
  memset(g, 0, sizeof(*g));
  g->in.nb = nb;
  g->in.cfg = &nc->cfg;
  g->in.now = time_wall_s();
  if (notebook_spec_parse(nb, &g->spec, g->spec_error, sizeof(g->spec_error))) g->in.spec_error = g->spec_error;
  else g->in.spec = &g->spec;
  g->ns = cached(ctx, &kube_namespaces, NULL, js_namespace(nb));
  g->in.in_project = json_object_get(js_get(g->ns, "metadata.labels"), CUBIT_LABEL_PROJECT) != NULL;
  g->in.virtualservices_served = rt_api_available(ctx, &notebook_virtualservices);
  gather_clusters(ctx, nc, g);
  const char *cluster = placement_cluster_of(nb, g->in.spec ? &g->spec.place : NULL, g->in.nclusters);
  const char *member = cluster && strcmp(cluster, CLUSTER_LOCAL) != 0 ? cluster : NULL;
  gather_children(ctx, member, g);
  /* The hub cannot reach a member's pod network: a member's notebook is
   * never probed (and so never culled for idleness). */
  if (member == NULL && g->in.spec && g->spec.culling && !g->spec.stopped && notebook_pod_serving(g->pod))
    probe_activity(nc, nb, &g->spec, js_str(g->pod, "status.podIP"), g->in.now, &g->in.probe);
}

static void gathered_free(nb_gathered *g) {
  placement_candidates_free(&g->clusters);
  cache_list_free(&g->refusals);
  cache_list_free(&g->member_events);
  json_decref(g->ns);
  json_decref(g->sts);
  json_decref(g->pod);
  json_decref(g->vs);
  json_decref(g->ing);
  json_decref(g->svc);
  json_decref(g->pvc);
  json_decref(g->cluster);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  json_t *nb = cached(ctx, &notebook_resource, req->ns, req->name);
  /* In the hub garbage collection removes the children; in a member the
   * plan does, while the finalizer holds the notebook. */
  if (nb == NULL || (js_get(nb, "metadata.deletionTimestamp") && !rt_has_finalizer(nb, PLACEMENT_REMOTE_FINALIZER))) {
    json_decref(nb);
    return rt_ok();
  }
  nb_gathered g;
  gather(ctx, nb, &g);
  rt_plan plan;
  rt_plan_init(&plan);
  nb_plan(&g.in, &plan);
  rt_result result = rt_execute(ctx, &notebook_resource, nb, &plan);
  rt_plan_free(&plan);
  gathered_free(&g);
  json_decref(nb);
  return result;
}

/* ------------------------------------------------------------ mapping */

/* A Cluster's change reaches the notebooks placed on it and those waiting for
 * room (placement_keys_for_cluster). */
static char **map_cluster(const rt_ctx *ctx, const json_t *cluster) {
  return placement_keys_for_cluster(ctx, &notebook_resource, cluster);
}

/* A pod (or, in a member, any child) maps to the notebook named by its
 * label. */
static char **map_labelled(const rt_ctx *ctx, const json_t *pod) {
  const char *name = json_string_value(json_object_get(js_get(pod, "metadata.labels"), NOTEBOOK_LABEL));
  const char *ns = js_namespace(pod);
  if (name == NULL || ns == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(ns, name);
  return keys;
}

int notebook_controller_register(rt_manager *m, const notebook_config *cfg) {
  notebook_ctl *nc = xcalloc(1, sizeof(*nc));
  nc->cfg = *cfg;
  nc->cfg.ingress_annotations = json_deep_copy(cfg->ingress_annotations);
  rt_controller_def def = {0};
  def.name = "notebook";
  def.primary = &notebook_resource;
  def.owns[0] = &kube_statefulsets;
  def.owns[1] = &kube_services;
  def.owns[2] = &kube_pvcs;
  def.owns[3] = &notebook_virtualservices;
  def.owns[4] = &kube_ingresses;
  def.watches[0] = (rt_watch_def){&kube_pods, map_labelled};
  /* The StatefulSet's refusals to create the pod (named like the notebook). */
  def.watches[1] = (rt_watch_def){&kube_events, rt_map_involved_object};
  /* Reachability and capacity of the clusters notebooks are placed on. */
  def.watches[2] = (rt_watch_def){&cluster_resource, map_cluster};
  /* The namespace: a project's (GPU translation, the clusters a notebook
   * may be placed on); the hub's nodes are its capacity. */
  def.reads[0] = &kube_namespaces;
  def.reads[1] = &project_resource;
  def.reads[2] = &kube_nodes;
  /* A notebook placed on a member: its children there, mapped back by the
   * cubit.dev/notebook label (no ownerReference crosses clusters). */
  def.member_watches[0] = (rt_watch_def){&kube_statefulsets, map_labelled};
  def.member_watches[1] = (rt_watch_def){&kube_pods, map_labelled};
  def.member_watches[2] = (rt_watch_def){&kube_services, map_labelled};
  def.member_watches[3] = (rt_watch_def){&kube_pvcs, map_labelled};
  /* Its route there, through the Gateway its Cluster names (spec.gateway). */
  def.member_watches[4] = (rt_watch_def){&notebook_virtualservices, map_labelled};
  /* Their Warning Events there (a FailedCreate too) wake the notebook by the
   * same label and are relayed onto it (runtime/member_events.h). */
  def.member_events_label = NOTEBOOK_LABEL;
  /* A probe may wait for its timeout; more workers keep one slow notebook
   * from holding up the others. */
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = nc;
  def.free_arg = ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) ctl_free(nc);
  return rc;
}
