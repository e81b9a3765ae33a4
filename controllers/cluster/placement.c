/* The gather half of placement (docs/multicluster.md#placement): each
 * cluster of a workload's project as a placement_view, from the Cluster's
 * status and the hub's caches of the member, or the hub's own nodes and
 * pods; and the pure plan steps every placeable kind shares. */
#include "controllers/cluster/placement.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/trainingjob/trainingjob.h"
#include "controllers/cluster/cluster.h"
#include "runtime/conditions.h"
#include "runtime/members.h"
#include "runtime/plan.h"
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
                        int judging, placement_view *v, placement_node **nodes_out) {
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
  if (!judging || !v->ready || rt_member_list(ctx, v->name, &kube_nodes, NULL, &ln)) return;
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

/* The pods of the project's namespaces in cluster 'name' (the hub's own
 * for local), taken into *l (one list per namespace, appended). */
static void project_pods(const rt_ctx *ctx, const project_spec *s, const char *name, cache_list *l, size_t *n) {
  cache_store *hub = rt_store(ctx, &kube_pods);
  for (size_t i = 0; i < s->nnamespaces; i++, (*n)++) {
    memset(&l[*n], 0, sizeof(l[*n]));
    if (strcmp(name, CLUSTER_LOCAL) != 0) {
      if (rt_member_list(ctx, name, &kube_pods, s->namespaces[i], &l[*n])) cache_list_free(&l[*n]);
    } else if (hub) {
      cache_store_by_index(hub, CACHE_INDEX_NAMESPACE, s->namespaces[i], &l[*n]);
    }
  }
}

/* Holds each view to the room the project's quota leaves in its cluster:
 * what the project holds there is counted as the quota webhook counts it
 * (project_cluster_used). */
static void hold_to_quota(const rt_ctx *ctx, const gpu_profile *gpu, placement_candidates *out) {
  const project_spec *s = &out->project_spec;
  cache_store *tjs = rt_store(ctx, &trainingjob_resource);
  for (size_t c = 0; c < s->nclusters && c < out->n; c++) {
    if (usage_is_zero(&s->cluster_quota_set[c])) continue;
    placement_view *v = &out->views[c];
    cache_list lists[PROJECT_MAX_NAMESPACES * 2];
    size_t nl = 0, njobs = 0, npods = 0;
    for (size_t i = 0; tjs && i < s->nnamespaces; i++, nl++)
      cache_store_by_index(tjs, CACHE_INDEX_NAMESPACE, s->namespaces[i], &lists[nl]);
    size_t first_pods = nl;
    project_pods(ctx, s, v->name, lists, &nl);
    size_t total = 0;
    for (size_t i = 0; i < nl; i++) total += lists[i].len;
    const json_t **jobs = xcalloc(total + 1, sizeof(*jobs)), **pods = xcalloc(total + 1, sizeof(*pods));
    for (size_t i = 0; i < nl; i++)
      for (size_t k = 0; k < lists[i].len; k++) {
        const json_t *o = lists[i].items[k];
        if (i >= first_pods) pods[npods++] = o;
        else if (same_str(project_job_cluster(o, 1), v->name)) jobs[njobs++] = o;
      }
    usage used, room, limited;
    project_cluster_used(jobs, njobs, pods, npods, gpu, &used);
    project_cluster_room(s, out->project_name, c, &used, &room, &limited, out->quota[c], sizeof(out->quota[c]));
    if (limited.cpu_milli && room.cpu_milli < v->free_cpu_milli) v->free_cpu_milli = room.cpu_milli;
    if (limited.memory_bytes && room.memory_bytes < v->free_memory_bytes) v->free_memory_bytes = room.memory_bytes;
    if (limited.gpu_milli && room.gpu_milli < v->free_gpu_milli) v->free_gpu_milli = room.gpu_milli;
    v->quota = out->quota[c];
    free(jobs);
    free(pods);
    for (size_t i = 0; i < nl; i++) cache_list_free(&lists[i]);
  }
}

/* The views of the project's clusters (and of 'placed' if the project
 * dropped it since); their room judged only when 'judging' (placing, or
 * placing again). */
static void gather_views(const rt_ctx *ctx, const char *placed, const placement_needs *needs, const gpu_profile *gpu,
                         int judging, placement_candidates *out) {
  cache_store *clusters = rt_store(ctx, &cluster_resource);
  size_t n = 0;
  int placing = placed == NULL || *placed == '\0';
  int listed = 0; /* the placed cluster is still in the project's list */
  for (; n < out->project_spec.nclusters; n++) {
    placement_view *v = &out->views[n];
    v->name = out->project_spec.clusters[n];
    listed |= !placing && strcmp(v->name, placed) == 0;
    if (strcmp(v->name, CLUSTER_LOCAL) == 0) {
      if (judging) local_view(ctx, needs, gpu, v, &out->nodes[n]);
      else v->ready = v->serves = 1;
      continue;
    }
    out->cluster_objs[n] = clusters ? cache_store_get(clusters, NULL, v->name) : NULL;
    member_view(ctx, out->cluster_objs[n], needs, gpu, judging, v, &out->nodes[n]);
  }
  if (!placing && !listed && strcmp(placed, CLUSTER_LOCAL) != 0) {
    out->views[n].name = placed;
    out->cluster_objs[n] = clusters ? cache_store_get(clusters, NULL, placed) : NULL;
    member_view(ctx, out->cluster_objs[n], needs, gpu, judging, &out->views[n], &out->nodes[n]);
    n++;
  }
  out->n = n;
}

/* Drops the views and what keeps them (the project stays). */
static void release_views(placement_candidates *c) {
  for (size_t i = 0; i < PROJECT_MAX_CLUSTERS + 1; i++) {
    json_decref(c->cluster_objs[i]);
    c->cluster_objs[i] = NULL;
    free(c->nodes[i]);
    c->nodes[i] = NULL;
  }
  memset(c->views, 0, sizeof(c->views));
  c->n = 0;
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
  gather_views(ctx, placed, needs, gpu, placing, out);
  /* A workload that may be placed again (rescheduleOnClusterLoss) while its
   * member is away needs every cluster's room, the hub's too, as when it
   * was first placed. */
  const placement_view *was = placing ? NULL : placement_candidates_find(out, placed);
  int replacing = needs->replaceable && was && !was->ready;
  if (replacing) {
    release_views(out);
    gather_views(ctx, placed, needs, gpu, 1, out);
  }
  if (placing || replacing) hold_to_quota(ctx, gpu, out);
}

void placement_candidates_free(placement_candidates *c) {
  release_views(c);
  if (c->project_parsed) project_spec_free(&c->project_spec);
  json_decref(c->project);
  memset(c, 0, sizeof(*c));
}

const placement_view *placement_candidates_find(const placement_candidates *c, const char *name) {
  return placement_views_find(c->views, c->n, name);
}

char **placement_keys_for_cluster(const rt_ctx *ctx, const kube_resource *kind, const json_t *cluster) {
  cache_store *objs = rt_store(ctx, kind);
  cache_list all = {0};
  if (objs) cache_store_list(objs, NULL, &all);
  char **keys = xcalloc(all.len + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < all.len; i++) {
    const char *placed = js_str(all.items[i], "status.cluster");
    const char *waiting = js_str(rt_condition_get(json_object_get(all.items[i], "status"), "Placed"), "status");
    if (same_str(placed, js_name(cluster)) || same_str(waiting, "False")) keys[n++] = cache_key(all.items[i]);
  }
  cache_list_free(&all);
  return keys;
}

/* ------------------------------------------- the plan's steps (pure) */

const char *placement_cluster_of(const json_t *obj, const placement_spec *spec, size_t nclusters) {
  const char *placed = js_str(obj, "status.cluster");
  if (placed && *placed) return placed;
  /* A project spanning no clusters: the hub, with nothing to place (a
   * workload pinned to "local" there, as a pipeline's task sharing its work
   * volume is, included). */
  if (nclusters == 0 && (spec == NULL || spec->cluster == NULL || strcmp(spec->cluster, CLUSTER_LOCAL) == 0))
    return CLUSTER_LOCAL;
  return NULL;
}

const placement_view *placement_views_find(const placement_view *views, size_t n, const char *name) {
  for (size_t i = 0; name && i < n; i++)
    if (strcmp(views[i].name, name) == 0) return &views[i];
  return NULL;
}

static void verdict_set(placement_verdict *v, rt_state state, const char *reason, int warn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void verdict_set(placement_verdict *v, rt_state state, const char *reason, int warn, const char *fmt, ...) {
  memset(v, 0, sizeof(*v));
  v->state = state;
  snprintf(v->reason, sizeof(v->reason), "%s", reason);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->message, sizeof(v->message), fmt, ap);
  va_end(ap);
  v->warn = warn;
}

static void demand_text(const placement_demand *d, char *out, size_t len) {
  char gpu[GPU_MILLI_STRLEN];
  gpu_format_milli(d->gpu_milli, gpu);
  snprintf(out, len, "cpu %lldm, memory %lld bytes, %s %s%sGPUs", (long long)d->cpu_milli,
           (long long)d->memory_bytes, gpu, d->model, d->model[0] ? " " : "");
}

void placement_choose(const placement_step *ps, const placement_spec *spec, const placement_demand *d,
                      placement_verdict *v) {
  const char *project = ps->project_name ? ps->project_name : "the namespace's project";
  const char *chosen = NULL;
  char why[64] = "";
  if (spec->cluster) {
    /* As the webhook judges it: "local" alone where the project lists none. */
    if (placement_views_find(ps->clusters, ps->nclusters, spec->cluster) ||
        (ps->nclusters == 0 && strcmp(spec->cluster, CLUSTER_LOCAL) == 0))
      chosen = spec->cluster;
    if (chosen == NULL) {
      verdict_set(v, RT_STATE_FAILED, "ClusterNotAllowed", 1, "spec.cluster: %s is not one of %s's clusters",
                  spec->cluster, project);
      rt_condition_set(ps->status, "Placed", "False", v->reason, v->message, ps->gen, ps->now);
      return;
    }
    snprintf(why, sizeof(why), "spec.cluster");
  } else {
    char reasons[600];
    int at = placement_pick(spec->policy, d, ps->clusters, ps->nclusters, reasons, sizeof(reasons));
    if (at < 0) {
      char need[200];
      demand_text(d, need, sizeof(need));
      verdict_set(v, RT_STATE_PROGRESSING, "NoClusterFits", 1, "no cluster of %s has room for %s (%s): %s", project,
                  ps->words->demand, need, reasons);
      rt_condition_set(ps->status, "Placed", "False", v->reason, v->message, ps->gen, ps->now);
      rt_plan_requeue_after(ps->out, PLACEMENT_UNPLACED_POLL_MS);
      return;
    }
    chosen = ps->clusters[at].name;
    snprintf(why, sizeof(why), "policy %s", placement_policy_name(spec->policy));
  }
  json_object_set_new(ps->status, "cluster", json_string(chosen));
  verdict_set(v, RT_STATE_PROGRESSING, "Placed", 0, "placed on cluster %s (%s)", chosen, why);
  rt_condition_set(ps->status, "Placed", "True", v->reason, v->message, ps->gen, ps->now);
  rt_plan_event(ps->out, "Normal", "Placed", "%s", v->message);
  v->evented = 1;
}

static const char *prev_reachable(const placement_step *ps) {
  return js_str(rt_condition_get(json_object_get(ps->obj, "status"), "ClusterReachable"), "status");
}

void placement_unreachable(const placement_step *ps, const char *member, const placement_view *c) {
  char msg[900];
  snprintf(msg, sizeof(msg), "cluster %s: %s", member,
           c && c->message && *c->message ? c->message : c ? "not Ready" : "no such Cluster");
  if (!same_str(prev_reachable(ps), "False")) rt_plan_event(ps->out, "Warning", "ClusterUnreachable", "%s", msg);
  rt_condition_set(ps->status, "ClusterReachable", "False", "ClusterUnreachable", msg, ps->gen, ps->now);
  rt_plan_requeue_after(ps->out, PLACEMENT_MEMBER_POLL_MS);
}

void placement_reachable(const placement_step *ps, const char *member) {
  char msg[200];
  snprintf(msg, sizeof(msg), "cluster %s answers", member);
  if (same_str(prev_reachable(ps), "False")) rt_plan_event(ps->out, "Normal", "ClusterReachable", "%s", msg);
  rt_condition_set(ps->status, "ClusterReachable", "True", "ClusterReachable", msg, ps->gen, ps->now);
}

int placement_labelled_for(const json_t *obj, const json_t *child) {
  const char *uid = json_string_value(json_object_get(js_get(child, "metadata.labels"), PLACEMENT_OWNER_UID_LABEL));
  return uid && js_uid(obj) && strcmp(uid, js_uid(obj)) == 0;
}

json_t *placement_for_member(const placement_step *ps, json_t *desired) {
  if (desired == NULL) return NULL;
  json_object_del(json_object_get(desired, "metadata"), "ownerReferences");
  json_t *labels = js_ensure_obj(desired, "metadata.labels");
  json_object_set_new(labels, ps->words->label, json_string(js_name(ps->obj)));
  json_object_set_new(labels, PLACEMENT_OWNER_UID_LABEL, json_string(js_uid(ps->obj) ? js_uid(ps->obj) : ""));
  return desired;
}

void placement_cleanup_finish(const placement_step *ps, size_t left, size_t away, int64_t timeout_s,
                              const char *where, const char *left_behind) {
  if (left == 0) {
    rt_plan_remove_finalizer(ps->out, PLACEMENT_REMOTE_FINALIZER);
    return;
  }
  int64_t timeout = timeout_s > 0 ? timeout_s : PLACEMENT_REMOTE_CLEANUP_TIMEOUT_S;
  int64_t waited = ps->now - js_time(ps->obj, "metadata.deletionTimestamp");
  if (!away || waited < timeout) {
    rt_plan_requeue_after(ps->out, away ? PLACEMENT_MEMBER_POLL_MS : PLACEMENT_DELETION_POLL_MS);
    return;
  }
  rt_plan_remove_finalizer(ps->out, PLACEMENT_REMOTE_FINALIZER);
  rt_plan_event(ps->out, "Warning", "RemoteCleanupAbandoned",
                "a member cluster of the %s (%s) unreachable for %lld s after the deletion: the %s's children there "
                "(%s) may be left behind; delete them in the member",
                ps->words->noun, where, (long long)waited, ps->words->noun, left_behind);
}
