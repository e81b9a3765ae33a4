#include "webhooks/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
#include "api/project/project.h"
#include "runtime/authz.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "webhooks/pods/mutate.h"
#include "webhooks/quota/quota.h"
#include "webhooks/server.h"
#include "webhooks/validate/experiment.h"
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
    {"/validate-experiments", validate_experiment_handler},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Releases reservations as their objects reach one informer's cache. */
typedef struct arrival {
  quota_reservations *reservations;
  int kind; /* -1 for pods, a workload index, or QUOTA_KIND_SERVICE(svc) */
} arrival;

struct webhooks {
  webhook_env env;
  webhook_identities identities;
  webhook_route routes[NROUTES];
  arrival arrivals[1 + WL_COUNT + SVC_COUNT];
  rt_authz *authz;
};

static void arrived(json_t *obj, void *arg) {
  const arrival *a = arg;
  const char *ns = js_namespace(obj), *name = js_name(obj);
  if (ns && name)
    quota_reservations_release(a->reservations, a->kind, ns, name, js_int(obj, "metadata.generation", 0),
                               quota_cluster_of(a->kind, obj));
}

static void changed(json_t *old_obj, json_t *new_obj, void *arg) { arrived(new_obj, arg); }

/* ------------------------------------------------------- authorisation */

static const kube_resource selfsubjectreviews = {"authentication.k8s.io", "v1", "selfsubjectreviews",
                                                 "SelfSubjectReview", 0};

/* The requester's own question to the API server's authorizers, asked as
 * the manager (it may create SubjectAccessReviews). */
static int authorize_sar(const json_t *user_info, const webhook_access *a, char *why, size_t whylen, void *arg) {
  rt_access x = {a->verb, a->group, a->resource, a->subresource, a->namespace, a->name, NULL};
  return rt_authz_review(arg, user_info, &x, time_wall_s(), why, whylen);
}

/* Who the manager is to the API server (it creates TrainingJobs' children
 * and propagates creators); NULL when it cannot tell. Caller frees. */
static char *manager_username(kube_client *client) {
  json_t *review = json_pack("{s:s, s:s}", "apiVersion", "authentication.k8s.io/v1", "kind", "SelfSubjectReview");
  json_t *out = NULL;
  kube_status st;
  memset(&st, 0, sizeof(st));
  int rc = kube_create(client, &selfsubjectreviews, NULL, review, &out, &st);
  json_decref(review);
  const char *user = rc == 0 ? js_str(out, "status.userInfo.username") : NULL;
  char *copy = user ? xstrdup(user) : NULL;
  if (copy == NULL)
    log_warn("webhook", "cannot tell the manager's own username; its objects are charged to it",
             "error=\"%s\"", rc ? (st.message[0] ? st.message : cubit_strerror(rc)) : "no username");
  json_decref(out);
  return copy;
}

/* A member's pods of one namespace, from the hub's cache of that member
 * (webhook_member_pods_fn; arg: the manager). Members are connected on the
 * leader only: elsewhere none is cached and none is counted. */
static int member_pods(const char *cluster, const char *ns, cache_list *out, void *arg) {
  rt_ctx ctx = {.mgr = arg};
  return rt_member_list(&ctx, cluster, &kube_pods, ns, out);
}

int webhooks_register(rt_manager *m, const gpu_profile *gpu, const gang_config *gang, int history, webhooks **out) {
  webhooks *w = xcalloc(1, sizeof(*w));
  webhook_env *env = &w->env;
  char err[512];
  kube_client *client = rt_manager_client(m);
  char *me = client ? manager_username(client) : NULL;
  int rc = webhook_identities_parse(json_object_get(rt_manager_config(m), "tenancy"), me, &w->identities, err,
                                    sizeof(err));
  free(me);
  if (rc) {
    log_error("webhook", "bad tenancy settings in --config", "error=\"%s\"", err);
    webhooks_free(w);
    return rc;
  }
  env->identities = &w->identities;
  /* Admission asks every access afresh (a revoked role counts at once); the
   * requests were authenticated by the API server, so no flood to bound. */
  rt_authz_options ao = {.uncached_access = 1, .max_inflight = 64};
  w->authz = rt_authz_new(client, &ao);
  env->history = history;
  env->authorize = authorize_sar;
  env->authorize_arg = w->authz;
  env->reservations = quota_reservations_new();
  env->projects = cache_informer_store(rt_manager_informer(m, &project_resource));
  env->namespaces = cache_informer_store(rt_manager_informer(m, &kube_namespaces));
  for (int i = -1; i < WL_COUNT; i++) {
    cache_informer *inf = rt_manager_informer(m, i < 0 ? &kube_pods : &webhook_workload_resources[i]);
    if (i < 0) env->pods = cache_informer_store(inf);
    else env->workloads[i] = cache_informer_store(inf);
    w->arrivals[i + 1] = (arrival){env->reservations, i};
    cache_handlers h = {arrived, changed, NULL, &w->arrivals[i + 1]};
    cache_informer_add_handlers(inf, &h);
  }
  for (int i = 0; i < APPS_COUNT; i++)
    env->apps[i] = cache_informer_store(rt_manager_informer(m, &webhook_apps_resources[i]));
  /* Notebooks and InferenceServices: held whole where placed on a member. */
  for (int i = 0; i < SVC_COUNT; i++) {
    cache_informer *inf = rt_manager_informer(m, webhook_service_resources[i]);
    env->services[i] = cache_informer_store(inf);
    arrival *a = &w->arrivals[1 + WL_COUNT + i];
    *a = (arrival){env->reservations, QUOTA_KIND_SERVICE(i)};
    cache_handlers h = {arrived, changed, NULL, a};
    cache_informer_add_handlers(inf, &h);
  }
  env->gpu = gpu;
  if (gang) env->gang = *gang;
  env->reservation_ttl_ms = 30000;
  env->jobtemplates = cache_informer_store(rt_manager_informer(m, &pl_jobtemplate_resource));
  env->clusterjobtemplates = cache_informer_store(rt_manager_informer(m, &pl_clusterjobtemplate_resource));
  env->pipelines = cache_informer_store(rt_manager_informer(m, &pl_pipeline_resource));
  env->reference_wait_ms = 2000;
  env->member_pods = member_pods;
  env->member_pods_arg = m;
  http_server *s = rt_manager_webhook_server(m);
  metrics_registry *reg = rt_manager_metrics(m);
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
  webhook_identities_free(&w->identities);
  rt_authz_free(w->authz);
  free(w);
}
