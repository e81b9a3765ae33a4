#include "webhooks/webhooks.h"

#include <stdlib.h>

#include "api/pipeline/pipeline.h"
#include "controllers/project/project.h"
#include "util/alloc.h"
#include "util/json.h"
#include "webhooks/pods/mutate.h"
#include "webhooks/quota/quota.h"
#include "webhooks/server.h"
#include "webhooks/validate/inferenceservice.h"
#include "webhooks/validate/notebook.h"
#include "webhooks/validate/jobtemplate.h"
#include "webhooks/validate/pipeline.h"
#include "webhooks/validate/project.h"
#include "webhooks/validate/trainingjob.h"

/* Every admission route: its path (the name without the slash) and handler. */
static const struct {
  const char *path;
  adm_handler_fn fn;
} routes[] = {
    {"/mutate-pods", pods_mutate_handler},
    {"/mutate-workloads", workloads_mutate_handler},
    {"/validate-quota", quota_validate},
    {"/validate-projects", validate_project_handler},
    {"/validate-trainingjobs", validate_trainingjob_handler},
    {"/validate-inferenceservices", validate_inferenceservice_handler},
    {"/validate-notebooks", validate_notebook_handler},
    {"/validate-jobtemplates", validate_jobtemplate_handler},
    {"/validate-pipelines", validate_pipeline_handler},
    {"/validate-pipelineruns", validate_pipelinerun_handler},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Releases reservations as their objects reach one informer's cache. */
typedef struct arrival {
  quota_reservations *reservations;
  int workload; /* -1 for pods */
} arrival;

struct webhooks {
  webhook_env env;
  webhook_route routes[NROUTES];
  arrival arrivals[1 + WL_COUNT];
};

static void arrived(json_t *obj, void *arg) {
  const arrival *a = arg;
  const char *ns = js_namespace(obj), *name = js_name(obj);
  if (ns && name) quota_reservations_release(a->reservations, a->workload, ns, name);
}

int webhooks_register(rt_manager *m, const gpu_profile *gpu, const gang_config *gang, webhooks **out) {
  webhooks *w = xcalloc(1, sizeof(*w));
  webhook_env *env = &w->env;
  env->reservations = quota_reservations_new();
  env->projects = cache_informer_store(rt_manager_informer(m, &project_resource));
  env->namespaces = cache_informer_store(rt_manager_informer(m, &kube_namespaces));
  for (int i = -1; i < WL_COUNT; i++) {
    cache_informer *inf = rt_manager_informer(m, i < 0 ? &kube_pods : &webhook_workload_resources[i]);
    if (i < 0) env->pods = cache_informer_store(inf);
    else env->workloads[i] = cache_informer_store(inf);
    w->arrivals[i + 1] = (arrival){env->reservations, i};
    cache_handlers h = {arrived, NULL, NULL, &w->arrivals[i + 1]};
    cache_informer_add_handlers(inf, &h);
  }
  env->gpu = gpu;
  if (gang) env->gang = *gang;
  env->reservation_ttl_ms = 30000;
  env->jobtemplates = cache_informer_store(rt_manager_informer(m, &pl_jobtemplate_resource));
  env->clusterjobtemplates = cache_informer_store(rt_manager_informer(m, &pl_clusterjobtemplate_resource));
  env->pipelines = cache_informer_store(rt_manager_informer(m, &pl_pipeline_resource));
  env->reference_wait_ms = 2000;
  http_server *s = rt_manager_webhook_server(m);
  metrics_registry *reg = rt_manager_metrics(m);
  int rc = 0;
  for (size_t i = 0; s && rc == 0 && i < NROUTES; i++)
    rc = webhook_serve(s, reg, &w->routes[i], routes[i].path, routes[i].path + 1, routes[i].fn, env);
  if (rc) {
    webhooks_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

void webhooks_free(webhooks *w) {
  if (w == NULL) return;
  quota_reservations_free(w->env.reservations);
  free(w);
}
