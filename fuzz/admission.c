/* Every admission handler of webhooks/, one target each: the file is built
 * once per route with FUZZ_ROUTE naming it (fuzz/CMakeLists.txt). Input:
 * an AdmissionReview body, as the API server would POST it.
 *
 * Each request that parses is judged twice: with an empty env (stores that
 * exist but hold nothing, workload APIs absent, no GPU profile) and with
 * the filled env of admission_env.json (projects, namespaces, pods,
 * workloads, templates, a pipeline, a HAMi profile); each run gets fresh
 * quota reservations, so runs do not see each other.
 *
 * Properties (a handler is total over any JSON body, issue 13):
 *   - adm_request_parse refuses with a message or gives a request;
 *   - the handler returns; a denial has a 4xx/5xx code and a message;
 *   - the response review is JSON with the request's uid and a boolean
 *     allowed; a patch is only sent with an allowance and is an array of
 *     operations, each with a known op and a path that is a JSON pointer. */
#include <jansson.h>

#include "fuzz.h"
#include "util/time.h"
#include "webhooks/env.h"
#include "webhooks/pods/mutate.h"
#include "webhooks/quota/quota.h"
#include "webhooks/server.h"
#include "webhooks/validate/experiment.h"
#include "webhooks/validate/inferenceservice.h"
#include "webhooks/validate/jobtemplate.h"
#include "webhooks/validate/notebook.h"
#include "webhooks/validate/pipeline.h"
#include "webhooks/validate/project.h"
#include "webhooks/validate/trainingjob.h"

/* The routes of webhooks/webhooks.c. */
static const struct {
  const char *name;
  adm_handler_fn fn;
} routes[] = {
    {"mutate-pods", pods_mutate_handler},
    {"mutate-workloads", workloads_mutate_handler},
    {"validate-quota", quota_validate},
    {"validate-projects", validate_project_handler},
    {"validate-trainingjobs", validate_trainingjob_handler},
    {"validate-inferenceservices", validate_inferenceservice_handler},
    {"validate-notebooks", validate_notebook_handler},
    {"validate-jobtemplates", validate_jobtemplate_handler},
    {"validate-pipelines", validate_pipeline_handler},
    {"validate-pipelineruns", validate_pipelinerun_handler},
    {"validate-experiments", validate_experiment_handler},
};

static adm_handler_fn handler;
static int verbose; /* FUZZ_VERBOSE=1 prints every response review */
static webhook_env empty, filled; /* built once; handlers only read the stores */
static gpu_profile *gpu;

static cache_store *indexed_store(void) {
  cache_store *s = cache_store_new();
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  return s;
}

static cache_store *store_of(const json_t *objects) {
  cache_store *s = indexed_store();
  size_t i;
  json_t *o;
  json_array_foreach(objects, i, o) json_decref(cache_store_upsert(s, o));
  return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
    if (strcmp(routes[i].name, FUZZ_ROUTE) == 0) handler = routes[i].fn;
  if (handler == NULL) {
    fprintf(stderr, "fuzz admission: no route %s\n", FUZZ_ROUTE);
    abort();
  }
  verbose = getenv("FUZZ_VERBOSE") != NULL;
  json_error_t jerr;
  json_t *fx = json_load_file(FUZZ_ENV_JSON, 0, &jerr);
  char err[256];
  if (fx == NULL || gpu_profile_parse(json_object_get(fx, "gpu"), &gpu, err, sizeof(err)) != 0) {
    fprintf(stderr, "fuzz admission: %s: %s\n", FUZZ_ENV_JSON, fx ? err : jerr.text);
    abort();
  }
  empty.projects = indexed_store();
  empty.namespaces = indexed_store();
  empty.pods = indexed_store();
  empty.jobtemplates = indexed_store();
  empty.clusterjobtemplates = indexed_store();
  empty.pipelines = indexed_store();
  empty.reservation_ttl_ms = 30000;
  empty.reference_wait_ms = 0; /* a missing reference is not waited for */

  filled = empty;
  filled.projects = store_of(json_object_get(fx, "projects"));
  filled.namespaces = store_of(json_object_get(fx, "namespaces"));
  filled.pods = store_of(json_object_get(fx, "pods"));
  for (int i = 0; i < WL_COUNT; i++) {
    char key[8];
    snprintf(key, sizeof(key), "%d", i);
    filled.workloads[i] = store_of(json_object_get(json_object_get(fx, "workloads"), key));
  }
  filled.jobtemplates = store_of(json_object_get(fx, "jobtemplates"));
  filled.clusterjobtemplates = store_of(json_object_get(fx, "clusterjobtemplates"));
  filled.pipelines = store_of(json_object_get(fx, "pipelines"));
  filled.gpu = gpu;
  filled.gang.scheduler = GANG_VOLCANO;
  json_decref(fx);
  return 0;
}

