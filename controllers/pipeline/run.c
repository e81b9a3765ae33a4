/* The PipelineRun controller: gathers the run, its pipeline and templates
 * (until it starts), the TrainingJobs and batch Jobs of its namespace and
 * its outputs readers' pods from the cache (a run placed on a member: the
 * Jobs, pods and work claim from the hub's cache of that member, and its
 * project's clusters), asks pl_run_plan (run_plan.c) what to do, and lets
 * rt_execute do it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/project/project.h"
#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/controller.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

typedef struct run_ctl {
  pl_config config;
  const gpu_profile *gpu; /* borrowed from the manager's settings */
} run_ctl;

/* The objects of one namespace in store s (an empty list without a store). */
static void list_ns(const rt_ctx *ctx, const kube_resource *r, const char *ns, cache_list *out) {
  cache_store *s = rt_store(ctx, r);
  memset(out, 0, sizeof(*out));
  if (s) cache_store_by_index(s, CACHE_INDEX_NAMESPACE, ns, out);
}

/* The pods carrying the run's label (its outputs readers'), moved into out:
 * the hub's, or those of the member the run is placed on. */
static void reader_pods(const rt_ctx *ctx, const char *member, const json_t *run, cache_list *out) {
  cache_list all = {0};
  cache_store *pods = member ? NULL : rt_store(ctx, &kube_pods);
  if (pods) cache_store_by_namespaced_label(pods, PL_LABEL_RUN, js_namespace(run), js_name(run), &all);
  if (member && rt_member_list(ctx, member, &kube_pods, js_namespace(run), &all)) memset(&all, 0, sizeof(all));
  out->items = xcalloc(all.len + 1, sizeof(json_t *));
  out->len = 0;
  for (size_t i = 0; i < all.len; i++) {
    const char *label = json_string_value(json_object_get(js_get(all.items[i], "metadata.labels"), PL_LABEL_RUN));
    if (label && strcmp(label, js_name(run)) == 0) out->items[out->len++] = json_incref(all.items[i]);
  }
  cache_list_free(&all);
}

/* What a run placed as a whole needs besides: its spec.cluster and
 * spec.placement, its project's clusters, and its work claim in its member. */
typedef struct run_placement {
  placement_spec spec;
  char error[300];
  placement_candidates clusters;
  json_t *claim;
} run_placement;

/* Fills the placement half of *in (nothing for a run naming neither
 * spec.cluster nor spec.placement); returns the member the run's children
 * live in, or NULL for the hub. */
static const char *gather_placement(const rt_ctx *ctx, const run_ctl *rc, const json_t *run, run_placement *p,
                                    pl_run_in *in) {
  memset(p, 0, sizeof(*p));
  const json_t *spec = json_object_get(run, "spec");
  if (json_object_get(spec, "cluster") == NULL && json_object_get(spec, "placement") == NULL) return NULL;
  if (placement_spec_parse(spec, &p->spec, p->error, sizeof(p->error))) {
    in->place_error = p->error;
    return NULL;
  }
  in->place = &p->spec;
  cache_store *namespaces = rt_store(ctx, &kube_namespaces);
  json_t *ns = namespaces ? cache_store_get(namespaces, NULL, js_namespace(run)) : NULL;
  const char *project = json_string_value(json_object_get(js_get(ns, "metadata.labels"), CUBIT_LABEL_PROJECT));
  /* The tasks' TrainingJobs are core Jobs or an engine's: the readers are
   * batch Jobs, so the member's cache of them must have listed. */
  placement_needs needs = {.api = &kube_jobs, .local_serves = 1};
  pl_run_demand(in, &needs.demand);
  placement_candidates_gather(ctx, project, js_str(run, "status.cluster"), &needs, rc->gpu, &p->clusters);
  json_decref(ns);
  in->clusters = p->clusters.views;
  in->nclusters = p->clusters.n;
  in->project_name = p->clusters.project_name;
  const char *cluster = placement_cluster_of(run, &p->spec, p->clusters.n);
  if (cluster == NULL || strcmp(cluster, CLUSTER_LOCAL) == 0) return NULL;
  char claim[300];
  snprintf(claim, sizeof(claim), "%s-work", js_name(run));
  p->claim = rt_member_get(ctx, cluster, &kube_pvcs, js_namespace(run), claim);
  in->member_claim = p->claim;
  return cluster;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const run_ctl *rc = ctx->arg;
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (runs == NULL) return rt_requeue_after(5000);
  json_t *run = cache_store_get(runs, req->ns, req->name);
  /* In the hub garbage collection takes the TrainingJobs and the rest; a
   * run placed on a member holds its finalizer until the plan cleaned there. */
  if (run == NULL || (js_get(run, "metadata.deletionTimestamp") && !rt_has_finalizer(run, PLACEMENT_REMOTE_FINALIZER))) {
    json_decref(run);
    return rt_ok();
  }
  /* The pipeline and templates matter until the run has its own copies. */
  json_t *pipeline = NULL, *templates = NULL;
  const char *pname = js_str(run, "spec.pipelineRef.name");
  if (js_get(run, "status.pipelineSpec") == NULL && pname) {
    cache_store *pipelines = rt_store(ctx, &pl_pipeline_resource);
    pipeline = pipelines ? cache_store_get(pipelines, req->ns, pname) : NULL;
    if (pipeline) templates = pl__gather_templates(ctx, json_object_get(pipeline, "spec"), req->ns);
  }
  cache_list tjs, jobs, pods;
  pl_run_in in = {.run = run, .pipeline = pipeline, .templates = templates, .trainingjobs = &tjs, .jobs = &jobs,
                  .pods = &pods, .reader_image = rc->config.output_reader_image, .now = time_wall_s()};
  list_ns(ctx, &trainingjob_resource, req->ns, &tjs);
  run_placement place;
  const char *member = gather_placement(ctx, rc, run, &place, &in);
  if (member == NULL) list_ns(ctx, &kube_jobs, req->ns, &jobs);
  else if (rt_member_list(ctx, member, &kube_jobs, req->ns, &jobs)) memset(&jobs, 0, sizeof(jobs));
  reader_pods(ctx, member, run, &pods);

  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  rt_result r = rt_execute(ctx, &pl_pipelinerun_resource, run, &plan);

  rt_plan_free(&plan);
  placement_candidates_free(&place.clusters);
  json_decref(place.claim);
  cache_list_free(&tjs);
  cache_list_free(&jobs);
  cache_list_free(&pods);
  json_decref(templates);
  json_decref(pipeline);
  json_decref(run);
  return r;
}

