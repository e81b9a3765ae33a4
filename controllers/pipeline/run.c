/* The PipelineRun controller: gathers the run, its pipeline and templates
 * (until it starts), the TrainingJobs and batch Jobs of its namespace and
 * its outputs readers' pods from the cache, asks pl_run_plan (run_plan.c)
 * what to do, and lets rt_execute do it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

typedef struct run_ctl {
  pl_config config;
} run_ctl;

/* The objects of one namespace in store s (an empty list without a store). */
static void list_ns(const rt_ctx *ctx, const kube_resource *r, const char *ns, cache_list *out) {
  cache_store *s = rt_store(ctx, r);
  memset(out, 0, sizeof(*out));
  if (s) cache_store_by_index(s, CACHE_INDEX_NAMESPACE, ns, out);
}

/* The pods carrying the run's label (its outputs readers'), moved into out. */
static void reader_pods(const rt_ctx *ctx, const json_t *run, cache_list *out) {
  cache_list all = {0};
  cache_store *pods = rt_store(ctx, &kube_pods);
  if (pods) cache_store_by_namespaced_label(pods, PL_LABEL_RUN, js_namespace(run), js_name(run), &all);
  out->items = xcalloc(all.len + 1, sizeof(json_t *));
  out->len = 0;
  for (size_t i = 0; i < all.len; i++) {
    const char *label = json_string_value(json_object_get(js_get(all.items[i], "metadata.labels"), PL_LABEL_RUN));
    if (label && strcmp(label, js_name(run)) == 0) out->items[out->len++] = json_incref(all.items[i]);
  }
  cache_list_free(&all);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const run_ctl *rc = ctx->arg;
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (runs == NULL) return rt_requeue_after(5000);
  json_t *run = cache_store_get(runs, req->ns, req->name);
  if (run == NULL || js_get(run, "metadata.deletionTimestamp")) {
    json_decref(run);
    return rt_ok(); /* garbage collection takes the TrainingJobs */
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
  list_ns(ctx, &trainingjob_resource, req->ns, &tjs);
  list_ns(ctx, &kube_jobs, req->ns, &jobs);
  reader_pods(ctx, run, &pods);

  pl_run_in in = {run, pipeline, templates, &tjs, &jobs, &pods, rc->config.output_reader_image, time_wall_s()};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  rt_result r = rt_execute(ctx, &pl_pipelinerun_resource, run, &plan);

  rt_plan_free(&plan);
  cache_list_free(&tjs);
  cache_list_free(&jobs);
  cache_list_free(&pods);
  json_decref(templates);
  json_decref(pipeline);
  json_decref(run);
  return r;
}

/* ---------------------------------------------------------- mapping */

/* A reader pod maps to its run through Cubit's label. */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
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

int pipelinerun_controller_register(rt_manager *m, const json_t *settings) {
  run_ctl *rc = xcalloc(1, sizeof(*rc));
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
  def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
  def.watches[1] = (rt_watch_def){&pl_pipeline_resource, map_waiting_runs};
  def.watches[2] = (rt_watch_def){&pl_jobtemplate_resource, map_waiting_runs};
  def.watches[3] = (rt_watch_def){&pl_clusterjobtemplate_resource, map_waiting_runs};
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
