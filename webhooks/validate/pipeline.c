#include "webhooks/validate/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/cluster/placement.h"
#include "api/pipeline/pipeline.h"
#include "util/json.h"
#include "util/time.h"
#include "webhooks/validate/placement.h"

/* A scheduled run is named "<pipeline>-<10-digit tick>" and must stay a
 * 63-character label value. */
#define SCHEDULED_NAME_MAX 52

typedef struct lookup_ctx {
  const webhook_env *env;
  const char *ns;
  json_t *found[2 * PL_MAX_TASKS];
  size_t nfound;
} lookup_ctx;

/* Reads the store, giving an object created a moment ago (applied in the
 * same kubectl apply) time to reach the cache. */
static json_t *cache_wait(const webhook_env *env, cache_store *s, const char *ns, const char *name) {
  if (s == NULL) return NULL;
  json_t *o = cache_store_get(s, ns, name);
  int64_t deadline = time_mono_ms() + env->reference_wait_ms;
  while (o == NULL && time_mono_ms() < deadline) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    o = cache_store_get(s, ns, name);
  }
  return o;
}

static const json_t *lookup(pl_template_kind kind, const char *name, void *arg) {
  lookup_ctx *l = arg;
  int cluster = kind == PL_TEMPLATE_CLUSTER;
  json_t *t = cache_wait(l->env, cluster ? l->env->clusterjobtemplates : l->env->jobtemplates, cluster ? NULL : l->ns,
                         name);
  if (t == NULL || l->nfound == sizeof(l->found) / sizeof(l->found[0])) {
    json_decref(t);
    return NULL;
  }
  l->found[l->nfound++] = t;
  return json_object_get(t, "spec");
}

int validate_pipeline(const webhook_env *env, const json_t *pipeline, char *err, size_t errlen) {
  pl_spec s;
  if (pl_spec_parse(json_object_get(pipeline, "spec"), &s, err, errlen)) return CUBIT_EINVAL;
  int rc = 0;
  const char *name = js_name(pipeline);
  if (s.has_schedule && name && strlen(name) > SCHEDULED_NAME_MAX) {
    snprintf(err, errlen, "metadata.name: a scheduled pipeline's name has at most %d characters (its runs are named "
             "<pipeline>-<tick>)", SCHEDULED_NAME_MAX);
    rc = CUBIT_EINVAL;
  }
  /* The placement its scheduled runs get, judged as theirs will be. */
  placement_spec place;
  if (rc == 0 && (placement_spec_parse(json_object_get(pipeline, "spec"), &place, err, errlen) ||
                  validate_placement_cluster(env, pipeline, NULL, err, errlen)))
    rc = CUBIT_EINVAL;
  lookup_ctx l = {env, js_namespace(pipeline), {0}, 0};
  if (rc == 0) rc = pl_spec_check_templates(&s, lookup, &l, err, errlen);
  for (size_t k = 0; k < l.nfound; k++) json_decref(l.found[k]);
  pl_spec_free(&s);
  return rc;
}

void validate_pipeline_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (req->object == NULL || (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0))
    return;
  if (js_get(req->object, "metadata.deletionTimestamp")) return;
  char err[900];
  if (validate_pipeline(env, req->object, err, sizeof(err))) adm_deny(resp, 422, "Pipeline %s: %s", req->name, err);
}

int validate_pipelinerun(const webhook_env *env, const json_t *run, char *err, size_t errlen) {
  const char *pname = js_str(run, "spec.pipelineRef.name");
  const char *sched = js_str(run, "spec.scheduledTime");
  int64_t t;
  if (sched && time_parse_rfc3339(sched, &t)) {
    snprintf(err, errlen, "spec.scheduledTime: want an RFC 3339 time, got \"%s\"", sched);
    return CUBIT_EINVAL;
  }
  /* Placed as a whole (docs/multicluster.md): the grammar every placeable
   * kind shares, and a cluster of the namespace's project. */
  placement_spec place;
  if (placement_spec_parse(json_object_get(run, "spec"), &place, err, errlen) ||
      validate_placement_cluster(env, run, NULL, err, errlen))
    return CUBIT_EINVAL;
  /* A run may wait for its pipeline; when the pipeline is known, its
   * parameters are checked now. */
  json_t *p = pname && env->pipelines ? cache_store_get(env->pipelines, js_namespace(run), pname) : NULL;
  if (p == NULL) return 0;
  pl_params decls;
  char why[600];
  int rc = 0;
  if (pl_params_parse(js_get(p, "spec.parameters"), "spec.parameters", &decls, why, sizeof(why)) == 0) {
    json_t *values = NULL;
    if (pl_params_resolve(&decls, js_get(run, "spec.params"), "spec.params", &values, why, sizeof(why))) {
      snprintf(err, errlen, "%s (Pipeline %s)", why, pname);
      rc = CUBIT_EINVAL;
    }
    json_decref(values);
    pl_params_free(&decls);
  }
  json_decref(p);
  return rc;
}

int validate_pipelinerun_update(const json_t *old, const json_t *run, char *err, size_t errlen) {
  json_t *was = js_get(old, "spec.params"), *now = js_get(run, "spec.params");
  int same = (json_object_size(was) == 0 && json_object_size(now) == 0) || (was && now && json_equal(was, now));
  if (same) return 0;
  return cubit_errorf(err, errlen, CUBIT_EINVAL,
                      "spec.params: a run's spec cannot change (only spec.stopped may); create another run");
}

void validate_pipelinerun_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  char err[900];
  if (req->object && req->old_object && strcmp(req->operation, "UPDATE") == 0) {
    if (validate_pipelinerun_update(req->old_object, req->object, err, sizeof(err)))
      adm_deny(resp, 422, "PipelineRun %s: %s", req->name, err);
    return;
  }
  if (req->object == NULL || strcmp(req->operation, "CREATE") != 0) return;
  if (validate_pipelinerun(env, req->object, err, sizeof(err)))
    adm_deny(resp, 422, "PipelineRun %s: %s", req->name, err);
}
