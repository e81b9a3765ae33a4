/* The gather half of placement (docs/multicluster.md#placement): each
 * cluster of a workload's project as a placement_view, from the Cluster's
 * status and the hub's caches of the member, or the hub's own nodes and pods. */
#include "controllers/cluster/placement.h"

#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "controllers/cluster/cluster.h"
#include "runtime/conditions.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/quantity.h"

static int same_str(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

static int64_t status_quantity(const json_t *st, const char *path, int milli) {
  const char *s = js_str(st, path);
  quantity q;
  if (s == NULL || quantity_parse(s, &q)) return 0;
  return milli ? quantity_milli_value(&q) : quantity_value(&q);
}

/* Free cards of the model (all models when ""): from the per-model list. */
static int64_t member_free_gpu(const json_t *st, const char *model) {
  if (model[0] == '\0') return status_quantity(st, "allocatable.gpu", 1) - status_quantity(st, "used.gpu", 1);
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(st, "gpus"), i, g) {
    if (same_str(js_str(g, "model"), model))
      return status_quantity(g, "allocatable", 1) - status_quantity(g, "used", 1);
  }
  return 0;
}

/* Node by node, from the cluster's nodes and pods: *out, and the view's nodes. */
static void node_view(cache_list *ln, cache_list *lp, const placement_needs *needs, const gpu_profile *gpu,
                      placement_view *v, placement_node **out) {
  *out = xcalloc(ln->len + 1, sizeof(**out));
  v->nnodes = cluster_nodes_free(ln->items, ln->len, lp->items, lp->len, gpu, needs->demand.model, *out);
  v->nodes = *out;
}

/* Member cluster 'name' as its Cluster's status and the member's caches
 * say: ready only when the Cluster is Ready and the caches the plan reads
 * (pods, the workload's API) have listed. */
static void member_view(const rt_ctx *ctx, const json_t *cluster, const placement_needs *needs, const gpu_profile *gpu,
                        int placing, placement_view *v, placement_node **nodes_out) {
  const json_t *st = json_object_get(cluster, "status");
  const json_t *ready = rt_condition_get(st, "Ready");
  v->serves = cluster && (needs->member_serves == NULL || needs->member_serves(st, needs->arg));
  v->ready = cluster && same_str(js_str(st, "phase"), "Ready") && rt_member_synced(ctx, v->name) &&
             rt_member_resource_synced(ctx, v->name, &kube_pods) &&
             (!v->serves || needs->api == NULL || rt_member_resource_synced(ctx, v->name, needs->api));
  v->message = cluster == NULL ? "no such Cluster" : js_str(ready, "message");
  if (cluster && v->message == NULL) v->message = js_str(st, "phase");
  if (v->message == NULL || (!v->ready && same_str(js_str(st, "phase"), "Ready")))
    v->message = "connecting: the member's caches are listing";
  v->free_cpu_milli = status_quantity(st, "allocatable.cpu", 1) - status_quantity(st, "used.cpu", 1);
  v->free_memory_bytes = status_quantity(st, "allocatable.memory", 0) - status_quantity(st, "used.memory", 0);
  v->free_gpu_milli = member_free_gpu(st, needs->demand.model);
  cache_list ln = {0}, lp = {0};
  if (!placing || !v->ready || rt_member_list(ctx, v->name, &kube_nodes, NULL, &ln)) return;
  if (rt_member_list(ctx, v->name, &kube_pods, NULL, &lp)) {
    cache_list_free(&ln);
    return;
  }
  node_view(&ln, &lp, needs, gpu, v, nodes_out);
  cache_list_free(&ln);
  cache_list_free(&lp);
}

/* The hub as a placement candidate: its own nodes and pods. */
static void local_view(const rt_ctx *ctx, const placement_needs *needs, const gpu_profile *gpu, placement_view *v,
                       placement_node **nodes_out) {
  v->ready = 1;
  v->serves = needs->local_serves;
  cache_store *nodes = rt_store(ctx, &kube_nodes), *pods = rt_store(ctx, &kube_pods);
  cache_list ln = {0}, lp = {0};
  if (nodes) cache_store_list(nodes, NULL, &ln);
  if (pods) cache_store_list(pods, NULL, &lp);
  node_view(&ln, &lp, needs, gpu, v, nodes_out);
  cluster_capacity cap;
  cluster_capacity_of(ln.items, ln.len, lp.items, lp.len, gpu, &cap);
  v->free_cpu_milli = cap.cpu_milli - cap.used_cpu_milli;
  v->free_memory_bytes = cap.memory_bytes - cap.used_memory_bytes;
  v->free_gpu_milli = cap.gpu_milli - cap.used_gpu_milli;
  if (needs->demand.model[0]) {
    v->free_gpu_milli = 0;
    for (size_t i = 0; i < cap.nmodels; i++)
      if (strcmp(cap.models[i].model, needs->demand.model) == 0)
        v->free_gpu_milli = cap.models[i].allocatable_milli - cap.models[i].used_milli;
  }
  cache_list_free(&ln);
  cache_list_free(&lp);
}

void placement_candidates_gather(const rt_ctx *ctx, const char *project, const char *placed,
                                 const placement_needs *needs, const gpu_profile *gpu, placement_candidates *out) {
  memset(out, 0, sizeof(*out));
  if (project == NULL) return;
  cache_store *projects = rt_store(ctx, &project_resource);
  out->project = projects ? cache_store_get(projects, NULL, project) : NULL;
  char err[256];
  if (out->project == NULL || project_spec_parse(out->project, &out->project_spec, err, sizeof(err))) return;
  out->project_parsed = 1;
  out->project_name = project;
  int placing = placed == NULL || *placed == '\0';
  cache_store *clusters = rt_store(ctx, &cluster_resource);
  size_t n = 0;
  int listed = 0; /* the placed cluster is still in the project's list */
  for (; n < out->project_spec.nclusters; n++) {
    placement_view *v = &out->views[n];
    v->name = out->project_spec.clusters[n];
    listed |= !placing && strcmp(v->name, placed) == 0;
    if (strcmp(v->name, CLUSTER_LOCAL) == 0) {
      if (placing) local_view(ctx, needs, gpu, v, &out->nodes[n]);
      else v->ready = v->serves = 1;
      continue;
    }
    out->cluster_objs[n] = clusters ? cache_store_get(clusters, NULL, v->name) : NULL;
    member_view(ctx, out->cluster_objs[n], needs, gpu, placing, v, &out->nodes[n]);
  }
  if (!placing && !listed && strcmp(placed, CLUSTER_LOCAL) != 0) {
    out->views[n].name = placed;
    out->cluster_objs[n] = clusters ? cache_store_get(clusters, NULL, placed) : NULL;
    member_view(ctx, out->cluster_objs[n], needs, gpu, placing, &out->views[n], &out->nodes[n]);
    n++;
  }
  out->n = n;
}

void placement_candidates_free(placement_candidates *c) {
  for (size_t i = 0; i < PROJECT_MAX_CLUSTERS + 1; i++) {
    json_decref(c->cluster_objs[i]);
    free(c->nodes[i]);
  }
  if (c->project_parsed) project_spec_free(&c->project_spec);
  json_decref(c->project);
  memset(c, 0, sizeof(*c));
}

const placement_view *placement_candidates_find(const placement_candidates *c, const char *name) {
  for (size_t i = 0; name && i < c->n; i++)
    if (strcmp(c->views[i].name, name) == 0) return &c->views[i];
  return NULL;
}