/* ---------------------------------------------------------- mapping */

/* A reader pod (or, in a member, any child) maps to its run through
 * Cubit's label. */
static char **map_labelled(const rt_ctx *ctx, const json_t *pod) {
  const char *run = json_string_value(json_object_get(js_get(pod, "metadata.labels"), PL_LABEL_RUN));
  if (run == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(js_namespace(pod), run);
  return keys;
}

/* A Pipeline (or template) that appears maps to the runs waiting for it. */
static char **map_waiting_runs(const rt_ctx *ctx, const json_t *obj) {
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (runs == NULL) return NULL;
  cache_list l;
  cache_store_list(runs, js_namespace(obj), &l);
  char **keys = xcalloc(l.len + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < l.len; i++)
    if (js_get(l.items[i], "status.pipelineSpec") == NULL) keys[n++] = cache_key(l.items[i]);
  cache_list_free(&l);
  return keys;
}

/* A Cluster's change reaches the runs placed on it and those waiting for
 * room (placement_keys_for_cluster). */
static char **map_cluster(const rt_ctx *ctx, const json_t *cluster) {
  return placement_keys_for_cluster(ctx, &pl_pipelinerun_resource, cluster);
}

int pipelinerun_controller_register(rt_manager *m, const json_t *settings, const gpu_profile *gpu) {
  run_ctl *rc = xcalloc(1, sizeof(*rc));
  rc->gpu = gpu;
  char err[256];
  if (pl_config_parse(settings, &rc->config, err, sizeof(err))) {
    log_error("manager", "bad pipeline settings in --config", "error=\"%s\"", err);
    free(rc);
    return CUBIT_EINVAL;
  }
  rt_controller_def def = {0};
  def.name = "pipelinerun";
  def.primary = &pl_pipelinerun_resource;
  def.owns[0] = &trainingjob_resource;
  def.owns[1] = &kube_jobs;
  def.owns[2] = &kube_pvcs;
  def.watches[0] = (rt_watch_def){&kube_pods, map_labelled};
  def.watches[1] = (rt_watch_def){&pl_pipeline_resource, map_waiting_runs};
  def.watches[2] = (rt_watch_def){&pl_jobtemplate_resource, map_waiting_runs};
  def.watches[3] = (rt_watch_def){&pl_clusterjobtemplate_resource, map_waiting_runs};
  /* A run placed as a whole (docs/multicluster.md): the reachability and
   * room of its project's clusters (the namespace names the project; the
   * hub's nodes are its room), and in its member the work claim, the
   * outputs readers and their pods, mapped back by the run's label. */
  def.watches[4] = (rt_watch_def){&cluster_resource, map_cluster};
  def.reads[0] = &kube_namespaces;
  def.reads[1] = &project_resource;
  def.reads[2] = &kube_nodes;
  def.member_watches[0] = (rt_watch_def){&kube_jobs, map_labelled};
  def.member_watches[1] = (rt_watch_def){&kube_pods, map_labelled};
  def.member_watches[2] = (rt_watch_def){&kube_pvcs, map_labelled};
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = rc;
  def.free_arg = free;
  int r = rt_manager_add_controller(m, &def);
  if (r) {
    free(rc);
    return r;
  }
  rt_manager_index_label(m, &kube_pods, PL_LABEL_RUN); /* reader_pods */
  return 0;
}