static void check_patch(const json_t *patch) {
  FUZZ_ASSERT(json_is_array(patch), "the patch is no array");
  size_t i;
  json_t *op;
  json_array_foreach(patch, i, op) {
    const char *kind = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    FUZZ_ASSERT(kind && (strcmp(kind, "add") == 0 || strcmp(kind, "remove") == 0 || strcmp(kind, "replace") == 0 ||
                         strcmp(kind, "move") == 0 || strcmp(kind, "copy") == 0 || strcmp(kind, "test") == 0),
                "patch operation %zu has op %s", i, kind ? kind : "(none)");
    FUZZ_ASSERT(path && (path[0] == '\0' || path[0] == '/'), "patch operation %zu has path %s", i,
                path ? path : "(none)");
    FUZZ_ASSERT(strcmp(kind, "remove") == 0 || json_object_get(op, "value") != NULL || strcmp(kind, "move") == 0 ||
                    strcmp(kind, "copy") == 0,
                "patch operation %zu (%s %s) has no value", i, kind, path);
  }
}

static void judge(const adm_request *req, webhook_env *env) {
  env->reservations = quota_reservations_new();
  adm_response resp;
  adm_response_init(&resp);
  handler(req, &resp, env);
  if (!resp.allowed) {
    FUZZ_ASSERT(resp.code >= 400 && resp.code <= 599, "a denial with code %d", resp.code);
    FUZZ_ASSERT(resp.message[0] != '\0', "a denial without a message");
    FUZZ_ASSERT(resp.patch == NULL, "a denial with a patch");
  }
  if (resp.patch) check_patch(resp.patch);
  if (resp.warnings) FUZZ_ASSERT(json_is_array(resp.warnings), "warnings are no array");

  char *text = adm_response_json(req, &resp);
  FUZZ_ASSERT(text != NULL, "no response review");
  if (verbose) fprintf(stderr, "%s env: %s\n", env == &empty ? "empty" : "filled", text);
  json_error_t jerr;
  json_t *review = json_loads(text, 0, &jerr);
  FUZZ_ASSERT(review != NULL, "the response review is no JSON: %s", jerr.text);
  json_t *r = json_object_get(review, "response");
  const char *uid = json_string_value(json_object_get(r, "uid"));
  FUZZ_ASSERT(uid && strcmp(uid, req->uid ? req->uid : "") == 0, "the response does not echo the uid");
  FUZZ_ASSERT(json_is_boolean(json_object_get(r, "allowed")), "the response has no allowed");
  json_decref(review);
  free(text);
  adm_response_free(&resp);
  quota_reservations_free(env->reservations);
  env->reservations = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  adm_request req;
  char err[512] = "";
  int rc = adm_request_parse((const char *)data, size, &req, err, sizeof(err));
  if (rc) {
    FUZZ_ASSERT(rc == CUBIT_EINVAL && err[0], "adm_request_parse returned %d (%s)", rc, err);
    return 0;
  }
  judge(&req, &empty);
  judge(&req, &filled);
  adm_request_free(&req);
  return 0;
}
