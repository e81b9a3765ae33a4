/* The JobTemplate and ClusterJobTemplate controllers: one reconcile for
 * both kinds (the controller's argument is its primary resource) that
 * checks the template with the TrainingJob parser and writes its status
 * through pl_template_plan. */
#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/controller.h"
#include "util/json.h"
#include "util/time.h"

/* A workload checked as the TrainingJob controller would parse it. */
static int check_trainingjob(const json_t *tj, void *arg, char *err, size_t errlen) {
  tj_spec s;
  return tj_spec_parse(tj, &s, err, errlen) ? CUBIT_EINVAL : 0;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  const kube_resource *r = ctx->arg;
  cache_store *store = rt_store(ctx, r);
  if (store == NULL) return rt_requeue_after(5000);
  json_t *t = cache_store_get(store, req->ns, req->name);
  if (t == NULL || js_get(t, "metadata.deletionTimestamp")) {
    json_decref(t);
    return rt_ok();
  }
  rt_plan plan;
  rt_plan_init(&plan);
  pl_template_plan(t, check_trainingjob, NULL, time_wall_s(), &plan);
  rt_result result = rt_execute(ctx, r, t, &plan);
  rt_plan_free(&plan);
  json_decref(t);
  return result;
}

static int add(rt_manager *m, const char *name, const kube_resource *r) {
  rt_controller_def def = {0};
  def.name = name;
  def.primary = r;
  def.workers = 1;
  def.reconcile = reconcile;
  def.arg = (void *)r; /* static; read only */
  return rt_manager_add_controller(m, &def);
}

int jobtemplate_controllers_register(rt_manager *m) {
  int rc = add(m, "jobtemplate", &pl_jobtemplate_resource);
  return rc ? rc : add(m, "clusterjobtemplate", &pl_clusterjobtemplate_resource);
}
